// The one place where names and values become SQL or pg_hba.conf text.
// https://www.postgresql.org/docs/17/sql-syntax-lexical.html#SQL-SYNTAX-IDENTIFIERS

/** A double-quoted SQL identifier; embedded quotes are doubled. */
export function ident(name: string): string {
  if (name.includes("\0")) throw new Error("identifier contains a NUL byte");
  return `"${name.replace(/"/g, '""')}"`;
}

/** `schema.name`, each part quoted. */
export function qualified(schema: string, name: string): string {
  return `${ident(schema)}.${ident(name)}`;
}

/**
 * A SQL string literal. Uses the E'' form with backslashes doubled when the value has any,
 * so the result means the same whatever standard_conforming_strings is.
 */
export function literal(value: string): string {
  if (value.includes("\0")) throw new Error("literal contains a NUL byte");
  const body = value.replace(/'/g, "''");
  return value.includes("\\") ? `E'${body.replace(/\\/g, "\\\\")}'` : `'${body}'`;
}

const hbaKeywords = new Set([
  "all",
  "sameuser",
  "samerole",
  "samegroup",
  "replication",
  "samehost",
  "samenet",
]);

/**
 * A database or role name as a pg_hba.conf token: bare when it is plain lower-case and not a
 * keyword, else double-quoted (a quoted keyword names the object, not the keyword).
 * https://www.postgresql.org/docs/17/auth-pg-hba-conf.html
 */
export function hbaToken(name: string): string {
  if (/^[a-z0-9_]+$/.test(name) && !hbaKeywords.has(name)) return name;
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * A libpq connection-string value: bare when plain, else single-quoted with \ and ' escaped.
 * https://www.postgresql.org/docs/17/libpq-connect.html#LIBPQ-CONNSTRING
 */
export function conninfoValue(v: string): string {
  return /^[A-Za-z0-9_./:-]+$/.test(v) ? v : `'${v.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

/**
 * A line of a libpq password file, host:port:database:user:password with : and \ escaped.
 * https://www.postgresql.org/docs/17/libpq-pgpass.html
 */
export function passfileEntry(
  host: string,
  port: number,
  database: string,
  user: string,
  password: string,
): string {
  const esc = (v: string) => v.replace(/[\\:]/g, (c) => `\\${c}`);
  return `${esc(host)}:${port}:${esc(database)}:${esc(user)}:${esc(password)}\n`;
}

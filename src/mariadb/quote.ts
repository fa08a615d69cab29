import { createHash } from "node:crypto";
import { isIPv4 } from "node:net";

// The one place MariaDB text is quoted. Every statement dbmesh builds for a MariaDB server
// goes through these functions; names and values are never concatenated elsewhere.
// https://mariadb.com/kb/en/identifier-names/ and https://mariadb.com/kb/en/string-literals/

/**
 * A quoted identifier: backticks, an embedded backtick doubled. NUL cannot appear in an
 * identifier, and MariaDB strips trailing spaces from names, so both are refused.
 */
export function ident(name: string): string {
  if (name.includes("\0")) throw new Error(`a MariaDB identifier cannot contain NUL: ${name}`);
  return `\`${name.replace(/`/g, "``")}\``;
}

/** `db`.`table`. */
export function qualified(database: string, table: string): string {
  return `${ident(database)}.${ident(table)}`;
}

const escapes: Record<string, string> = {
  "\0": "\\0",
  "'": "''",
  "\\": "\\\\",
  "\n": "\\n",
  "\r": "\\r",
  "\x1a": "\\Z",
};

/**
 * A string literal. Backslash escapes assume NO_BACKSLASH_ESCAPES is off, which dbmesh's own
 * sessions make sure of (see `sessionSetup`); the quote is doubled, which works in both modes.
 */
export function literal(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL and Ctrl-Z are escaped on purpose
  return `'${value.replace(/[\0'\\\n\r\x1a]/g, (c) => escapes[c]!)}'`;
}

/** The account a user logs in as from a host: 'user'@'host'. */
export function account(user: string, host: string): string {
  return `${literal(user)}@${literal(host)}`;
}

/**
 * A database name as GRANT and REVOKE take it: `_` and `%` are wildcards there, so they are
 * escaped to match only this database. https://mariadb.com/kb/en/grant/#database-privileges
 */
export function grantDatabase(name: string): string {
  return ident(name.replace(/[\\_%]/g, (c) => `\\${c}`));
}

/** The Db column of mysql.db for a grant on exactly this database (as `grantDatabase` writes it). */
export function grantDatabasePattern(name: string): string {
  return name.replace(/[\\_%]/g, (c) => `\\${c}`);
}

/**
 * The host part of an account for an address of `from:`: an address as it is, a CIDR block as
 * MariaDB's address/netmask form (its network address), /0 as '%'.
 * https://mariadb.com/kb/en/create-user/#host-name-component
 */
export function accountHost(from: string): string {
  const [ip = "", bits] = from.split("/");
  if (!isIPv4(ip)) throw new Error(`not an IPv4 address or CIDR block: ${from}`);
  if (bits === undefined || Number(bits) === 32) return ip;
  const n = Number(bits);
  if (n === 0) return "%";
  const mask = (0xffffffff << (32 - n)) >>> 0;
  const addr = ip.split(".").reduce((a, o) => (a << 8) + Number(o), 0) >>> 0;
  return `${dotted((addr & mask) >>> 0)}/${dotted(mask)}`;
}

function dotted(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 0xff).join(".");
}

/**
 * mysql_native_password's stored form of a password: "*" and the upper-case hex of
 * SHA1(SHA1(password)). dbmesh sends this instead of the password (IDENTIFIED BY PASSWORD),
 * and compares it with mysql.user to find a changed password.
 * https://mariadb.com/kb/en/authentication-plugin-mysql_native_password/
 */
export function nativePasswordHash(password: string): string {
  const once = createHash("sha1").update(password, "utf8").digest();
  return `*${createHash("sha1").update(once).digest("hex").toUpperCase()}`;
}

/** Statements shown to people: password hashes and passwords replaced by a mask. */
export function maskPasswords(sql: string): string {
  return sql.replace(
    /(\b(?:PASSWORD|IDENTIFIED BY)\s*\(?\s*)'(?:[^'\\]|''|\\.)*'/gi,
    "$1'********'",
  );
}

/** Whether an account's host part ('10.0.0.0/255.255.255.0', '%', an address) admits an IPv4 address. */
export function accountHostAdmits(host: string, ip: string): boolean {
  if (host === "%") return true;
  const [net = "", mask] = host.split("/");
  if (mask === undefined) return net === ip;
  if (!isIPv4(net) || !isIPv4(mask) || !isIPv4(ip)) return false;
  const n = (s: string) => s.split(".").reduce((a, o) => (a << 8) + Number(o), 0) >>> 0;
  return (n(ip) & n(mask)) >>> 0 === n(net);
}

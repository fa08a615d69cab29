// PostgreSQL column types as MariaDB CONNECT ODBC columns. CONNECT tables have no TEXT/BLOB
// columns and its ODBC tables no binary ones, so some types map with a caveat (a note the plan
// shows) and some not at all (a refusal that says why and what to do).
// https://mariadb.com/kb/en/connect-data-types/

/** The varchar length unbounded text maps to unless the link's options say text_length. */
export const DEFAULT_TEXT_LENGTH = 2000;

/** MariaDB's largest DECIMAL: 65 digits, 38 after the point. */
const MAX_PRECISION = 65;
const MAX_SCALE = 38;
/** utf8mb4 characters per row stay under MariaDB's 65,535-byte row limit at this length. */
const MAX_VARCHAR = 16_383;

export type MappedType =
  | { readonly ok: true; readonly type: string; readonly note?: string }
  | { readonly ok: false; readonly reason: string };

const exact: Record<string, string> = {
  smallint: "smallint",
  integer: "int",
  bigint: "bigint",
  real: "float",
  "double precision": "double",
  boolean: "tinyint(1)",
  date: "date",
  uuid: "char(36)",
};

/**
 * The MariaDB type of a PostgreSQL column, from `format_type(atttypid, atttypmod)`
 * (`numeric(10,2)`, `character varying(20)`, `timestamp(3) with time zone`).
 */
export function mariadbTypeOf(pgType: string, textLength = DEFAULT_TEXT_LENGTH): MappedType {
  const known = exact[pgType];
  if (known) return { ok: true, type: known };
  if (pgType.endsWith("[]")) {
    return {
      ok: false,
      reason: `${pgType} is an array, which MariaDB has no column type for; expose array_to_string(…) or the rows of unnest(…) through a view`,
    };
  }
  let m = /^numeric\((\d+),(\d+)\)$/.exec(pgType);
  if (m) {
    const [p, s] = [Number(m[1]), Number(m[2])];
    if (p <= MAX_PRECISION && s <= MAX_SCALE) return { ok: true, type: `decimal(${p},${s})` };
    return {
      ok: false,
      reason: `${pgType} is wider than MariaDB's largest decimal(${MAX_PRECISION},${MAX_SCALE})`,
    };
  }
  if (pgType === "numeric") {
    return {
      ok: true,
      type: "decimal(65,30)",
      note: "numeric without a precision → decimal(65,30): digits beyond 35 before or 30 after the point are lost",
    };
  }
  m = /^character varying\((\d+)\)$/.exec(pgType);
  if (m) {
    const n = Number(m[1]);
    if (n <= MAX_VARCHAR) return { ok: true, type: `varchar(${n})` };
    return {
      ok: true,
      type: `varchar(${MAX_VARCHAR})`,
      note: `${pgType} → varchar(${MAX_VARCHAR}): longer values are cut`,
    };
  }
  m = /^character\((\d+)\)$/.exec(pgType);
  if (m) {
    const n = Number(m[1]);
    return n <= 255 ? { ok: true, type: `char(${n})` } : { ok: true, type: `varchar(${n})` };
  }
  if (pgType === "text" || pgType === "character varying") {
    return {
      ok: true,
      type: `varchar(${textLength})`,
      note: `${pgType} → varchar(${textLength}): longer values are cut (options: text_length)`,
    };
  }
  if (pgType === "json" || pgType === "jsonb") {
    return {
      ok: true,
      type: `varchar(${textLength})`,
      note: `${pgType} → varchar(${textLength}) holding the JSON text: longer documents are cut`,
    };
  }
  // CONNECT keeps dates and times as whole seconds: a fraction the column can hold is dropped.
  m = /^(timestamp|time)(?:\((\d)\))? with(out)? time zone$/.exec(pgType);
  if (m) {
    const type = m[1] === "timestamp" ? "datetime" : "time";
    if (m[1] === "time" && !m[3])
      return {
        ok: false,
        reason: `${pgType} has no MariaDB counterpart (a time of day with a zone); expose it cast to time or text through a view`,
      };
    const notes = [
      ...(m[2] === "0" ? [] : ["fractions of a second are dropped (CONNECT reads whole seconds)"]),
      ...(m[3] ? [] : ["read in UTC (the data source sets TimeZone UTC)"]),
    ];
    return notes.length
      ? { ok: true, type, note: `${pgType} → ${type}: ${notes.join(", ")}` }
      : { ok: true, type };
  }
  if (pgType === "bytea") {
    return {
      ok: false,
      reason:
        "bytea: CONNECT's ODBC tables have no binary column type; expose encode(column, 'hex') through a view",
    };
  }
  return {
    ok: false,
    reason: `${pgType} has no MariaDB column type CONNECT reads cleanly; expose it cast to text (column::text) through a view`,
  };
}

/** A name CONNECT can send to PostgreSQL as it is: CONNECT's ODBC tables do not quote column names. */
export function plainIdentifier(name: string): boolean {
  return /^[a-z_][a-z0-9_$]*$/.test(name);
}

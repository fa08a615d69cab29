// Only IMMUTABLE and STABLE functions are guaranteed not to modify the database, so only they
// may run on a standby; VOLATILE is the default for CREATE FUNCTION.
// https://www.postgresql.org/docs/17/xfunc-volatility.html

/** A function's volatility as pg_proc.provolatile says, or "unknown" when the name is not found. */
export type Volatility = "immutable" | "stable" | "volatile" | "unknown";

/**
 * Answers for a function name as written in a statement: `schema` is undefined when the name is
 * unqualified. "volatile" and "unknown" send the statement to the primary (fail closed).
 */
export type VolatilityOracle = (schema: string | undefined, name: string) => Volatility;

/** The oracle used before pg_proc is loaded: every function is unknown, so any call needs the primary. */
export const unknownVolatility: VolatilityOracle = () => "unknown";

/**
 * One row per (schema, name) with the worst volatility among all its overloads: the classifier
 * sees names, not argument types, so a name is safe only if every overload is. Run it on the
 * node whose catalog the router trusts (the primary; standbys replay the same catalog).
 * https://www.postgresql.org/docs/17/catalog-pg-proc.html
 */
export const VOLATILITY_SQL = `SELECT n.nspname AS schema, p.proname AS name,
  CASE WHEN bool_or(p.provolatile = 'v') THEN 'v'
       WHEN bool_or(p.provolatile = 's') THEN 's'
       ELSE 'i' END AS volatility
FROM pg_catalog.pg_proc p
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
GROUP BY n.nspname, p.proname`;

/** A row of VOLATILITY_SQL: volatility is provolatile's letter (i, s or v). */
export interface ProcVolatilityRow {
  readonly schema: string;
  readonly name: string;
  readonly volatility: string;
}

export interface OracleOptions {
  /**
   * Schemas an unqualified name resolves in; default pg_catalog then public. A simplification of
   * the server's search_path ("$user", SET search_path and pg_temp are not followed): an
   * unqualified name takes the worst volatility over every listed schema that has it, and a name
   * in none of them is unknown.
   */
  readonly searchPath?: readonly string[];
}

const rank: Record<Volatility, number> = { immutable: 0, stable: 1, volatile: 2, unknown: 3 };

function fromLetter(letter: string): Volatility {
  return letter === "i"
    ? "immutable"
    : letter === "s"
      ? "stable"
      : letter === "v"
        ? "volatile"
        : "unknown";
}

function worse(a: Volatility | undefined, b: Volatility): Volatility {
  return a === undefined || rank[b] > rank[a] ? b : a;
}

/**
 * Builds an oracle from VOLATILITY_SQL's rows. Pure; rows that repeat a (schema, name) pair are
 * merged to the worst volatility, so un-aggregated pg_proc rows work too. Lookups are one Map get.
 */
export function oracleFromRows(
  rows: Iterable<ProcVolatilityRow>,
  options: OracleOptions = {},
): VolatilityOracle {
  const searchPath = options.searchPath ?? ["pg_catalog", "public"];
  const inPath = new Set(searchPath);
  const qualified = new Map<string, Volatility>();
  const unqualified = new Map<string, Volatility>();
  for (const row of rows) {
    const v = fromLetter(row.volatility);
    const key = `${row.schema}\0${row.name}`;
    qualified.set(key, worse(qualified.get(key), v));
    if (inPath.has(row.schema)) unqualified.set(row.name, worse(unqualified.get(row.name), v));
  }
  return (schema, name) =>
    (schema === undefined ? unqualified.get(name) : qualified.get(`${schema}\0${name}`)) ??
    "unknown";
}

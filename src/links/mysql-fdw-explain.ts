// mysql_fdw's EXPLAIN VERBOSE says what it sends to MariaDB as "Remote query" (postgres_fdw says
// "Remote SQL"), and names the tables of a pushed-down join or aggregate in "Relations" by
// their MariaDB names (`Aggregate on (orders.t)`, `(orders.t r1) INNER JOIN (orders.b r2)`),
// where postgres_fdw uses the local foreign tables' names. These functions rewrite a plan into
// postgres_fdw's shape, so one reader (sharding/explain-plan.ts) reports both.
// https://github.com/EnterpriseDB/mysql_fdw (README: "Join push-down", "Aggregate push-down",
// "ORDER BY push-down", "LIMIT OFFSET push-down").

/**
 * A mysql_fdw foreign table: local schema.table and the MariaDB database and table it reads
 * (a row of sharding's foreignTablesSql whose mysql_dbname is set).
 */
export interface MysqlForeignTable {
  readonly schema: string;
  readonly table: string;
  readonly server: string;
  readonly dbname: string;
  readonly remote_table: string;
}

type Json = { [k: string]: unknown };

/**
 * The EXPLAIN (FORMAT JSON) result with each mysql_fdw Foreign Scan's "Remote query" copied to
 * "Remote SQL" and its "Relations" naming the local foreign tables. Other nodes are untouched.
 */
export function asPostgresFdwPlan(plan: unknown, tables: readonly MysqlForeignTable[]): unknown {
  if (tables.length === 0) return plan;
  const local = new Map<string, string>();
  for (const t of tables) {
    const key = `${t.dbname}.${t.remote_table}`;
    if (!local.has(key)) local.set(key, `${t.schema}.${t.table}`);
  }
  const visit = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(visit);
    if (v === null || typeof v !== "object") return v;
    const n = v as Json;
    const out: Json = {};
    for (const [k, x] of Object.entries(n)) out[k] = visit(x);
    if (typeof n["Remote query"] === "string" && n["Remote SQL"] === undefined) {
      out["Remote SQL"] = n["Remote query"];
      if (typeof n.Relations === "string") out.Relations = localRelations(n.Relations, local);
    }
    return out;
  };
  return visit(plan);
}

/** `(orders.t r1) INNER JOIN (orders.b r2)` with each MariaDB name replaced by its local one. */
function localRelations(text: string, local: ReadonlyMap<string, string>): string {
  return text.replace(/\(([^()\s]+)((?:\s+[^()\s]+)?)\)/g, (all, name: string, alias: string) => {
    const l = local.get(name);
    return l ? `(${quoteParts(l)}${alias})` : all;
  });
}

/** schema.table as EXPLAIN prints names: double quotes only where a part needs them. */
function quoteParts(qualifiedName: string): string {
  return qualifiedName
    .split(".")
    .map((p) => (/^[a-z_][a-z0-9_$]*$/.test(p) ? p : `"${p.replaceAll('"', '""')}"`))
    .join(".");
}

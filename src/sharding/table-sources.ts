// `table:` sources: the columns of an existing table on the coordinator, read from its catalog.
import { type Connections, qualified } from "../pgadmin/index.js";
import type { ColumnDef, MeshShardedTable, Topology } from "../topology/index.js";

// Column definitions as CREATE TABLE would take them: type, NOT NULL and default. A default
// that draws from a sequence is left out: the sequence is the coordinator's, not a shard's
// (a distributed table's ids come from id:). Foreign keys are left out too: they reference
// tables the shards do not have.
const columnsSql = `
SELECT a.attname AS name,
       format_type(a.atttypid, a.atttypmod)
         || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
         || CASE WHEN d.adbin IS NULL OR pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%' THEN ''
                 ELSE ' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid) END AS type
  FROM pg_attribute a
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY a.attnum`;

const constraintsSql = `
SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint
 WHERE conrelid = to_regclass($1) AND contype IN ('p', 'u', 'c') ORDER BY contype, conname`;

/**
 * The topology with every `table:` source that can be read turned into declared columns (and
 * table constraints), remembering the table it came from. A coordinator that cannot be reached
 * or a table that does not exist leaves the source as it is: planning reports it.
 */
export async function withTableSources(t: Topology, conns: Connections): Promise<Topology> {
  if (!t.sharded.some((s) => s.source.kind === "table")) return t;
  const sharded = await Promise.all(
    t.sharded.map(async (s): Promise<MeshShardedTable> => {
      if (s.source.kind !== "table") return s;
      const from = s.source.table;
      // A following table's coordinator is its parent's.
      const c =
        s.kind === "follows"
          ? t.sharded.find((p) => p.name === s.follows)?.coordinator
          : s.coordinator;
      if (!c?.node) return s;
      try {
        const session = await conns.session(c.node, c.database);
        const name = qualified(from.schema, from.table);
        const columns = await session.query<ColumnDef>(columnsSql, [name]);
        if (!columns.length) return s;
        const constraints = (await session.query<{ def: string }>(constraintsSql, [name])).map(
          (r) => r.def,
        );
        const text = columns.map((col) => `${col.name} ${col.type}`).join(", ");
        return { ...s, source: { kind: "columns", text, columns, constraints, from } };
      } catch {
        return s;
      }
    }),
  );
  return Object.freeze({ ...t, sharded: Object.freeze(sharded) });
}

import { type Connections, qualified } from "../pgadmin/index.js";
import type { ShardBounds, Topology } from "../topology/index.js";
import { isBuildableReference } from "./plan-reference.js";
import { shardLayouts } from "./shaped.js";
import { withTableSources } from "./table-sources.js";

/** One shard as `dbmesh status` shows it, read on the node that stores it. */
export interface ShardStatus {
  /** The table's key under sharded:. */
  readonly table: string;
  /** schema.name of the shard table on its node (the partition's name on the coordinator). */
  readonly shard: string;
  readonly node: string;
  readonly database: string;
  /** What the shard holds: key values, a hash remainder, a range, or default. */
  readonly holds: string;
  readonly state: "ok" | "missing" | "unreachable";
  readonly rows: number | null;
  readonly bytes: number | null;
  /** bytes as PostgreSQL's pg_size_pretty writes it. */
  readonly size: string | null;
  readonly error: string | null;
}

/**
 * Every shard of every sharded table apply builds: exact row count and total size (table,
 * indexes, TOAST) read on the shard's own node, shards in parallel. A node that cannot be
 * reached gives its shards "unreachable" with the error, never a failure of the whole report.
 */
export async function shardStatus(file: Topology, conns: Connections): Promise<ShardStatus[]> {
  const t = await withTableSources(file, conns);
  const all = [
    ...shardLayouts(t).flatMap((l) =>
      l.shards.map((sh) => ({
        table: l.name,
        schema: l.schema,
        name: sh.name,
        node: sh.node,
        database: sh.database,
        holds: holds(sh.bounds),
      })),
    ),
    // A reference table: the coordinator's table, then each copy.
    ...t.sharded.filter(isBuildableReference).flatMap((r) =>
      [
        { ...r.coordinator, holds: "(source)" },
        ...r.shards.map((c) => ({ ...c, holds: "(copy)" })),
      ].map((at) => ({
        table: r.name,
        schema: r.table.schema,
        name: r.table.table,
        node: at.node,
        database: at.database,
        holds: at.holds,
      })),
    ),
  ];
  return Promise.all(
    all.map(async (sh): Promise<ShardStatus> => {
      const name = qualified(sh.schema, sh.name);
      const base = {
        table: sh.table,
        shard: `${sh.schema}.${sh.name}`,
        node: sh.node,
        database: sh.database,
        holds: sh.holds,
      };
      try {
        const s = await conns.session(sh.node, sh.database);
        const [found] = await s.query<{ present: boolean }>(
          "SELECT to_regclass($1) IS NOT NULL AS present",
          [name],
        );
        if (!found?.present)
          return { ...base, state: "missing", rows: null, bytes: null, size: null, error: null };
        const [row] = await s.query<{ rows: string; bytes: string; size: string }>(
          `SELECT (SELECT count(*) FROM ${name}) AS rows, pg_total_relation_size($1::regclass) AS bytes,
                  pg_size_pretty(pg_total_relation_size($1::regclass)) AS size`,
          [name],
        );
        return {
          ...base,
          state: "ok",
          rows: Number(row?.rows ?? 0),
          bytes: Number(row?.bytes ?? 0),
          size: row?.size ?? null,
          error: null,
        };
      } catch (e) {
        return {
          ...base,
          state: "unreachable",
          rows: null,
          bytes: null,
          size: null,
          error: (e as Error).message,
        };
      }
    }),
  );
}

function holds(b: ShardBounds): string {
  switch (b.kind) {
    case "list":
      return b.values.join(", ");
    case "default":
      return "(default)";
    case "hash":
      return `hash ${b.remainder}/${b.modulus}`;
    case "range":
      return `[${b.from ?? "MINVALUE"}, ${b.to ?? "MAXVALUE"})`;
    case "copy":
      return "(copy)";
  }
}

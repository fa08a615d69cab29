// The coordinator's foreign servers: one per remote shard, where it points and how it is tuned.
import type { Shard, Topology } from "../topology/index.js";
import { shapes } from "./shaped.js";

/** A foreign server of a coordinator database, and the shard it reaches. */
export interface ShardServer {
  readonly node: string;
  readonly database: string;
  /** The distributed table (key under sharded:) and shard it was made for. */
  readonly table: string;
  readonly shard: Shard;
}

/** The foreign servers a coordinator database needs: one per remote shard of its tables. */
export function shardServers(t: Topology, node: string, db: string): Map<string, ShardServer> {
  const out = new Map<string, ShardServer>();
  for (const x of shapes(t)) {
    if (x.s.coordinator.node !== node || x.s.coordinator.database !== db) continue;
    x.shards.forEach((sh, i) => {
      const name = x.servers[i];
      if (name && !out.has(name))
        out.set(name, { node: sh.node, database: sh.database, table: x.s.name, shard: sh });
    });
  }
  return out;
}

/**
 * The node and database a shard server points at now, by its options; undefined when they name
 * no declared node. A server whose address differs from its shard's declared node has had its
 * shard moved in the file but not its rows: apply leaves it alone and says so.
 */
export function serverTarget(
  t: Topology,
  options: Readonly<Record<string, string>>,
): { node: string; database: string } | undefined {
  const n = [...t.nodes.values()].find(
    (m) => m.host === options.host && String(m.port) === options.port,
  );
  return n && options.dbname ? { node: n.name, database: options.dbname } : undefined;
}

// postgres_fdw options for shards: https://www.postgresql.org/docs/17/postgres-fdw.html
// - async_capable: an Append over foreign partitions scans every shard at once instead of one
//   after the other (#POSTGRES-FDW-OPTIONS-ASYNCHRONOUS-EXECUTION).
// - fetch_size 10000: aggregates that cannot be pushed down pull whole shards; 100 rows per
//   round trip (the default) would make that latency-bound.
// - batch_size 1000: inserts routed to a foreign partition go 1000 rows per round trip
//   (default 1) (#POSTGRES-FDW-OPTIONS-REMOTE-EXECUTION).
// - use_remote_estimate false: pruning works on the partition bounds, locally, so it needs no
//   estimates; remote EXPLAINs would cost a round trip per shard for every planned query.
//   ANALYZE on the coordinator gathers local statistics for the foreign partitions instead,
//   sampling on the remote side (analyze_sampling 'auto', #POSTGRES-FDW-OPTIONS-COST-ESTIMATION).
// - extensions: left unset; only built-in operators and functions are shipped, which is what
//   the declared column types need. A shard using an extension's types would list it here.
const shardServerTuning: Record<string, string> = {
  async_capable: "true",
  fetch_size: "10000",
  batch_size: "1000",
  use_remote_estimate: "false",
  analyze_sampling: "auto",
};

/** A shard server's options: where the shard's node is, and the tuning above. */
export function shardServerOptions(
  t: Topology,
  end: { node: string; database: string },
): Record<string, string> {
  const to = t.nodes.get(end.node);
  return {
    host: to?.host ?? "127.0.0.1",
    port: String(to?.port ?? 5432),
    dbname: end.database,
    ...shardServerTuning,
  };
}

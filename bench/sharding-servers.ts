import type pg from "pg";
import { alterOptions, alterServer, literal, type Options } from "../src/pgadmin/index.js";
import { textRows } from "../src/testing/index.js";
import { type CountingProxy, countingProxy } from "./counting-proxy.js";
import { BenchFailure } from "./harness.js";
import { client, close, mesh, SHARD_NODES, TABLE } from "./sharding-mesh.js";

// dbmesh's foreign servers of the sharded table on the coordinator: their options, changed and
// put back for a variant, and pointed through counting relays to measure what crosses the links.

/** The foreign servers of dbmesh's foreign partitions of the table, with their options. */
export async function partitionServers(
  coordAdmin: pg.Client,
): Promise<Map<string, Record<string, string>>> {
  const found = await textRows(
    coordAdmin,
    `SELECT s.srvname, o.option_name, o.option_value
       FROM pg_inherits i
       JOIN pg_foreign_table f ON f.ftrelid = i.inhrelid
       JOIN pg_foreign_server s ON s.oid = f.ftserver,
       pg_options_to_table(s.srvoptions) o
      WHERE i.inhparent = ${literal(TABLE)}::regclass
      ORDER BY 1, 2`,
  );
  const m = new Map<string, Record<string, string>>();
  for (const [server, option, value] of found) {
    const o = m.get(server!) ?? {};
    o[option!] = value!;
    m.set(server!, o);
  }
  if (m.size === 0) throw new BenchFailure(`${TABLE} has no foreign partitions on coord`);
  return m;
}

/** Sets `option` on every server, and a function that puts back what each had (or drops it). */
export async function setServerOption(
  coordAdmin: pg.Client,
  servers: Map<string, Record<string, string>>,
  option: string,
  value: string,
): Promise<() => Promise<void>> {
  const alter = async (server: string, from: Options, to: Options) => {
    const options = alterOptions(from, to);
    if (options) await coordAdmin.query(alterServer(server, options));
  };
  const set = (had: Options) => ({ ...had, [option]: value });
  for (const [server, had] of servers) await alter(server, had, set(had));
  return async () => {
    for (const [server, had] of servers) await alter(server, set(had), had);
  };
}

/**
 * Bytes one run of each query moved over the links: dbmesh's foreign servers are pointed at
 * counting relays (ALTER SERVER … port), a fresh session runs the query once to open its shard
 * connections, then again with the counters reset. The servers are pointed back afterwards.
 */
export async function linkBytes(
  coordAdmin: pg.Client,
  queries: readonly { sql: (table: string) => string }[],
): Promise<{ toShards: number; fromShards: number }[]> {
  const t = mesh.topology!;
  const servers = [...(await partitionServers(coordAdmin))].map(
    ([name, o]) => [name, o.port ?? "5432"] as const,
  );
  const shardPorts = new Set(SHARD_NODES.map((n) => String(t.nodes.get(n)!.port)));
  const proxies: CountingProxy[] = [];
  try {
    for (const [name, port] of servers) {
      if (!shardPorts.has(port))
        throw new BenchFailure(`server ${name} points at port ${port}, not a shard node`);
      const p = await countingProxy(Number(port));
      proxies.push(p);
      await coordAdmin.query(alterServer(name, `OPTIONS (SET port ${literal(String(p.port))})`));
    }
    const app = await client("coord", "app");
    try {
      const res: { toShards: number; fromShards: number }[] = [];
      for (const q of queries) {
        await app.query(q.sql(TABLE));
        for (const p of proxies) p.toShard = p.fromShard = 0;
        await app.query(q.sql(TABLE));
        res.push({
          toShards: proxies.reduce((s, p) => s + p.toShard, 0),
          fromShards: proxies.reduce((s, p) => s + p.fromShard, 0),
        });
      }
      return res;
    } finally {
      await close(app);
    }
  } finally {
    for (const [name, port] of servers)
      await coordAdmin.query(alterServer(name, `OPTIONS (SET port ${literal(port)})`));
    for (const p of proxies) p.close();
  }
}

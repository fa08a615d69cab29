import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type pg from "pg";
import { findBinaries } from "../src/cluster/index.js";
import { literal } from "../src/pgadmin/index.js";
import { freePorts, tempDir, textRows } from "../src/testing/index.js";
import { loadTopology } from "../src/topology/index.js";
import { checkInterrupt, out, round, runBenchmark, writeResults } from "./harness.js";
import { measureInserts, shardTables } from "./sharding-inserts.js";
import {
  BATCH,
  cleanUp,
  client,
  DB,
  INSERT_ROUNDS,
  mesh,
  PASSWORD_ENV,
  PLACEMENT,
  QUERY_ROWS,
  ROUNDS,
  ROWS,
  SHARD_NODES,
  SHARED_BUFFERS,
  TABLE,
  up,
  yaml,
} from "./sharding-mesh.js";
import { measureQueries } from "./sharding-queries.js";
import { partitionServers } from "./sharding-servers.js";
import { buildTutorial } from "./sharding-tutorial.js";
import { measureVariants } from "./sharding-variants.js";

// Issue 5's benchmark, side by side in one run on the same rows and the same servers:
// 1. inserts through the coordinator into dbmesh's sharded table (declarative partitioning,
//    one postgres_fdw foreign partition per key, servers tuned by src/sharding) vs the
//    tutorial's routing (a plain parent, foreign children that INHERIT it, a BEFORE INSERT
//    row trigger that inserts into the right child and returns NULL), same statements;
// 2. a GROUP BY key aggregate and filtered counts over rows spread on 3 shard nodes vs the
//    same queries on one plain table on the coordinator, and what crossed the links.
// The parts live beside this file: sharding-mesh (settings, rows, nodes), sharding-tutorial,
// sharding-inserts, sharding-queries, sharding-variants, sharding-servers, counting-proxy.

// initdb --no-sync: the new clusters' files are not fsynced. Benchmark data only.
process.env.DBMESH_FAST_INIT = "1";

const resultsFile = fileURLToPath(new URL("../../bench/results/sharding.json", import.meta.url));

async function main(): Promise<number> {
  const bins = await findBinaries("embedded");
  const ports = await freePorts(1 + SHARD_NODES.length);
  mesh.dir = await tempDir("dbmesh-bench-sharding-");
  process.env[PASSWORD_ENV] = randomBytes(18).toString("base64url");
  const file = join(mesh.dir, "dbmesh.yaml");
  writeFileSync(file, yaml(ports));
  const t = loadTopology(file);
  mesh.topology = t;

  out("dbmesh sharding benchmark");
  out(
    `PostgreSQL ${bins.version} (${bins.source}), Node ${process.version}, ${cpus().length} CPUs; all servers on loopback, shared_buffers ${SHARED_BUFFERS} each; initdb --no-sync (DBMESH_FAST_INIT=1)`,
  );
  out(
    `a coordinator and ${SHARD_NODES.length} shard nodes; ${TABLE} by list on location: ${PLACEMENT.map(([k, n]) => `${k}→${n}`).join(", ")}`,
  );
  const loadStart = loadavg();
  out(`load average at start: ${loadStart.map((x) => x.toFixed(2)).join(" ")}`);
  out("\nstarting 4 nodes and applying the topology…");
  await up(t);
  checkInterrupt();

  const tables = shardTables(t);
  const coordAdmin = await client("coord", "admin");
  const coordApp = await client("coord", "app");
  const shardAdmins = new Map<string, pg.Client>();
  for (const n of SHARD_NODES) shardAdmins.set(n, await client(n, "admin"));
  const serverOptions = await partitionServers(coordAdmin);

  const dbSettings = await textRows(
    coordAdmin,
    `SELECT array_to_string(setconfig, ', ') FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = ${literal(DB)} AND s.setrole = 0`,
  );
  await buildTutorial(coordAdmin, coordApp);
  out("  built: dbmesh's partitioned table (apply) and the tutorial's parent, children, trigger");
  out(`  dbmesh's database settings on coord: ${dbSettings[0]?.[0] ?? "(none)"}`);
  // Servers that share their options are listed on one line.
  const byOptions = new Map<string, string[]>();
  for (const [name, o] of serverOptions) {
    const { host: _h, port: _p, dbname: _d, ...tuning } = o;
    const k = Object.entries(tuning)
      .map(([a, b]) => `${a}=${b}`)
      .join(", ");
    byOptions.set(k, [...(byOptions.get(k) ?? []), name]);
  }
  for (const [opts, names] of byOptions)
    out(`  dbmesh's foreign servers ${names.join(", ")}: ${opts}`);

  const inserts = await measureInserts(coordAdmin, coordApp, shardAdmins, tables);
  const queries = await measureQueries(coordAdmin, coordApp, shardAdmins, tables);
  const variants = await measureVariants(coordAdmin, coordApp);

  const loadEnd = loadavg();
  out(`\nload average at start: ${loadStart.map((x) => x.toFixed(2)).join(" ")}`);
  out(`load average at end:   ${loadEnd.map((x) => x.toFixed(2)).join(" ")}`);
  writeResults(resultsFile, {
    benchmark: "sharding",
    date: new Date().toISOString(),
    postgres: bins.version,
    node: process.version,
    cpus: cpus().length,
    loadAverage: { start: loadStart.map(round), end: loadEnd.map(round) },
    settings: {
      rows: ROWS,
      queryRows: QUERY_ROWS,
      rounds: ROUNDS,
      insertRounds: INSERT_ROUNDS,
      batch: BATCH,
      sharedBuffers: SHARED_BUFFERS,
      placement: Object.fromEntries(PLACEMENT),
      coordinatorDatabaseSettings: dbSettings[0]?.[0] ?? "",
      shardServerOptions: Object.fromEntries(serverOptions),
    },
    ...inserts,
    queries: queries.queries,
    queryAimMet: queries.queryAimMet,
    filteredCountVariants: variants,
    tableBytes: queries.tableBytes,
  });
  return 0;
}

await runBenchmark({ main, cleanUp, cleaning: "stopping and purging the benchmark nodes…" });

import type pg from "pg";
import { ident, literal } from "../src/pgadmin/index.js";
import { textRows } from "../src/testing/index.js";
import {
  BenchFailure,
  checkInterrupt,
  median,
  ms,
  out,
  perSec,
  round,
  table,
  timed,
} from "./harness.js";
import { explain, type ForeignScans } from "./sharding-explain.js";
import { type ShardTables, verifyShards } from "./sharding-inserts.js";
import {
  COLUMNS,
  KEYS,
  LOCAL,
  QUERY_ROWS,
  ROUNDS,
  rowSql,
  SHARD_NODES,
  TABLE,
} from "./sharding-mesh.js";
import { linkBytes } from "./sharding-servers.js";

// Part 2 of the sharding benchmark: aggregates and filtered counts over rows spread on the
// shard nodes vs the same queries on one plain table on the coordinator.

export interface Query {
  name: string;
  sql: (table: string) => string;
}

/** The filtered counts' condition: about 17% of the rows. */
export const FILTERED = "lendable AND book_id < 20000";

export const QUERIES: readonly Query[] = [
  {
    name: "GROUP BY key",
    sql: (t) =>
      `SELECT location, count(*), sum(book_id), max(id), count(*) FILTER (WHERE lendable) FROM ${ident(t)} GROUP BY location ORDER BY location`,
  },
  {
    name: "filtered count",
    sql: (t) => `SELECT count(*) FROM ${ident(t)} WHERE ${FILTERED}`,
  },
  {
    name: "filtered count, one key",
    sql: (t) => `SELECT count(*) FROM ${ident(t)} WHERE location = 'paris' AND ${FILTERED}`,
  },
];

const kb = (b: number) => (b >= 10_240 ? `${(b / 1024).toFixed(0)} kB` : `${b} B`);

/**
 * The query part: the sharded table and a plain local copy loaded with the same rows, the
 * queries' answers compared, then timed alternately; plans and bytes over the links of one run.
 */
export async function measureQueries(
  coordAdmin: pg.Client,
  coordApp: pg.Client,
  shardAdmins: Map<string, pg.Client>,
  tables: ShardTables,
) {
  checkInterrupt();
  out(
    `\n2. Queries over ${QUERY_ROWS.toLocaleString("en-US")} rows: ${TABLE} (spread on s1, s2, s3) vs ${LOCAL} (one plain table on coord), same rows`,
  );
  const load = await timed(() =>
    coordApp.query(
      `INSERT INTO ${ident(TABLE)} SELECT ${rowSql("i")} FROM generate_series(1, ${QUERY_ROWS}::bigint) i`,
    ),
  );
  await verifyShards(shardAdmins, coordAdmin, "dbmesh", tables, QUERY_ROWS, "loading for queries");
  await coordApp.query(`CREATE TABLE ${ident(LOCAL)} (${COLUMNS})`);
  const loadLocal = await timed(() =>
    coordApp.query(
      `INSERT INTO ${ident(LOCAL)} SELECT ${rowSql("i")} FROM generate_series(1, ${QUERY_ROWS}::bigint) i`,
    ),
  );
  out(
    `   loaded with INSERT … SELECT generate_series on coord: distributed ${ms(load.ms)} ms (${perSec((QUERY_ROWS * 1000) / load.ms)} rows/s), local ${ms(loadLocal.ms)} ms`,
  );
  // Same state on both sides: vacuumed (hint bits set, visibility map) and analyzed; the
  // coordinator's ANALYZE of the parent samples the foreign partitions through postgres_fdw.
  for (const n of SHARD_NODES) await shardAdmins.get(n)!.query("VACUUM ANALYZE");
  await coordAdmin.query(`VACUUM ANALYZE ${ident(LOCAL)}`);
  await coordAdmin.query(`ANALYZE ${ident(TABLE)}`);
  const sizes = await Promise.all(
    SHARD_NODES.map(async (n) => {
      const names = KEYS.filter((k) => tables("dbmesh", k).node === n).map((k) =>
        literal(tables("dbmesh", k).table),
      );
      const [[b]] = (await textRows(
        shardAdmins.get(n)!,
        `SELECT sum(pg_relation_size(c.oid)) FROM pg_class c WHERE c.relname IN (${names.join(", ")})`,
      )) as [[string]];
      return Number(b);
    }),
  );
  const [[localSize]] = (await textRows(
    coordAdmin,
    `SELECT pg_relation_size(${literal(LOCAL)})`,
  )) as [[string]];
  const [[parallel]] = (await textRows(coordApp, "SHOW max_parallel_workers_per_gather")) as [
    [string],
  ];
  out(
    `   table size: shards ${sizes.map((b) => `${(b / 2 ** 20).toFixed(1)}`).join(" + ")} MB, local ${(Number(localSize) / 2 ** 20).toFixed(1)} MB; max_parallel_workers_per_gather ${parallel} (defaults)`,
  );

  // Results must agree exactly; then one warm-up run each.
  for (const q of QUERIES) {
    const d = await textRows(coordApp, q.sql(TABLE));
    const l = await textRows(coordApp, q.sql(LOCAL));
    if (JSON.stringify(d) !== JSON.stringify(l))
      throw new BenchFailure(
        `${q.name}: the distributed table answered ${JSON.stringify(d)}, the local table ${JSON.stringify(l)}`,
      );
  }
  const qms = new Map<string, { d: number[]; l: number[] }>(
    QUERIES.map((q) => [q.name, { d: [], l: [] }]),
  );
  for (let round = 0; round < ROUNDS; round++) {
    checkInterrupt();
    for (const q of QUERIES) {
      const s = qms.get(q.name)!;
      const runD = async () => s.d.push((await timed(() => coordApp.query(q.sql(TABLE)))).ms);
      const runL = async () => s.l.push((await timed(() => coordApp.query(q.sql(LOCAL)))).ms);
      if (round % 2) {
        await runL();
        await runD();
      } else {
        await runD();
        await runL();
      }
    }
  }
  const plans = new Map<string, ForeignScans>();
  for (const q of QUERIES) plans.set(q.name, await explain(coordApp, q.sql(TABLE)));
  const bytes = await linkBytes(coordAdmin, QUERIES);

  out(
    `\n   median of ${ROUNDS} rounds (alternating order), ms; crossed = what came back over the links for one run`,
  );
  const qRows: string[][] = [
    [
      "",
      "distributed",
      "local",
      "dist / local",
      "foreign scans",
      "rows crossed",
      "bytes ←shards",
      "bytes →shards",
    ],
  ];
  const queryResults = QUERIES.map((q, i) => {
    const s = qms.get(q.name)!;
    const f = plans.get(q.name)!;
    const b = bytes[i]!;
    const r = median(s.d) / median(s.l);
    qRows.push([
      q.name,
      ms(median(s.d)),
      ms(median(s.l)),
      `${r.toFixed(2)}×`,
      String(f.scans),
      f.rows.toLocaleString("en-US"),
      kb(b.fromShards),
      kb(b.toShards),
    ]);
    return {
      name: q.name,
      sql: q.sql(TABLE),
      distributedMs: round(median(s.d)),
      localMs: round(median(s.l)),
      ratio: round(r),
      samplesDistributedMs: s.d.map(round),
      samplesLocalMs: s.l.map(round),
      foreignScans: f.scans,
      rowsCrossed: f.rows,
      bytesFromShards: b.fromShards,
      bytesToShards: b.toShards,
      remoteSql: f.remoteSql[0],
      planTop: f.plan,
    };
  });
  out(table(qRows));
  out(
    "   rows crossed: sum of actual rows × loops of the Foreign Scan nodes in EXPLAIN (ANALYZE, VERBOSE) on coord;",
  );
  out(
    "   bytes: counted by a TCP relay put between coord and each shard node (ALTER SERVER … port) for one warm run, protocol overhead included",
  );
  out(
    `   for scale: pulling every row would move at least the tables' ${(sizes.reduce((a, b) => a + b, 0) / 2 ** 20).toFixed(0)} MB`,
  );
  for (const q of queryResults)
    out(
      `   ${q.name}: ${q.planTop}\n     remote SQL (one of ${q.foreignScans}): ${q.remoteSql ?? "(none)"}`,
    );
  const worst = Math.max(...queryResults.map((q) => q.ratio));
  out(
    `   aim: within 1.5× of the single table — ${queryResults.map((q) => `${q.name}: ${q.ratio.toFixed(2)}× ${q.ratio <= 1.5 ? "met" : "NOT met"}`).join(", ")}`,
  );

  return {
    queries: queryResults,
    queryAimMet: worst <= 1.5,
    tableBytes: { shards: sizes, local: Number(localSize) },
  };
}

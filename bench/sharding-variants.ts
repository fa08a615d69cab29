import type pg from "pg";
import { ident, literal } from "../src/pgadmin/index.js";
import { textRows } from "../src/testing/index.js";
import { BenchFailure, checkInterrupt, median, ms, out, round, table, timed } from "./harness.js";
import { explain, type ForeignScans } from "./sharding-explain.js";
import { LOCAL, ROUNDS, TABLE } from "./sharding-mesh.js";
import { FILTERED, QUERIES, type Query } from "./sharding-queries.js";
import { partitionServers, setServerOption } from "./sharding-servers.js";

// The filtered count and GROUP BY key under variations that isolate why they cost what they do.

export interface Variant {
  name: string;
  ms: number;
  rowsCrossed: number | undefined;
  plan: string;
}

/**
 * The queries under variations that isolate why they cost what they do. PostgreSQL 17's
 * postgres_fdw pushes an aggregate down only when it covers whole foreign relations
 * (UPPERREL_GROUP_AGG): GROUP BY the partition key makes every partition's groups whole, so
 * partition-wise aggregation ships each of them. A count without the key needs partial
 * aggregates per partition, which postgres_fdw does not ship, so each shard sends its matching
 * rows (empty ones: `SELECT NULL … WHERE …`) and the coordinator counts them; and with a
 * Partial Aggregate between the Append and the Foreign Scans, the scans are no longer the
 * Append's direct children, so they run one after another instead of asynchronously.
 * https://www.postgresql.org/docs/17/postgres-fdw.html#POSTGRES-FDW-REMOTE-QUERY-OPTIMIZATION
 * https://www.postgresql.org/docs/17/runtime-config-query.html#GUC-ENABLE-ASYNC-APPEND
 */
export async function diagnose(coordAdmin: pg.Client, coordApp: pg.Client): Promise<Variant[]> {
  const count = QUERIES.find((q) => q.name === "filtered count")!;
  const group = QUERIES.find((q) => q.name === "GROUP BY key")!;
  const perKey = `SELECT sum(n)::bigint FROM (SELECT location, count(*) AS n FROM ${ident(TABLE)} WHERE ${FILTERED} GROUP BY location) s`;
  const servers = await partitionServers(coordAdmin);
  let undo: (() => Promise<void>) | undefined;
  const serverOption = (option: string, value: string) => ({
    before: async () => {
      undo = await setServerOption(coordAdmin, servers, option, value);
    },
    after: async () => {
      await undo?.();
      undo = undefined;
    },
  });
  const session = (setting: string, value: string) => ({
    before: () => coordApp.query(`SET ${ident(setting)} = ${literal(value)}`),
    after: () => coordApp.query(`RESET ${ident(setting)}`),
  });
  const variants: {
    name: string;
    /** The query whose local answer this one must give. */
    of: Query;
    sql: string;
    distributed: boolean;
    before?: () => Promise<unknown>;
    after?: () => Promise<unknown>;
  }[] = [
    { name: "filtered count, as built", of: count, sql: count.sql(TABLE), distributed: true },
    {
      name: "  fetch_size 100000 (10x fewer FETCHes)",
      of: count,
      sql: count.sql(TABLE),
      distributed: true,
      ...serverOption("fetch_size", "100000"),
    },
    {
      name: "  async_capable false",
      of: count,
      sql: count.sql(TABLE),
      distributed: true,
      ...serverOption("async_capable", "false"),
    },
    {
      name: "  enable_partitionwise_aggregate off",
      of: count,
      sql: count.sql(TABLE),
      distributed: true,
      ...session("enable_partitionwise_aggregate", "off"),
    },
    {
      name: "  rewritten: count GROUP BY key, then sum",
      of: count,
      sql: perKey,
      distributed: true,
    },
    { name: "  local table", of: count, sql: count.sql(LOCAL), distributed: false },
    {
      name: "  local table, no parallel workers",
      of: count,
      sql: count.sql(LOCAL),
      distributed: false,
      ...session("max_parallel_workers_per_gather", "0"),
    },
    { name: "GROUP BY key, as built", of: group, sql: group.sql(TABLE), distributed: true },
    {
      name: "  enable_partitionwise_aggregate off",
      of: group,
      sql: group.sql(TABLE),
      distributed: true,
      ...session("enable_partitionwise_aggregate", "off"),
    },
    { name: "  local table", of: group, sql: group.sql(LOCAL), distributed: false },
  ];
  const wants = new Map<Query, string>();
  for (const q of [count, group])
    wants.set(q, JSON.stringify(await textRows(coordApp, q.sql(LOCAL))));
  // Each variant's answer is checked once; then the rounds go round-robin over the variants, so
  // the machine's load drifts over all of them alike.
  const samples = variants.map(() => [] as number[]);
  const plans: ForeignScans[] = [];
  for (let r = -1; r < ROUNDS; r++) {
    for (const [i, v] of variants.entries()) {
      checkInterrupt();
      await v.before?.();
      try {
        if (r < 0) {
          const got = JSON.stringify(await textRows(coordApp, v.sql));
          if (got !== wants.get(v.of))
            throw new BenchFailure(
              `${v.name.trim()}: answered ${got}, the local table ${wants.get(v.of)}`,
            );
          plans.push(await explain(coordApp, v.sql));
        } else {
          // Unmeasured first: ALTER SERVER makes postgres_fdw drop its cached connections to
          // that server, so the run after a change (or after putting it back) reconnects.
          await coordApp.query(v.sql);
          samples[i]!.push((await timed(() => coordApp.query(v.sql))).ms);
        }
      } finally {
        await v.after?.();
      }
    }
  }
  const res: Variant[] = variants.map((v, i) => ({
    name: v.name,
    ms: median(samples[i]!),
    rowsCrossed: v.distributed ? plans[i]!.rows : undefined,
    plan: plans[i]!.plan,
  }));
  return res;
}

/** Runs and prints the variations: timings, rows crossed and the top of each plan. */
export async function measureVariants(coordAdmin: pg.Client, coordApp: pg.Client) {
  checkInterrupt();
  out(
    `\n   why: the same queries under variations (session settings or ALTER SERVER, put back after), median of ${ROUNDS} rounds`,
  );
  const variants = await diagnose(coordAdmin, coordApp);
  out(
    table([
      ["", "ms", "rows crossed"],
      ...variants.map((v) => [
        v.name,
        ms(v.ms),
        v.rowsCrossed === undefined ? "" : v.rowsCrossed.toLocaleString("en-US"),
      ]),
    ]),
  );
  out("   their plans (first branch from the top):");
  for (const v of variants) out(`   ${v.name.padEnd(42)} ${v.plan}`);
  out(
    "   postgres_fdw (PostgreSQL 17) ships whole aggregates only: a count without GROUP BY key is partial per partition, so shards send their matching rows, and the Partial Aggregate between Append and Foreign Scan makes the scans synchronous. Partition-wise aggregation is what ships GROUP BY key, so dbmesh keeps it on.",
  );
  return variants.map((v) => ({ ...v, ms: round(v.ms) }));
}

// The statement classifier's cost per call: a miss (parse with libpg_query's wasm, walk the
// tree, ask the oracle) against a cache hit, for statements like pgbench's and an ORM's.
// Hits are measured on fresh string objects with the statement's text, as the router gets from
// each Query or Parse message (so the Map hashes the text every time), and on one reused string.
// Usage: npm run bench:classify

import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { parseSync } from "libpg-query";
import {
  Classifier,
  createClassifier,
  oracleFromRows,
  type ProcVolatilityRow,
} from "../src/router/classify/index.js";
import { out, table, writeResults } from "./harness.js";

const resultsFile = fileURLToPath(new URL("../../bench/results/classify.json", import.meta.url));

const ormColumns = Array.from({ length: 40 }, (_, i) => `"t0"."column_${i}" AS "c${i}"`).join(", ");
const statements: Record<string, string> = {
  "pgbench select": "SELECT abalance FROM pgbench_accounts WHERE aid = $1",
  "pgbench update": "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2",
  "join + aggregate":
    "SELECT u.id, u.name, count(o.id) FROM users u LEFT JOIN orders o ON o.user_id = u.id " +
    "WHERE u.created > now() - interval '1 day' GROUP BY u.id, u.name ORDER BY 3 DESC LIMIT 20",
  "ORM select (1.2 KB)": `SELECT ${ormColumns} FROM "public"."accounts" AS "t0" WHERE ("t0"."tenant_id" = $1) AND ("t0"."deleted_at" IS NULL) ORDER BY "t0"."id" LIMIT $2 OFFSET $3`,
};

const rows: ProcVolatilityRow[] = [
  { schema: "pg_catalog", name: "now", volatility: "s" },
  { schema: "pg_catalog", name: "count", volatility: "i" },
];

/** Median of `rounds` timings of `n` calls, in nanoseconds per call, after one warm-up round. */
function measure(n: number, rounds: number, run: (i: number) => void): number {
  for (let i = 0; i < n; i++) run(i);
  const perCall: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) run(i);
    perCall.push(Number(process.hrtime.bigint() - t0) / n);
  }
  perCall.sort((a, b) => a - b);
  return perCall[Math.floor(rounds / 2)]!;
}

function fmt(ns: number): string {
  return ns >= 10_000 ? `${(ns / 1000).toFixed(1)} µs` : `${ns.toFixed(0)} ns`;
}

async function main(): Promise<void> {
  const oracle = oracleFromRows(rows);
  const cached = await createClassifier({ oracle });
  // every text longer than 0 characters goes uncached: each call is a miss
  const uncached = new Classifier({ oracle, maxTextLength: 0 });
  const results: Record<string, Record<string, number>> = {};
  const lines = [
    ["statement", "bytes", "parseSync", "miss", "hit (fresh string)", "hit (same string)"],
  ];
  let sink = 0;
  for (const [name, sql] of Object.entries(statements)) {
    const raw = measure(2_000, 7, () => {
      sink += parseSync(sql).stmts?.length ?? 0;
    });
    const miss = measure(2_000, 7, () => {
      sink += uncached.classify(sql).statements;
    });
    cached.classify(sql);
    const fresh = Array.from({ length: 200_000 }, () => Buffer.from(sql).toString());
    const hitFresh = measure(fresh.length, 7, (i) => {
      sink += cached.classify(fresh[i]!).statements;
    });
    const hitSame = measure(1_000_000, 7, () => {
      sink += cached.classify(sql).statements;
    });
    results[name] = {
      bytes: sql.length,
      parseSyncNs: raw,
      missNs: miss,
      hitFreshNs: hitFresh,
      hitSameNs: hitSame,
    };
    lines.push([name, String(sql.length), fmt(raw), fmt(miss), fmt(hitFresh), fmt(hitSame)]);
  }
  out(
    `classifier cost per call (median of 7 rounds), ${cpus()[0]?.model ?? "?"}, Node ${process.version}`,
  );
  out(table(lines));
  if (sink < 0) out(String(sink));
  writeResults(resultsFile, { node: process.version, results });
}

await main();

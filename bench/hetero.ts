import { existsSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type pg from "pg";
import {
  connectMariadb,
  findMariadb,
  type MariadbSession,
  literal as mariadbLiteral,
} from "../src/mariadb/index.js";
import {
  createServer,
  createUserMapping,
  grantServerUsage,
  ident,
  literal,
  qualified,
} from "../src/pgadmin/index.js";
import { type MeshFixture, meshFixture } from "../src/testing/index.js";
import {
  BenchFailure,
  checkInterrupt,
  intEnv,
  median,
  out,
  round,
  runBenchmark,
  table,
  uninterrupted,
  writeResults,
} from "./harness.js";

// Issue 6's benchmark: PostgreSQL 15 reads a 1M-row MariaDB table through mysql_fdw, side by
// side in one run on the same rows and servers: the foreign server dbmesh creates (its tuned
// options, src/links/server-options.ts) vs a server with the extension's defaults (host and
// port only), each with the same IMPORT FOREIGN SCHEMA. Two filtered aggregates:
//   pushed — count/sum per region over a date range: mysql_fdw 2.8 sends WHERE, GROUP BY and
//            the aggregates to MariaDB, so a handful of rows cross the link;
//   pulled — stddev per region over the same range: stddev is not pushed, so every row of
//            the range crosses the link and fetch_size decides how many round trips that takes.
// Figures: median time of ROUNDS (the two servers alternate, so drift in the machine's load
// hits both), rows the Foreign Scan returned (EXPLAIN ANALYZE) and MariaDB's Bytes_sent.

// initdb --no-sync: the new clusters' files are not fsynced. Benchmark data only.
process.env.DBMESH_FAST_INIT = "1";

const ROWS = intEnv("BENCH_ROWS", 1_000_000, 1);
const ROUNDS = intEnv("BENCH_ROUNDS", 7, 1);
const PG15 = process.env.DBMESH_PG15_BIN ?? "/usr/lib/postgresql/15/bin";
const resultsFile = fileURLToPath(new URL("../../bench/results/hetero.json", import.meta.url));

const REGIONS = ["north", "south", "east", "west", "centre", "île-de-france"];
const SINCE = "2024-07-01";
const QUERIES = {
  pushed: (from: string) =>
    `SELECT region, count(*), sum(amount) FROM ${from} WHERE sold >= ${literal(SINCE)} GROUP BY region ORDER BY region`,
  pulled: (from: string) =>
    `SELECT region, round(stddev(amount), 4) FROM ${from} WHERE sold >= ${literal(SINCE)} GROUP BY region ORDER BY region`,
} as const;
type QueryName = keyof typeof QUERIES;
const VARIANTS = { dbmesh: "shop", defaults: "shop_defaults" } as const;
type Variant = keyof typeof VARIANTS;

const state: { mesh?: MeshFixture; clients: pg.Client[]; maria?: MariadbSession } = {
  clients: [],
};
const env = { OWNER_PASSWORD: "bench-owner-pw", CLERK_PASSWORD: "bench-clerk-pw" };

async function dbmesh(...args: string[]): Promise<void> {
  const r = await state.mesh!.run(...args);
  if (r.code !== 0)
    throw new BenchFailure(`dbmesh ${args.join(" ")} failed:\n${`${r.stdout}${r.stderr}`.trim()}`);
}

async function bytesSent(): Promise<number> {
  const [row] = await state.maria!.query<{ Value: string }>("SHOW GLOBAL STATUS LIKE 'Bytes_sent'");
  return Number(row?.Value ?? 0);
}

interface Figures {
  medianMs: number;
  timesMs: number[];
  foreignScanRows: number;
  bytesSent: number;
  remoteSql: string;
}

async function main(): Promise<number> {
  const missing = await findMariadb().then(
    () =>
      !existsSync(join(PG15, "postgres"))
        ? `no PostgreSQL 15 server in ${PG15}: apt install postgresql-15 (or set DBMESH_PG15_BIN)`
        : !existsSync("/usr/share/postgresql/15/extension/mysql_fdw.control")
          ? "mysql_fdw is not installed: apt install postgresql-15-mysql-fdw"
          : undefined,
    (e: Error) => `MariaDB is not installed (${e.message}): apt install mariadb-server`,
  );
  if (missing) throw new BenchFailure(missing);
  out(`bench:hetero — ${ROWS} MariaDB rows read from PostgreSQL 15 through mysql_fdw`);
  out(
    `machine: ${cpus().length} cores, load average (1 min) at the start: ${loadavg()[0]!.toFixed(2)}`,
  );

  const m = await meshFixture({
    name: "bench-hetero",
    ports: 2,
    yaml: ([pgPort, myPort]) => `version: 1
nodes:
  pg15: { port: ${pgPort}, binaries: ${PG15}, settings: { shared_buffers: 128MB } }
  shop: { engine: mariadb, port: ${myPort} }
roles:
  owner: { password: env:OWNER_PASSWORD, nodes: [pg15] }
  clerk: { password: env:CLERK_PASSWORD, nodes: [shop] }
databases:
  app: { node: pg15, owner: owner }
  sales: { node: shop, owner: clerk, seed: [sales.sql] }
links:
  - { from: pg15/app, to: shop/sales, via: mysql_fdw, as: { owner: clerk },
      import: { schema: sales, into: shop, tables: [sales] } }
`,
    env,
  });
  state.mesh = m;
  const [pgPort, myPort] = m.ports as [number, number];
  writeFileSync(
    join(m.dir, "sales.sql"),
    "CREATE TABLE sales (id int PRIMARY KEY, region varchar(20) NOT NULL, amount decimal(10,2) NOT NULL, sold date NOT NULL, note varchar(100))",
  );
  out("starting a PostgreSQL 15 node and a MariaDB node (dbmesh up)…");
  await uninterrupted(dbmesh("up"));
  checkInterrupt();

  state.maria = await connectMariadb({
    node: "shop",
    host: "127.0.0.1",
    port: myPort,
    user: "clerk",
    password: env.CLERK_PASSWORD,
    database: "sales",
  });
  out(`loading ${ROWS} rows into MariaDB…`);
  // The sequence engine's seq_1_to_N: https://mariadb.com/kb/en/sequence-storage-engine/
  const regions = `ELT(1 + seq % ${REGIONS.length}, ${REGIONS.map(mariadbLiteral).join(", ")})`;
  await uninterrupted(
    state.maria.query(
      `INSERT INTO sales SELECT seq, ${regions}, (seq * 37 % 100000) / 100, DATE '2024-01-01' + INTERVAL (seq % 366) DAY, IF(seq % 10 = 0, NULL, CONCAT('note ', seq)) FROM seq_1_to_${ROWS}`,
    ),
  );
  await state.maria.query("ANALYZE TABLE sales");
  checkInterrupt();

  // The same table through a server with mysql_fdw's defaults (host and port only).
  const adminClient = await m.connect(pgPort, "app");
  state.clients.push(adminClient);
  await adminClient.query(
    createServer(VARIANTS.defaults, "mysql_fdw", { host: "127.0.0.1", port: String(myPort) }),
  );
  await adminClient.query(
    createUserMapping("owner", VARIANTS.defaults, {
      username: "clerk",
      password: env.CLERK_PASSWORD,
    }),
  );
  await adminClient.query(grantServerUsage(VARIANTS.defaults, "owner"));
  await adminClient.query(`CREATE SCHEMA ${ident("defaults")} AUTHORIZATION owner`);
  const [{ options }] = (
    await adminClient.query<{ options: string }>(
      "SELECT array_to_string(srvoptions, ', ') AS options FROM pg_foreign_server WHERE srvname = $1",
      [VARIANTS.dbmesh],
    )
  ).rows as [{ options: string }];
  out(`dbmesh's server ${VARIANTS.dbmesh}: ${options}`);
  out(`defaults server ${VARIANTS.defaults}: host, port`);

  const owner = await m.connect(pgPort, "app", "owner");
  state.clients.push(owner);
  await owner.query(
    `IMPORT FOREIGN SCHEMA sales LIMIT TO (sales) FROM SERVER ${ident(VARIANTS.defaults)} INTO ${ident("defaults")}`,
  );
  const schemaOf: Record<Variant, string> = {
    dbmesh: qualified("shop", "sales"),
    defaults: qualified("defaults", "sales"),
  };

  // Same answers through both servers and straight from MariaDB, before anything is timed.
  for (const q of Object.keys(QUERIES) as QueryName[]) {
    const a = (await owner.query({ text: QUERIES[q](schemaOf.dbmesh), rowMode: "array" })).rows;
    const b = (await owner.query({ text: QUERIES[q](schemaOf.defaults), rowMode: "array" })).rows;
    if (JSON.stringify(a) !== JSON.stringify(b))
      throw new BenchFailure(`${q}: the two servers answer differently`);
    if (q === "pushed") {
      const direct = await state.maria.query<{ region: string; n: string }>(
        `SELECT region, count(*) AS n FROM sales WHERE sold >= ${mariadbLiteral(SINCE)} GROUP BY region ORDER BY region`,
      );
      const names = a.map((r) => String(r[0]));
      if (JSON.stringify(names) !== JSON.stringify(direct.map((r) => r.region)))
        throw new BenchFailure(
          `pushed: regions read through mysql_fdw (${names.join(", ")}) differ from MariaDB's`,
        );
      if (a.some((r, i) => String(r[1]) !== String(direct[i]?.n)))
        throw new BenchFailure("pushed: counts read through mysql_fdw differ from MariaDB's");
    }
  }

  const figures = {} as Record<QueryName, Record<Variant, Figures>>;
  for (const q of Object.keys(QUERIES) as QueryName[]) {
    const times: Record<Variant, number[]> = { dbmesh: [], defaults: [] };
    const sent: Record<Variant, number[]> = { dbmesh: [], defaults: [] };
    // A warm-up each: the MariaDB connection and buffer pool, PostgreSQL's plan caches.
    for (const v of Object.keys(VARIANTS) as Variant[]) await owner.query(QUERIES[q](schemaOf[v]));
    for (let round = 0; round < ROUNDS; round++) {
      const order: Variant[] = round % 2 ? ["defaults", "dbmesh"] : ["dbmesh", "defaults"];
      for (const v of order) {
        checkInterrupt();
        const before = await bytesSent();
        const t0 = performance.now();
        await owner.query(QUERIES[q](schemaOf[v]));
        times[v].push(performance.now() - t0);
        sent[v].push((await bytesSent()) - before);
      }
    }
    figures[q] = {} as Record<Variant, Figures>;
    for (const v of Object.keys(VARIANTS) as Variant[]) {
      const [row] = (
        await owner.query<{ "QUERY PLAN": PlanJson[] }>(
          `EXPLAIN (ANALYZE, VERBOSE, FORMAT JSON) ${QUERIES[q](schemaOf[v])}`,
        )
      ).rows;
      const scan = foreignScan(row!["QUERY PLAN"][0]!.Plan);
      figures[q][v] = {
        medianMs: round(median(times[v]), 1),
        timesMs: times[v].map((x) => round(x, 1)),
        foreignScanRows: (scan?.["Actual Rows"] ?? 0) * (scan?.["Actual Loops"] ?? 1),
        bytesSent: median(sent[v]),
        remoteSql: scan?.["Remote query"] ?? "",
      };
    }
  }

  out("");
  for (const q of Object.keys(QUERIES) as QueryName[]) {
    const d = figures[q].dbmesh;
    const x = figures[q].defaults;
    out(`${q}: ${QUERIES[q]("<schema>.sales")}`);
    out(`  remote query: ${d.remoteSql}`);
    out(
      table([
        ["", "median ms", "rows over the link", "MariaDB bytes sent"],
        ["dbmesh settings", d.medianMs.toFixed(1), String(d.foreignScanRows), String(d.bytesSent)],
        [
          "extension defaults",
          x.medianMs.toFixed(1),
          String(x.foreignScanRows),
          String(x.bytesSent),
        ],
        [
          "ratio defaults/dbmesh",
          ratio(x.medianMs, d.medianMs),
          ratio(x.foreignScanRows, d.foreignScanRows),
          ratio(x.bytesSent, d.bytesSent),
        ],
      ]),
    );
    out("");
  }
  // What pushdown itself is worth, through dbmesh's server: the same filter, the aggregate
  // done by MariaDB (pushed) vs by PostgreSQL on every row of the range (pulled).
  const push = figures.pushed.dbmesh;
  const pull = figures.pulled.dbmesh;
  out(
    `pushdown (dbmesh's server): pulled/pushed ${ratio(pull.medianMs, push.medianMs)} time, ${ratio(pull.foreignScanRows, push.foreignScanRows)} rows, ${ratio(pull.bytesSent, push.bytesSent)} bytes`,
  );
  writeResults(resultsFile, {
    rows: ROWS,
    rounds: ROUNDS,
    since: SINCE,
    dbmeshServerOptions: options,
    load: loadavg()[0],
    queries: Object.fromEntries(
      (Object.keys(QUERIES) as QueryName[]).map((q) => [
        q,
        {
          sql: QUERIES[q]("<schema>.sales"),
          ...figures[q],
          timeRatioDefaultsOverDbmesh: Number(
            (figures[q].defaults.medianMs / figures[q].dbmesh.medianMs).toFixed(3),
          ),
        },
      ]),
    ),
  });
  return 0;
}

interface PlanJson {
  Plan: PlanNode;
}
interface PlanNode {
  "Node Type": string;
  "Actual Rows"?: number;
  "Actual Loops"?: number;
  "Remote query"?: string;
  Plans?: PlanNode[];
}

function foreignScan(n: PlanNode): PlanNode | undefined {
  if (n["Node Type"] === "Foreign Scan") return n;
  for (const c of n.Plans ?? []) {
    const f = foreignScan(c);
    if (f) return f;
  }
  return undefined;
}

function ratio(a: number, b: number): string {
  return b === 0 ? "n/a" : `${(a / b).toFixed(2)}x`;
}

let cleanup: Promise<void> | undefined;
function cleanUp(): Promise<void> {
  cleanup ??= (async () => {
    await Promise.allSettled(state.clients.map((c) => c.end()));
    await state.maria?.end();
    await state.mesh?.destroy().catch((e: unknown) => {
      process.stderr.write(`cleanup: ${(e as Error).message}\n`);
    });
  })();
  return cleanup;
}

await runBenchmark({ main, cleanUp, cleaning: "stopping and purging the benchmark nodes…" });

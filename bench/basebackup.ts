// npm run bench:basebackup — dbmesh's takeBaseBackup against pg_basebackup, both copying the same
// system PostgreSQL 15 primary (Debian postgresql-15) holding a ~1 GiB database, over loopback
// TCP, into directories on the same file system. The two alternate round by round (the one that
// goes first alternates too), so the ratio compares figures measured side by side in this run:
//   fsync on:  takeBaseBackup({ sync: true })  vs  pg_basebackup           (both default)
//   fsync off: takeBaseBackup({ sync: false }) vs  pg_basebackup --no-sync (BENCH_NO_SYNC=0 skips)
// Both take a plain-format backup with the WAL fetched into it (-X fetch), a fast checkpoint
// and a CRC32C manifest; takeBaseBackup also checks every file against the manifest, which
// pg_basebackup leaves to pg_verifybackup (timed separately, as an extra; BENCH_VERIFY=0 skips).
// Throughput = size of the resulting directory / wall time of the call (or of the process).
// Figures go to bench/results/basebackup.json; no threshold is enforced (aim: ratio >= 0.8).
// Environment: BENCH_SIZE_MB (default 1024), BENCH_ROUNDS (default 3), BENCH_WARMUP (default 1).
// The primary is stopped and purged and the temporary directory removed at the end, also on
// error and SIGINT.
import { constants } from "node:fs";
import { access, chown, lstat, mkdir, readdir, readFile, statfs } from "node:fs/promises";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import {
  adminPassword,
  ensureServerUser,
  findBinaries,
  type HbaLine,
  initNode,
  type LocalNode,
  nodeProcess,
  purgeNode,
  type ServerUser,
  startNode,
} from "../src/cluster/index.js";
import { type ReplicationTarget, takeBaseBackup } from "../src/replication/index.js";
import {
  ADMIN_HBA,
  enableFastInit,
  freePort,
  removeDir,
  tempDir,
  testNode,
} from "../src/testing/index.js";
import {
  aptInstall,
  BenchFailure,
  checkInterrupt,
  Interrupted,
  intEnv,
  out,
  run,
  runBenchmark,
  stopRunning,
  table,
  uninterrupted,
  writeResults,
} from "./harness.js";

const PG_PACKAGE = "postgresql-15";
const PG_BIN = "/usr/lib/postgresql/15/bin";
const PG_TOOLS = ["initdb", "pg_ctl", "postgres", "pg_basebackup", "pg_verifybackup"];
const MIB = 1024 * 1024;

const SIZE_MB = intEnv("BENCH_SIZE_MB", 1024, 16);
const ROUNDS = intEnv("BENCH_ROUNDS", 3, 1);
const WARMUP = intEnv("BENCH_WARMUP", 1, 0);
const WITH_NO_SYNC = process.env.BENCH_NO_SYNC !== "0";
const WITH_VERIFY = process.env.BENCH_VERIFY !== "0";

const resultsFile = fileURLToPath(new URL("../../bench/results/basebackup.json", import.meta.url));

// ---------------------------------------------------------------- cleanup (finally and SIGINT)

let dir: string | undefined;
let primary: LocalNode | undefined;
/** Aborts a takeBaseBackup in flight (it then removes its .backup-tmp directory). */
const abort = new AbortController();
let cleanup: Promise<void> | undefined;

function cleanUp(): Promise<void> {
  cleanup ??= (async () => {
    stopRunning();
    if (primary) {
      await purgeNode(primary).catch((e: unknown) =>
        process.stderr.write(`cleanup: ${(e as Error).message}\n`),
      );
    }
    if (dir) await removeDir(dir);
  })();
  return cleanup;
}

// ---------------------------------------------------------------- helpers

interface Cpu {
  user: number;
  sys: number;
}

/**
 * CPU seconds of a process's children that were waited for, and of the children they waited
 * for: fields cutime and cstime of /proc/PID/stat, in clock ticks (USER_HZ, 100 on Linux).
 * https://man7.org/linux/man-pages/man5/proc_pid_stat.5.html
 */
async function reapedChildCpu(pid: number | "self" = "self"): Promise<Cpu> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // f[0] is field 3 (state), so field k is f[k - 3]: cutime 16, cstime 17.
  return { user: Number(f[13]) / 100, sys: Number(f[14]) / 100 };
}

const selfCpu = (): Cpu => {
  const u = process.cpuUsage();
  return { user: u.user / 1e6, sys: u.system / 1e6 };
};
const cpuSince = (before: Cpu, after: Cpu): Cpu => ({
  user: after.user - before.user,
  sys: after.sys - before.sys,
});

/** Apparent size of every regular file under `root`, and how many there are. */
async function dirSize(root: string): Promise<{ bytes: number; files: number }> {
  let bytes = 0;
  let files = 0;
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) {
        bytes += (await lstat(p)).size;
        files++;
      }
    }
  };
  await walk(root);
  return { bytes, files };
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
const mib = (bytes: number) => bytes / MIB;
const fmt = (x: number, digits = 1) => x.toFixed(digits);

// ---------------------------------------------------------------- PostgreSQL 15

async function missingTools(): Promise<string[]> {
  const missing: string[] = [];
  for (const tool of PG_TOOLS) {
    try {
      await access(join(PG_BIN, tool), constants.X_OK);
    } catch {
      missing.push(tool);
    }
  }
  return missing;
}

/** The Debian package's binaries, installed with apt-get when missing and running as root. */
async function ensurePostgres15(): Promise<void> {
  const missing = await missingTools();
  if (missing.length === 0) return;
  const code = await aptInstall([PG_PACKAGE]);
  const still = await missingTools();
  if (code !== 0 || still.length > 0) {
    throw new BenchFailure(
      `could not install ${PG_PACKAGE} (apt-get exited ${code}; ${still.length ? `${still.join(", ")} still missing from ${PG_BIN}` : "see its output above"}). Install it yourself: apt-get install -y ${PG_PACKAGE}`,
    );
  }
}

// ---------------------------------------------------------------- data

async function withSql<T>(
  node: LocalNode,
  password: string,
  f: (c: pg.Client) => Promise<T>,
): Promise<T> {
  const c = new pg.Client({
    host: "127.0.0.1",
    port: node.port,
    user: "postgres",
    password,
    database: "postgres",
  });
  await c.connect();
  try {
    return await f(c);
  } finally {
    await c.end();
  }
}

const ROW_SQL = "SELECT g AS id, md5(g::text) AS a, repeat('x', 200) AS b FROM generate_series";

/**
 * Table `big` sized so that pg_database_size('postgres') is about SIZE_MB: a sample gives the
 * bytes per row, the rest is inserted in one statement. Then VACUUM (FREEZE, ANALYZE), so no
 * hint-bit or autovacuum writes happen during the rounds, and a CHECKPOINT.
 */
async function loadData(node: LocalNode, password: string) {
  return withSql(node, password, async (c) => {
    const size = async () =>
      Number(
        (await c.query<{ s: string }>("SELECT pg_database_size('postgres')::text AS s")).rows[0]!.s,
      );
    const target = SIZE_MB * MIB;
    const empty = await size();
    const sample = 20_000;
    await c.query(`CREATE TABLE big AS ${ROW_SQL}(1, ${sample}) g`);
    const perRow =
      Number((await c.query<{ s: string }>("SELECT pg_table_size('big')::text AS s")).rows[0]!.s) /
      sample;
    const rows = Math.max(sample, Math.round((target - empty) / perRow));
    if (rows > sample) await c.query(`INSERT INTO big ${ROW_SQL}(${sample + 1}, ${rows}) g`);
    await c.query("VACUUM (FREEZE, ANALYZE) big");
    await c.query("CHECKPOINT");
    const r = (
      await c.query<{ db: string; cluster: string }>(
        `SELECT pg_database_size('postgres')::text AS db,
                (SELECT sum(pg_database_size(oid)) FROM pg_database)::text AS cluster`,
      )
    ).rows[0]!;
    return { rows, databaseBytes: Number(r.db), allDatabasesBytes: Number(r.cluster) };
  });
}

// ---------------------------------------------------------------- one backup each

interface Sample {
  ms: number;
  /** Size of the resulting directory. */
  bytes: number;
  files: number;
  mibPerSecond: number;
  /** CPU seconds of the client (this Node process, or pg_basebackup and runuser). */
  clientCpuS: number;
  /** The part of clientCpuS spent in the kernel (system time). */
  clientSysS: number;
  /** CPU seconds of the server processes that exited by the end (the walsender). */
  serverCpuS: number;
}

interface OursSample extends Sample {
  archiveBytes: number;
}

interface PgSample extends Sample {
  /** pg_verifybackup on the result, run after the timing; null when skipped. */
  verifyMs: number | null;
}

interface Context {
  node: LocalNode;
  source: ReplicationTarget;
  password: string;
  user: ServerUser | null;
  backups: string;
  postmasterPid: number;
}

/** CPU seconds of the postmaster's reaped children: a backup's walsender once it exited. */
async function serverCpu(ctx: Context): Promise<number> {
  return reapedChildCpu(ctx.postmasterPid).then(
    (c) => c.user + c.sys,
    () => Number.NaN,
  );
}

/** Waits (up to 2 s) for the walsender of the finished backup to be reaped; its CPU seconds. */
async function serverCpuAfter(ctx: Context, before: number): Promise<number> {
  for (let i = 0; i < 40; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const now = await serverCpu(ctx);
    if (now !== before) return now - before;
  }
  return Number.NaN;
}

/** Measures the result, removes it, then flushes the file system so the next round starts clean. */
async function measureAndRemove(path: string): Promise<{ bytes: number; files: number }> {
  const size = await dirSize(path);
  await removeDir(path);
  await run("sync", []);
  return size;
}

let seq = 0;

async function runOurs(ctx: Context, sync: boolean): Promise<OursSample> {
  const dataDir = join(ctx.backups, `dbmesh-${++seq}`);
  const srv0 = await serverCpu(ctx);
  const cpu0 = selfCpu();
  const t0 = performance.now();
  const r = await takeBaseBackup({
    source: ctx.source,
    dataDir,
    owner: ctx.user ? { uid: ctx.user.uid, gid: ctx.user.gid } : undefined,
    label: "dbmesh bench",
    sync,
    signal: abort.signal,
  });
  const ms = performance.now() - t0;
  const client = cpuSince(cpu0, selfCpu());
  const serverCpuS = await serverCpuAfter(ctx, srv0);
  const size = await measureAndRemove(dataDir);
  return {
    ...measured(ms, size, client, serverCpuS),
    archiveBytes: r.bytes,
  };
}

/** What both tools' samples report: time, size, throughput and CPU. */
function measured(
  ms: number,
  size: { bytes: number; files: number },
  client: { user: number; sys: number },
  serverCpuS: number,
) {
  return {
    ms,
    ...size,
    mibPerSecond: mib(size.bytes) / (ms / 1000),
    clientCpuS: client.user + client.sys,
    clientSysS: client.sys,
    serverCpuS,
  };
}

/** Runs a PostgreSQL client tool as the server user when root (runuser), else as ourselves. */
function runTool(ctx: Context, tool: string, args: string[], env: NodeJS.ProcessEnv) {
  const path = join(PG_BIN, tool);
  return ctx.user
    ? run("runuser", ["-u", ctx.user.name, "--", path, ...args], { env })
    : run(path, args, { env });
}

async function runPg(ctx: Context, sync: boolean): Promise<PgSample> {
  const target = join(ctx.backups, `pg-${++seq}`);
  const args = [
    "-D",
    target,
    "-X",
    "fetch",
    "-c",
    "fast",
    "--manifest-checksums=CRC32C",
    "-h",
    "127.0.0.1",
    "-p",
    String(ctx.node.port),
    "-U",
    "postgres",
    "-w",
    ...(sync ? [] : ["--no-sync"]),
  ];
  const env = { PATH: process.env.PATH, LANG: "C", PGPASSWORD: ctx.password };
  const srv0 = await serverCpu(ctx);
  const cpu0 = await reapedChildCpu();
  const t0 = performance.now();
  const r = await runTool(ctx, "pg_basebackup", args, env);
  const ms = performance.now() - t0;
  const client = cpuSince(cpu0, await reapedChildCpu());
  const serverCpuS = await serverCpuAfter(ctx, srv0);
  checkInterrupt();
  if (r.code !== 0) {
    throw new BenchFailure(
      `pg_basebackup exited ${r.code ?? r.signal}: ${r.output}\n  (pg_basebackup ${args.join(" ")})`,
    );
  }
  let verifyMs: number | null = null;
  if (WITH_VERIFY) {
    const v0 = performance.now();
    const v = await runTool(ctx, "pg_verifybackup", ["-q", target], env);
    verifyMs = performance.now() - v0;
    checkInterrupt();
    if (v.code !== 0) {
      throw new BenchFailure(`pg_verifybackup ${target} exited ${v.code ?? v.signal}: ${v.output}`);
    }
  }
  const size = await measureAndRemove(target);
  return {
    ...measured(ms, size, client, serverCpuS),
    verifyMs,
  };
}

// ---------------------------------------------------------------- rounds

interface Variant {
  label: string;
  sync: boolean;
  ours: OursSample[];
  pg: PgSample[];
}

function roundLine(i: number, o: OursSample, p: PgSample, first: string): string {
  return `  round ${i + 1} (${first} first): dbmesh ${fmt(o.ms / 1000, 2)} s ${fmt(o.mibPerSecond)} MiB/s (manifest verified) | pg_basebackup ${fmt(p.ms / 1000, 2)} s ${fmt(p.mibPerSecond)} MiB/s | ratio ${fmt(o.mibPerSecond / p.mibPerSecond, 2)}`;
}

async function runVariant(ctx: Context, v: Variant): Promise<void> {
  out(`\n${v.label}: ${ROUNDS} rounds`);
  for (let i = 0; i < ROUNDS; i++) {
    checkInterrupt();
    let o: OursSample;
    let p: PgSample;
    const oursFirst = i % 2 === 0;
    if (oursFirst) {
      o = await runOurs(ctx, v.sync);
      checkInterrupt();
      p = await runPg(ctx, v.sync);
    } else {
      p = await runPg(ctx, v.sync);
      checkInterrupt();
      o = await runOurs(ctx, v.sync);
    }
    v.ours.push(o);
    v.pg.push(p);
    out(roundLine(i, o, p, oursFirst ? "dbmesh" : "pg_basebackup"));
  }
}

function summarize(samples: readonly Sample[]) {
  return {
    medianMs: round(median(samples.map((s) => s.ms))),
    medianMiBPerSecond: round(median(samples.map((s) => s.mibPerSecond))),
    medianClientCpuS: round(median(samples.map((s) => s.clientCpuS))),
    medianClientSysS: round(median(samples.map((s) => s.clientSysS))),
    medianServerCpuS: round(median(samples.map((s) => s.serverCpuS))),
    bytes: Math.max(...samples.map((s) => s.bytes)),
    files: Math.max(...samples.map((s) => s.files)),
  };
}

const sampleJson = (s: Sample) =>
  Object.fromEntries(
    Object.entries(s).map(([k, v]) => [k, typeof v === "number" ? round(v, 3) : v]),
  );

// ---------------------------------------------------------------- main

async function main(): Promise<number> {
  await ensurePostgres15();
  checkInterrupt();
  const bins = await findBinaries(PG_BIN);
  const pgbbVersion = (await run(join(PG_BIN, "pg_basebackup"), ["--version"])).output;
  enableFastInit(); // initdb --no-sync: the primary's initial files only; benchmark data

  dir = await tempDir("dbmesh-bench-basebackup");
  const fs = await statfs(dir);
  const freeBytes = fs.bavail * fs.bsize;
  // The primary (data and up to max_wal_size of WAL) plus one backup at a time.
  const needBytes = 4 * SIZE_MB * MIB;
  if (freeBytes < needBytes) {
    throw new BenchFailure(
      `${dir} has ${fmt(freeBytes / 2 ** 30)} GiB free; about ${fmt(needBytes / 2 ** 30)} GiB are needed (set BENCH_SIZE_MB lower, or TMPDIR to a roomier file system)`,
    );
  }

  const user = await ensureServerUser();
  const port = await freePort();
  const replication: HbaLine = {
    type: "host",
    database: "replication",
    user: "postgres",
    address: "127.0.0.1/32",
    method: "scram-sha-256",
  };
  const node = testNode(dir, "primary", port, {
    binaries: PG_BIN,
    settings: {
      wal_level: "replica",
      max_wal_senders: 10,
      // No checkpoint forced by WAL volume during the load, and no autovacuum during the rounds.
      max_wal_size: "4GB",
      autovacuum: false,
    },
    hba: [...ADMIN_HBA, replication],
  });
  primary = node;

  out("dbmesh base backup benchmark: takeBaseBackup vs pg_basebackup");
  out(
    `PostgreSQL ${bins.version} (${PG_BIN}, ${pgbbVersion}), Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? "?"}), ${fmt(totalmem() / 2 ** 30)} GiB RAM`,
  );
  out(
    `temp dir ${dir} (statfs type 0x${fs.type.toString(16)}, ${fmt(freeBytes / 2 ** 30)} GiB free); primary on 127.0.0.1:${port}`,
  );
  out(
    user
      ? `running as root: the primary and pg_basebackup run as "${user.name}" (runuser -u ${user.name}); takeBaseBackup runs in this process as root with owner ${user.name} (uid ${user.uid}), so both results are owned by ${user.name}`
      : "running as a non-root user: the primary, pg_basebackup and takeBaseBackup all run as this user",
  );
  const loadBefore = loadavg()[0]!;
  out(`load average (1 min) at start: ${loadBefore.toFixed(2)}`);

  out(`\ninitdb + start of the primary…`);
  await uninterrupted(
    (async () => {
      await initNode(node);
      await startNode(node);
    })(),
  );
  checkInterrupt();
  const password = await adminPassword(node);
  const pid = (await nodeProcess(node)).pid;
  if (pid === undefined) throw new BenchFailure("the primary is not running after startNode");

  out(`loading ~${SIZE_MB} MiB into table big…`);
  const t0 = performance.now();
  const data = await loadData(node, password);
  checkInterrupt();
  out(
    `  ${data.rows} rows; pg_database_size('postgres') = ${fmt(mib(data.databaseBytes))} MiB (all databases ${fmt(mib(data.allDatabasesBytes))} MiB), loaded, frozen and checkpointed in ${fmt((performance.now() - t0) / 1000)} s`,
  );

  const backups = join(dir, "backups");
  await mkdir(backups, { mode: 0o755 });
  if (user) await chown(backups, user.uid, user.gid);
  const ctx: Context = {
    node,
    password,
    user,
    backups,
    postmasterPid: pid,
    source: { node: "primary", host: "127.0.0.1", port, user: "postgres", password },
  };

  const variants: Variant[] = [
    { label: "fsync on (takeBaseBackup sync: true, pg_basebackup default)", sync: true },
    ...(WITH_NO_SYNC
      ? [{ label: "fsync off (takeBaseBackup sync: false, pg_basebackup --no-sync)", sync: false }]
      : []),
  ].map((v) => ({ ...v, ours: [], pg: [] }));

  if (WARMUP > 0) {
    out(`\nwarm-up (${WARMUP} unrecorded pair${WARMUP > 1 ? "s" : ""}, fsync off)…`);
    for (let i = 0; i < WARMUP; i++) {
      checkInterrupt();
      const o = await runOurs(ctx, false);
      checkInterrupt();
      const p = await runPg(ctx, false);
      out(
        `  dbmesh ${fmt(o.mibPerSecond)} MiB/s, pg_basebackup ${fmt(p.mibPerSecond)} MiB/s (${fmt(mib(o.bytes))} / ${fmt(mib(p.bytes))} MiB, ${o.files} / ${p.files} files)`,
      );
    }
  }

  for (const v of variants) await runVariant(ctx, v);

  // ---- report
  out(
    `\nMedians over ${ROUNDS} rounds (MiB/s = resulting directory size / wall time; CPU s = user + system)`,
  );
  const rows: string[][] = [
    [
      "",
      "dbmesh MiB/s",
      "pg_basebackup MiB/s",
      "ratio",
      "dbmesh CPU s: client (sys) / server",
      "pg_basebackup CPU s: client (sys) / server",
    ],
  ];
  const summaries = variants.map((v) => {
    const ours = summarize(v.ours);
    const theirs = summarize(v.pg);
    const ratios = v.ours.map((o, i) => o.mibPerSecond / v.pg[i]!.mibPerSecond);
    const ratio = ours.medianMiBPerSecond / theirs.medianMiBPerSecond;
    rows.push([
      v.sync ? "fsync on" : "fsync off",
      fmt(ours.medianMiBPerSecond),
      fmt(theirs.medianMiBPerSecond),
      `${fmt(ratio, 2)} (rounds ${ratios.map((r) => fmt(r, 2)).join(", ")})`,
      `${fmt(ours.medianClientCpuS, 2)} (${fmt(ours.medianClientSysS, 2)}) / ${fmt(ours.medianServerCpuS, 2)}`,
      `${fmt(theirs.medianClientCpuS, 2)} (${fmt(theirs.medianClientSysS, 2)}) / ${fmt(theirs.medianServerCpuS, 2)}`,
    ]);
    const verifyMs = v.pg.map((p) => p.verifyMs).filter((x): x is number => x !== null);
    const withVerify =
      verifyMs.length === v.pg.length
        ? median(v.pg.map((p) => mib(p.bytes) / ((p.ms + p.verifyMs!) / 1000)))
        : null;
    return { v, ours, theirs, ratios, ratio, withVerify, verifyMs };
  });
  out(table(rows));
  for (const s of summaries) {
    if (s.withVerify === null) continue;
    out(
      `  ${s.v.sync ? "fsync on" : "fsync off"}: pg_basebackup + pg_verifybackup (what takeBaseBackup does in one call): ${fmt(s.withVerify)} MiB/s; dbmesh / that = ${fmt(s.ours.medianMiBPerSecond / s.withVerify, 2)} (pg_verifybackup median ${fmt(median(s.verifyMs) / 1000, 2)} s)`,
    );
  }
  const first = summaries[0]!;
  out(
    `  backup size: dbmesh ${fmt(mib(first.ours.bytes))} MiB in ${first.ours.files} files, pg_basebackup ${fmt(mib(first.theirs.bytes))} MiB in ${first.theirs.files} files; every dbmesh backup was checked against its manifest`,
  );
  out(
    `\nAim: dbmesh at least 0.8 of pg_basebackup's throughput with fsync on — measured ${fmt(first.ratio, 2)} (figures only; no threshold is enforced)`,
  );

  const results = {
    benchmark: "basebackup",
    date: new Date().toISOString(),
    postgres: bins.version,
    pgBasebackup: pgbbVersion,
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? null,
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    fileSystemType: `0x${fs.type.toString(16)}`,
    runAs: user
      ? {
          pgBasebackup: user.name,
          takeBaseBackup: `root, owner ${user.name}`,
          server: user.name,
        }
      : { pgBasebackup: "self", takeBaseBackup: "self", server: "self" },
    loadAverage: { start: round(loadBefore), end: round(loadavg()[0]!) },
    sizeMiBRequested: SIZE_MB,
    rows: data.rows,
    databaseBytes: data.databaseBytes,
    allDatabasesBytes: data.allDatabasesBytes,
    rounds: ROUNDS,
    warmupPairs: WARMUP,
    pgBasebackupArgs:
      "-D DIR -X fetch -c fast --manifest-checksums=CRC32C -h 127.0.0.1 -p PORT -U postgres -w [--no-sync]",
    variants: summaries.map((s) => ({
      label: s.v.label,
      sync: s.v.sync,
      dbmesh: { ...summarize(s.v.ours), samples: s.v.ours.map(sampleJson) },
      pgBasebackup: { ...summarize(s.v.pg), samples: s.v.pg.map(sampleJson) },
      ratio: round(s.ratio, 3),
      roundRatios: s.ratios.map((r) => round(r, 3)),
      pgBasebackupPlusVerifyMiBPerSecond: s.withVerify === null ? null : round(s.withVerify),
      ratioVsPgBasebackupPlusVerify:
        s.withVerify === null ? null : round(s.ours.medianMiBPerSecond / s.withVerify, 3),
    })),
    aim: { ratio: 0.8, measured: round(first.ratio, 3), met: first.ratio >= 0.8 },
  };
  writeResults(resultsFile, results);
  return 0;
}

await runBenchmark({
  main,
  cleanUp,
  onInterrupt: () => {
    abort.abort(new Interrupted("interrupted"));
    stopRunning();
  },
  cleaning: "stopping and purging the primary, removing the temporary directory…",
});

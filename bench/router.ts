// npm run bench:router — pgbench through `dbmesh serve` against the same PostgreSQL 17 primary
// directly, through PgBouncer and through pgpool-II (Debian packages, installed when missing).
//
// Part 1: one primary (embedded PostgreSQL 17 made by `dbmesh up`, scale BENCH_SCALE, default
// 10), four targets, all running side by side for the whole part:
//   direct     pgbench → the primary
//   dbmesh     `dbmesh serve`, transaction mode, poolSize 16
//   PgBouncer  transaction mode, default_pool_size 16, auth_type scram-sha-256 with the
//              plaintext password in userlist.txt so it can log in to the server with SCRAM
//   pgpool-II  connection_cache on, num_init_children 72 (≥ 64 clients), max_pool 1,
//              load_balance_mode off, backend flagged ALWAYS_PRIMARY; clients authenticate
//              with scram-sha-256 through pool_hba.conf and pgpool logs in to the server with
//              the plaintext `bench:TEXT<password>` entry of pool_passwd (pgpool ≥ 4.2 reads
//              TEXT-prefixed entries; an AES entry would need a key file, md5 would not do SCRAM)
// Workloads: select-only (-S) and the built-in TPC-B-like script, each at 16 and 64 clients,
// -j 2, -T BENCH_SECONDS (default 15), -M BENCH_PROTOCOL (simple, the default; extended or
// prepared — PgBouncer 1.18 has no prepared statements in transaction mode; results then go to
// router-PROTOCOL.json). Per workload the
// four targets run one after another, starting with a different one each workload; before each
// run pgbench_history is truncated, branches and tellers vacuumed and a CHECKPOINT taken
// (pgbench runs with -n). Each target first gets an unrecorded warm-up (BENCH_WARMUP seconds,
// default 3, select-only at 16 clients).
// TPS is pgbench's "without initial connection time". p99 (and p50) latency come from pgbench's
// per-transaction logs (-l --log-prefix), every transaction of the run; CPU seconds of the
// dbmesh and PgBouncer processes over each run come from /proc/PID/stat and are reported per
// transaction, which other load on the machine disturbs less than TPS, with the part spent in
// user mode (the rest is the kernel's loopback TCP path, about the same for both poolers)
// (pgpool-II is a process per client, so it is not counted).
//
// Part 2: a primary and two asynchronous standbys built by `dbmesh up` (its own base backup),
// capacities 2:1 on the standbys (readFromPrimary false, so the primary's declared share of
// reads is 0), scale 1, then pgbench -S at 16 clients through `dbmesh serve`. The reads each
// node served are the deltas of pg_stat_database.xact_commit for the bench database, read
// before serve starts and after it stopped (its server connections have exited then, so every
// backend flushed its statistics). The aim is each share within 10% (relative) of its weight.
//
// Aims from issue 4 are printed next to the figures, not enforced: dbmesh ≥ 1.5x pgpool-II and
// ≥ 0.75x PgBouncer on select-only at 16 clients; read shares within 10% of the weights.
// Everything listens on loopback ports found free; PgBouncer and pgpool-II run as the server
// user (they refuse root) from a temporary directory it owns. Every process started here is
// stopped and the servers purged at the end, also on error and ^C.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { access, chown, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { ensureServerUser, type ServerUser } from "../src/cluster/index.js";
import { freePorts, type MeshFixture, meshFixture } from "../src/testing/index.js";
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

const PG_BIN = "/usr/lib/postgresql/15/bin";
const PGBENCH = join(PG_BIN, "pgbench");
const PGBOUNCER = "/usr/sbin/pgbouncer";
const PGPOOL = "/usr/sbin/pgpool";
/** What each Debian package brings that this benchmark runs, and its init script. */
const PACKAGES = [
  { name: "pgbouncer", file: PGBOUNCER, service: "pgbouncer" },
  { name: "pgpool2", file: PGPOOL, service: "pgpool2" },
  { name: "postgresql-15", file: PGBENCH, service: "postgresql" },
] as const;
const DBMESH = fileURLToPath(new URL("../../bin/dbmesh.js", import.meta.url));

const SECONDS = intEnv("BENCH_SECONDS", 15, 1);
const WARMUP = intEnv("BENCH_WARMUP", 3, 0);
const SCALE = intEnv("BENCH_SCALE", 10, 1);
const PROTOCOL = process.env.BENCH_PROTOCOL || "simple";
if (!["simple", "extended", "prepared"].includes(PROTOCOL)) {
  process.stderr.write(`BENCH_PROTOCOL=${PROTOCOL}: expected simple, extended or prepared\n`);
  process.exit(2);
}
/** router.json for the default protocol; a run with another one does not replace it. */
const resultsFile = fileURLToPath(
  new URL(
    `../../bench/results/router${PROTOCOL === "simple" ? "" : `-${PROTOCOL}`}.json`,
    import.meta.url,
  ),
);
const POOL_SIZE = 16;
const CLIENTS = [16, 64] as const;
const PGPOOL_CHILDREN = 72;
const THREADS = 2;
/** pgbench gets this long beyond its -T before it is stopped as hung. */
const GRACE_MS = 60_000;
/** Part 2: capacities of the standbys, 2:1. */
const STANDBY_CAPACITY = { "standby-a": 2, "standby-b": 1 } as const;

const PASSWORD = randomBytes(12).toString("hex");
const ENV = { BENCH_PASSWORD: PASSWORD, REPLICATOR_PASSWORD: randomBytes(12).toString("hex") };

// ---------------------------------------------------------------- cleanup (finally and SIGINT)

/** Servers and poolers running, stopped in reverse order. */
const daemons: Daemon[] = [];
const meshes: MeshFixture[] = [];
let cleanup: Promise<void> | undefined;

function cleanUp(): Promise<void> {
  cleanup ??= (async () => {
    stopRunning();
    for (const d of [...daemons].reverse()) await d.stop();
    for (const m of meshes) {
      await m.destroy().catch((e: unknown) => {
        process.stderr.write(`cleanup: ${(e as Error).message}\n`);
      });
    }
  })();
  return cleanup;
}

// ---------------------------------------------------------------- processes

/** A long-running process started here (a pooler or `dbmesh serve`), with its output's tail. */
class Daemon {
  private tail = "";
  private exited: Promise<void>;
  private done = false;

  constructor(
    readonly name: string,
    readonly proc: ChildProcess,
    /** SIGTERM stops PgBouncer and dbmesh at once; pgpool-II wants SIGINT (fast shutdown). */
    private readonly stopSignal: NodeJS.Signals,
  ) {
    const keep = (b: Buffer) => {
      this.tail = (this.tail + b.toString("utf8")).slice(-16 * 1024);
    };
    proc.stdout?.on("data", keep);
    proc.stderr?.on("data", keep);
    this.exited = new Promise((resolve) => {
      proc.once("close", () => {
        this.done = true;
        resolve();
      });
      proc.once("error", (e) => {
        keep(Buffer.from(`\n${e.message}`));
        this.done = true;
        resolve();
      });
    });
    daemons.push(this);
  }

  get output(): string {
    return this.tail.trim();
  }

  get running(): boolean {
    return !this.done;
  }

  /** Resolves when `pattern` appears in the output; rejects if the process exits first. */
  async waitFor(pattern: RegExp, ms: number): Promise<void> {
    const until = performance.now() + ms;
    while (!pattern.test(this.tail)) {
      checkInterrupt();
      if (this.done) throw new Error(`${this.name} exited: ${this.output.slice(-2000)}`);
      if (performance.now() > until) {
        throw new Error(
          `${this.name} did not start in ${ms / 1000} s: ${this.output.slice(-2000)}`,
        );
      }
      await sleep(50);
    }
  }

  /** Stops it (its own process group, as spawned detached), SIGKILL after 10 s. */
  async stop(): Promise<void> {
    if (this.done) return;
    this.proc.kill(this.stopSignal);
    const timer = setTimeout(() => {
      const pid = this.proc.pid;
      if (pid !== undefined && !this.done) {
        try {
          process.kill(-pid, "SIGKILL");
        } catch {
          this.proc.kill("SIGKILL");
        }
      }
    }, 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}

/**
 * Starts a daemon in its own process group, so ^C reaches only this process and the cleanup
 * stops the daemons in order; as `user` (uid/gid) when given.
 */
function startDaemon(
  name: string,
  file: string,
  args: readonly string[],
  opts: {
    user?: ServerUser | null;
    env?: NodeJS.ProcessEnv;
    cwd: string;
    stopSignal: NodeJS.Signals;
  },
): Daemon {
  const proc = spawn(file, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
    ...(opts.user ? { uid: opts.user.uid, gid: opts.user.gid } : {}),
  });
  return new Daemon(name, proc, opts.stopSignal);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU seconds (all threads) of a process in user and system mode: /proc/PID/stat fields 14 and 15. */
async function processCpu(pid: number | undefined): Promise<{ user: number; system: number }> {
  const unknown = { user: Number.NaN, system: Number.NaN };
  if (pid === undefined) return unknown;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // f[0] is field 3 (state): utime is field 14, stime 15, in USER_HZ (100) ticks.
    return { user: Number(f[11]) / 100, system: Number(f[12]) / 100 };
  } catch {
    return unknown;
  }
}

// ---------------------------------------------------------------- Debian packages

async function present(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Installs what is missing with `aptInstall`. Our servers listen on free ports with sockets in
 * our own directories, so a package service that starts cannot collide with them; one that the
 * install started (Docker images usually forbid that through policy-rc.d) is stopped again, and
 * nothing else is touched.
 */
async function ensurePackages(): Promise<string[]> {
  const missing: string[] = [];
  for (const p of PACKAGES) if (!(await present(p.file))) missing.push(p.name);
  if (missing.length === 0) return [];
  const code = await aptInstall(missing);
  const still: string[] = [];
  for (const p of PACKAGES) if (!(await present(p.file))) still.push(p.file);
  if (code !== 0 || still.length > 0) {
    throw new BenchFailure(
      `apt-get install exited ${code}${still.length ? `; still missing: ${still.join(", ")}` : ""}`,
    );
  }
  for (const p of PACKAGES.filter((p) => missing.includes(p.name))) {
    if (!(await present(`/etc/init.d/${p.service}`))) continue;
    const status = await run("service", [p.service, "status"]);
    if (status.code === 0) {
      out(`the ${p.name} install started its service; stopping it`);
      await run("service", [p.service, "stop"]);
    }
  }
  return missing;
}

// ---------------------------------------------------------------- targets

interface Target {
  readonly name: "direct" | "dbmesh" | "PgBouncer" | "pgpool-II";
  readonly port: number;
  readonly daemon?: Daemon;
  /** Why it could not be started, if so. */
  error?: string;
}

/** A login as bench that runs one query: the target accepts clients end to end. */
async function probe(port: number, ms: number): Promise<void> {
  const until = performance.now() + ms;
  for (;;) {
    checkInterrupt();
    const c = new pg.Client({
      host: "127.0.0.1",
      port,
      user: "bench",
      password: PASSWORD,
      database: "bench",
      connectionTimeoutMillis: 5000,
    });
    c.on("error", () => {});
    try {
      await c.connect();
      await c.query("SELECT 1");
      await c.end();
      return;
    } catch (e) {
      await c.end().catch(() => {});
      if (performance.now() > until) throw e;
      await sleep(200);
    }
  }
}

async function startServe(name: string, m: MeshFixture): Promise<Daemon> {
  const d = startDaemon(name, process.execPath, [DBMESH, "-f", m.file, "serve"], {
    cwd: m.dir,
    env: { ...process.env, ...m.env },
    stopSignal: "SIGTERM",
  });
  await d.waitFor(/listening on 127\.0\.0\.1:\d+/, 60_000);
  return d;
}

async function ownedDir(path: string, user: ServerUser | null): Promise<string> {
  await mkdir(path, { recursive: true, mode: 0o700 });
  if (user) await chown(path, user.uid, user.gid);
  return path;
}

async function ownedFile(path: string, text: string, user: ServerUser | null): Promise<void> {
  await writeFile(path, text, { mode: 0o600 });
  if (user) await chown(path, user.uid, user.gid);
}

async function startPgBouncer(
  dir: string,
  user: ServerUser | null,
  port: number,
  primary: number,
): Promise<Daemon> {
  const conf = join(dir, "pgbouncer.ini");
  // https://www.pgbouncer.org/config.html
  await ownedFile(
    conf,
    `[databases]
bench = host=127.0.0.1 port=${primary} dbname=bench

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port}
unix_socket_dir = ${dir}
pidfile = ${join(dir, "pgbouncer.pid")}
auth_type = scram-sha-256
auth_file = ${join(dir, "userlist.txt")}
pool_mode = transaction
default_pool_size = ${POOL_SIZE}
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = 500
log_connections = 0
log_disconnections = 0
`,
    user,
  );
  // A plaintext password lets PgBouncer answer the server's SCRAM challenge itself.
  await ownedFile(join(dir, "userlist.txt"), `"bench" "${PASSWORD}"\n`, user);
  return startDaemon("PgBouncer", PGBOUNCER, [conf], {
    user,
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: dir, LANG: "C" },
    stopSignal: "SIGTERM",
  });
}

async function startPgpool(
  dir: string,
  user: ServerUser | null,
  port: number,
  pcpPort: number,
  primary: number,
): Promise<Daemon> {
  const conf = join(dir, "pgpool.conf");
  // https://www.pgpool.net/docs/43/en/html/runtime-config.html
  await ownedFile(
    conf,
    `backend_clustering_mode = 'streaming_replication'
listen_addresses = '127.0.0.1'
port = ${port}
socket_dir = '${dir}'
pcp_listen_addresses = ''
pcp_port = ${pcpPort}
pcp_socket_dir = '${dir}'
wd_ipc_socket_dir = '${dir}'
pid_file_name = '${join(dir, "pgpool.pid")}'
logdir = '${dir}'
log_destination = 'stderr'
log_min_messages = warning
backend_hostname0 = '127.0.0.1'
backend_port0 = ${primary}
backend_weight0 = 1
backend_flag0 = 'ALWAYS_PRIMARY'
enable_pool_hba = on
pool_passwd = 'pool_passwd'
num_init_children = ${PGPOOL_CHILDREN}
max_pool = 1
reserved_connections = 0
connection_cache = on
child_life_time = 0
child_max_connections = 0
connection_life_time = 0
client_idle_limit = 0
load_balance_mode = off
sr_check_period = 0
sr_check_user = 'bench'
health_check_period = 0
failover_on_backend_error = off
use_watchdog = off
memory_cache_enabled = off
`,
    user,
  );
  await ownedFile(
    join(dir, "pool_hba.conf"),
    "host all all 127.0.0.1/32 scram-sha-256\nlocal all all scram-sha-256\n",
    user,
  );
  await ownedFile(join(dir, "pool_passwd"), `bench:TEXT${PASSWORD}\n`, user);
  await ownedFile(join(dir, "pcp.conf"), "", user);
  return startDaemon(
    "pgpool-II",
    PGPOOL,
    ["-n", "-D", "-f", conf, "-a", join(dir, "pool_hba.conf"), "-F", join(dir, "pcp.conf")],
    {
      user,
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: dir, LANG: "C" },
      stopSignal: "SIGINT",
    },
  );
}

// ---------------------------------------------------------------- pgbench

interface Workload {
  readonly label: string;
  readonly selectOnly: boolean;
  readonly clients: number;
}

const WORKLOADS: readonly Workload[] = [
  ...CLIENTS.map((clients) => ({
    label: `select-only, ${clients} clients`,
    selectOnly: true,
    clients,
  })),
  ...CLIENTS.map((clients) => ({
    label: `TPC-B-like, ${clients} clients`,
    selectOnly: false,
    clients,
  })),
];

interface Sample {
  tps: number;
  transactions: number;
  failed: number;
  latencyAvgMs: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU seconds of the pooler process during the run (dbmesh and PgBouncer only). */
  poolerCpuS: number | null;
  /**
   * The part of it in user mode. The rest is the kernel's, mostly the loopback TCP path of each
   * read and write, which any pooler pays per message; the user part is the pooler's own code
   * (for dbmesh: Node's per-read and per-write machinery, then the router).
   */
  poolerUserS: number | null;
}

type Outcome = Sample | { error: string };

const isSample = (o: Outcome | undefined): o is Sample => o !== undefined && !("error" in o);

/** Pooler CPU per transaction: less sensitive than TPS to what else the machine runs. */
const cpuUsPerTx = (o: Sample) =>
  o.poolerCpuS === null ? null : (o.poolerCpuS * 1e6) / o.transactions;
const userUsPerTx = (o: Sample) =>
  o.poolerUserS === null ? null : (o.poolerUserS * 1e6) / o.transactions;

/** Latency percentiles from pgbench's per-transaction log lines (column 3, microseconds). */
async function percentiles(logDir: string): Promise<{ p50: number; p99: number; n: number }> {
  const chunks: Float64Array[] = [];
  let n = 0;
  for (const f of await readdir(logDir)) {
    // client_id transaction_no time script_no time_epoch time_us [schedule_lag]
    // https://www.postgresql.org/docs/15/pgbench.html#PGBENCH-LOGGING
    const text = await readFile(join(logDir, f), "utf8");
    const a = new Float64Array(text.length / 12 + 1);
    let k = 0;
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf("\n", start);
      if (end < 0) end = text.length;
      const s1 = text.indexOf(" ", start);
      const s2 = text.indexOf(" ", s1 + 1);
      const s3 = text.indexOf(" ", s2 + 1);
      if (s1 > 0 && s3 > s2 && s3 < end) {
        const us = Number(text.slice(s2 + 1, s3));
        if (Number.isFinite(us)) a[k++] = us;
      }
      start = end + 1;
    }
    chunks.push(a.subarray(0, k));
    n += k;
  }
  const all = new Float64Array(n);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  all.sort();
  const q = (p: number) => (n === 0 ? Number.NaN : all[Math.min(n - 1, Math.floor(p * n))]! / 1000);
  return { p50: q(0.5), p99: q(0.99), n };
}

const pgbenchEnv = () => ({
  PATH: process.env.PATH,
  LANG: "C",
  PGPASSWORD: PASSWORD,
  // No TLS towards any target: libpq's default (prefer) would try it first on every connection.
  PGSSLMODE: "disable",
});

let runSeq = 0;

async function pgbench(
  dir: string,
  target: Target,
  w: Workload,
  seconds: number,
  log: boolean,
): Promise<Outcome> {
  const logDir = join(dir, `log-${++runSeq}`);
  await mkdir(logDir);
  const args = [
    "-h",
    "127.0.0.1",
    "-p",
    String(target.port),
    "-U",
    "bench",
    "-n",
    "-c",
    String(w.clients),
    "-j",
    String(THREADS),
    "-T",
    String(seconds),
    "-M",
    PROTOCOL,
    ...(w.selectOnly ? ["-S"] : []),
    ...(log ? ["-l", "--log-prefix", join(logDir, "tx")] : []),
    "bench",
  ];
  const cpu0 = await processCpu(target.daemon?.proc.pid);
  const r = await run(PGBENCH, args, {
    env: pgbenchEnv(),
    timeoutMs: seconds * 1000 + GRACE_MS,
  });
  const cpu1 = await processCpu(target.daemon?.proc.pid);
  checkInterrupt();
  try {
    const tps = r.output.match(/^tps = ([\d.]+) \(without initial connection time\)/m);
    if (r.timedOut) return { error: `pgbench did not finish within -T + ${GRACE_MS / 1000} s` };
    if (r.code !== 0 || !tps) {
      const lines = r.output
        .split("\n")
        .filter((l) => !/^(pgbench \(|starting|transaction type)/.test(l));
      return { error: `pgbench exited ${r.code ?? r.signal}: ${lines.slice(0, 6).join(" | ")}` };
    }
    const num = (re: RegExp) => Number(r.output.match(re)?.[1] ?? Number.NaN);
    const p = log ? await percentiles(logDir) : { p50: Number.NaN, p99: Number.NaN, n: 0 };
    const pooler = target.name === "dbmesh" || target.name === "PgBouncer";
    return {
      tps: Number(tps[1]),
      transactions: num(/number of transactions actually processed: (\d+)/),
      failed: num(/number of failed transactions: (\d+)/) || 0,
      latencyAvgMs: num(/latency average = ([\d.]+) ms/),
      p50Ms: p.p50,
      p99Ms: p.p99,
      poolerCpuS: pooler ? cpu1.user + cpu1.system - cpu0.user - cpu0.system : null,
      poolerUserS: pooler ? cpu1.user - cpu0.user : null,
    };
  } finally {
    await rm(logDir, { recursive: true, force: true });
  }
}

/** What pgbench does before a run unless -n: so every target starts from the same state. */
async function resetTables(m: MeshFixture, port: number): Promise<void> {
  const c = await m.connect(port, "bench");
  try {
    await c.query("TRUNCATE pgbench_history");
    await c.query("VACUUM pgbench_branches, pgbench_tellers");
    await c.query("CHECKPOINT");
  } finally {
    await c.end();
  }
}

async function initPgbench(port: number, scale: number): Promise<void> {
  const r = await uninterrupted(
    run(
      PGBENCH,
      [
        "-i",
        "-q",
        "-s",
        String(scale),
        "-h",
        "127.0.0.1",
        "-p",
        String(port),
        "-U",
        "bench",
        "bench",
      ],
      { env: pgbenchEnv() },
    ),
  );
  checkInterrupt();
  if (r.code !== 0) throw new BenchFailure(`pgbench -i exited ${r.code}: ${r.output}`);
}

// ---------------------------------------------------------------- formatting

const round = (x: number, digits = 2) =>
  Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : null;
const fmt = (x: number | null | undefined, digits = 1) =>
  x === null || x === undefined || !Number.isFinite(x) ? "—" : x.toFixed(digits);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

// ---------------------------------------------------------------- part 1

const TARGET_NAMES = ["direct", "dbmesh", "PgBouncer", "pgpool-II"] as const;

interface Part1 {
  targets: Target[];
  results: Map<string, Map<string, Outcome>>;
}

async function part1(user: ServerUser | null): Promise<Part1> {
  out(`\n== Part 1: one primary, scale ${SCALE}; direct vs dbmesh vs PgBouncer vs pgpool-II`);
  const [pgbouncerPort, pgpoolPort, pcpPort] = await freePorts(3);
  const m = await meshFixture({
    name: "bench-router",
    ports: 2,
    env: ENV,
    yaml: (p) => `version: 1
nodes:
  primary: { port: ${p[0]}, settings: { max_connections: 300, shared_buffers: 512MB } }
roles:
  bench: { password: env:BENCH_PASSWORD, nodes: [primary] }
databases:
  bench: { node: primary, owner: bench }
router: { listen: 127.0.0.1:${p[1]}, mode: transaction, poolSize: ${POOL_SIZE} }
`,
  });
  meshes.push(m);
  const [primary, routerPort] = m.ports as [number, number];
  out(`dbmesh up (PostgreSQL 17 primary on 127.0.0.1:${primary})…`);
  const up = await uninterrupted(m.run("up"));
  checkInterrupt();
  if (up.code !== 0)
    throw new BenchFailure(`dbmesh up exited ${up.code}: ${up.stdout}${up.stderr}`);
  out(`pgbench -i -s ${SCALE}…`);
  const t0 = performance.now();
  await initPgbench(primary, SCALE);
  out(`  ${fmt((performance.now() - t0) / 1000)} s`);

  const poolDir = await ownedDir(join(m.dir, "poolers"), user);
  const targets: Target[] = [{ name: "direct", port: primary }];
  const start = async (
    name: Target["name"],
    port: number,
    launch: () => Promise<Daemon>,
  ): Promise<void> => {
    let daemon: Daemon | undefined;
    try {
      daemon = await launch();
      await probe(port, 30_000);
      targets.push({ name, port, daemon });
      out(`  ${name} on 127.0.0.1:${port}`);
    } catch (e) {
      if (e instanceof Interrupted) throw e;
      const error = `${(e as Error).message}${daemon?.output ? `\n    its output: ${daemon.output.slice(-1500)}` : ""}`;
      targets.push({ name, port, daemon, error });
      out(`  ${name} could not be started: ${error}`);
      await daemon?.stop();
    }
  };
  out("starting the poolers…");
  await start("dbmesh", routerPort, () => startServe("dbmesh serve", m));
  await start("PgBouncer", pgbouncerPort!, async () =>
    startPgBouncer(await ownedDir(join(poolDir, "pgbouncer"), user), user, pgbouncerPort!, primary),
  );
  await start("pgpool-II", pgpoolPort!, async () =>
    startPgpool(
      await ownedDir(join(poolDir, "pgpool"), user),
      user,
      pgpoolPort!,
      pcpPort!,
      primary,
    ),
  );
  targets.sort((a, b) => TARGET_NAMES.indexOf(a.name) - TARGET_NAMES.indexOf(b.name));

  const logs = await ownedDir(join(m.dir, "pgbench"), null);
  const live = () => targets.filter((t) => !t.error);
  if (WARMUP > 0) {
    out(`\nwarm-up: ${WARMUP} s select-only, 16 clients, per target (not recorded)`);
    for (const t of live()) {
      const r = await pgbench(logs, t, WORKLOADS[0]!, WARMUP, false);
      out(`  ${t.name}: ${isSample(r) ? `${fmt(r.tps, 0)} tps` : r.error}`);
    }
  }

  const results = new Map<string, Map<string, Outcome>>();
  for (const [wi, w] of WORKLOADS.entries()) {
    const order = live();
    const rotated = [...order.slice(wi % order.length), ...order.slice(0, wi % order.length)];
    out(
      `\n${w.label}, ${SECONDS} s each, -M ${PROTOCOL} (order: ${rotated.map((t) => t.name).join(", ")})`,
    );
    const row = new Map<string, Outcome>();
    results.set(w.label, row);
    for (const t of rotated) {
      checkInterrupt();
      await resetTables(m, primary);
      if (t.daemon && !t.daemon.running) {
        row.set(t.name, {
          error: `${t.name} is no longer running: ${t.daemon.output.slice(-1000)}`,
        });
      } else {
        row.set(t.name, await pgbench(logs, t, w, SECONDS, true));
      }
      const r = row.get(t.name)!;
      out(
        isSample(r)
          ? `  ${t.name.padEnd(9)} ${fmt(r.tps, 0).padStart(7)} tps   avg ${fmt(r.latencyAvgMs, 2)} ms   p99 ${fmt(r.p99Ms, 2)} ms${r.failed ? `   ${r.failed} failed` : ""}${r.poolerCpuS !== null ? `   pooler CPU ${fmt(r.poolerCpuS, 1)} s (${fmt(cpuUsPerTx(r), 1)} µs/tx, ${fmt(userUsPerTx(r), 1)} in user mode)` : ""}`
          : `  ${t.name.padEnd(9)} failed: ${r.error}`,
      );
    }
  }
  for (const t of targets) {
    if (t.daemon?.running) await t.daemon.stop();
  }
  const serve = targets.find((t) => t.name === "dbmesh")?.daemon;
  const serveErrors = serve?.output
    .split("\n")
    .filter((l) => !/listening on/.test(l) && l.trim() !== "");
  if (serveErrors?.length) {
    out(`\ndbmesh serve wrote (last lines):\n  ${serveErrors.slice(-15).join("\n  ")}`);
  }
  await m.destroy();
  meshes.splice(meshes.indexOf(m), 1);
  return { targets, results };
}

// ---------------------------------------------------------------- part 2

interface Part2 {
  seconds: number;
  pgbench: Outcome;
  nodes: { name: string; capacity: number; weight: number; reads: number; share: number }[];
  balancing: "active" | "not active" | "no reads counted";
  withinTenPercent: boolean;
  serveOutput: string[];
  error?: string;
}

async function readCommits(m: MeshFixture, port: number): Promise<number> {
  const [[n]] = (await m.rows(
    port,
    "postgres",
    "SELECT xact_commit FROM pg_stat_database WHERE datname = 'bench'",
  )) as [[string]];
  return Number(n);
}

async function part2(): Promise<Part2> {
  out("\n== Part 2: a primary and two standbys with capacities 2:1; select-only through dbmesh");
  const cap = STANDBY_CAPACITY;
  const m = await meshFixture({
    name: "bench-router-ha",
    ports: 4,
    env: ENV,
    yaml: (p) => `version: 1
nodes:
  primary: { port: ${p[0]}, capacity: 1 }
  standby-a: { port: ${p[1]}, replicaOf: primary, capacity: ${cap["standby-a"]} }
  standby-b: { port: ${p[2]}, replicaOf: primary, capacity: ${cap["standby-b"]} }
roles:
  replicator: { password: env:REPLICATOR_PASSWORD, nodes: [primary], replication: true }
  bench: { password: env:BENCH_PASSWORD, nodes: [primary] }
databases:
  bench: { node: primary, owner: bench }
router: { listen: 127.0.0.1:${p[3]}, mode: transaction, poolSize: ${POOL_SIZE}, readFromPrimary: false }
`,
  });
  meshes.push(m);
  const [primary, a, b, routerPort] = m.ports as [number, number, number, number];
  const nodes = [
    { name: "primary", port: primary, capacity: 1, weight: 0 },
    { name: "standby-a", port: a, capacity: cap["standby-a"], weight: 0 },
    { name: "standby-b", port: b, capacity: cap["standby-b"], weight: 0 },
  ];
  const total = cap["standby-a"] + cap["standby-b"];
  for (const n of nodes) n.weight = n.name === "primary" ? 0 : n.capacity / total;
  out("dbmesh up (primary, then both standbys from its base backup)…");
  const up = await uninterrupted(m.run("up"));
  checkInterrupt();
  if (up.code !== 0)
    throw new BenchFailure(`dbmesh up exited ${up.code}: ${up.stdout}${up.stderr}`);
  out("pgbench -i -s 1 on the primary, then waiting for both standbys to replay it…");
  await initPgbench(primary, 1);
  const [[lsn]] = (await m.rows(primary, "postgres", "SELECT pg_current_wal_lsn()")) as [[string]];
  for (const port of [a, b]) {
    for (let i = 0; ; i++) {
      checkInterrupt();
      const [[done]] = (await m.rows(
        port,
        "postgres",
        `SELECT coalesce(pg_last_wal_replay_lsn() >= '${lsn}'::pg_lsn, false)`,
      )) as [[string]];
      if (done === "t") break;
      if (i > 600)
        throw new BenchFailure(`the standby on port ${port} did not replay ${lsn} in 2 min`);
      await sleep(200);
    }
  }

  const before = await Promise.all(nodes.map((n) => readCommits(m, n.port)));
  let serve: Daemon | undefined;
  let result: Outcome;
  let error: string | undefined;
  try {
    serve = await startServe("dbmesh serve (part 2)", m);
    await probe(routerPort, 30_000);
    const w = { label: "select-only, 16 clients", selectOnly: true, clients: 16 };
    out(`pgbench -S, 16 clients, ${SECONDS} s through dbmesh…`);
    result = await pgbench(
      m.dir,
      { name: "dbmesh", port: routerPort, daemon: serve },
      w,
      SECONDS,
      true,
    );
    out(
      isSample(result)
        ? `  ${fmt(result.tps, 0)} tps, p99 ${fmt(result.p99Ms, 2)} ms${result.failed ? `, ${result.failed} failed` : ""}`
        : `  failed: ${result.error}`,
    );
  } catch (e) {
    if (e instanceof Interrupted) throw e;
    error = `${(e as Error).message}${serve?.output ? `\n    its output: ${serve.output.slice(-1500)}` : ""}`;
    result = { error };
    out(`  dbmesh serve failed: ${error}`);
  }
  await serve?.stop();
  // Backends flush their statistics when they exit; give the last ones a moment.
  await sleep(1500);
  const after = await Promise.all(nodes.map((n) => readCommits(m, n.port)));
  const reads = nodes.map((_, i) => after[i]! - before[i]!);
  const sum = reads.reduce((x, y) => x + y, 0);
  const rows = nodes.map((n, i) => ({
    name: n.name,
    capacity: n.capacity,
    weight: n.weight,
    reads: reads[i]!,
    share: sum ? reads[i]! / sum : 0,
  }));
  const standbyReads = reads[1]! + reads[2]!;
  const balancing = sum === 0 ? "no reads counted" : standbyReads === 0 ? "not active" : "active";
  const withinTenPercent =
    sum > 0 &&
    rows.every((r) => (r.weight === 0 ? r.share < 0.1 : Math.abs(r.share / r.weight - 1) <= 0.1));
  const serveOutput = (serve?.output ?? "")
    .split("\n")
    .filter((l) => l.trim() !== "" && !/listening on/.test(l))
    .slice(-15);
  await m.destroy();
  meshes.splice(meshes.indexOf(m), 1);
  return {
    seconds: SECONDS,
    pgbench: result,
    nodes: rows,
    balancing,
    withinTenPercent,
    serveOutput,
    ...(error ? { error } : {}),
  };
}

// ---------------------------------------------------------------- main

function sampleJson(o: Outcome | undefined) {
  if (o === undefined) return null;
  if (!isSample(o)) return o;
  return {
    tps: round(o.tps, 1),
    transactions: o.transactions,
    failed: o.failed,
    latencyAvgMs: round(o.latencyAvgMs, 3),
    p50Ms: round(o.p50Ms, 3),
    p99Ms: round(o.p99Ms, 3),
    poolerCpuS: o.poolerCpuS === null ? null : round(o.poolerCpuS, 2),
    poolerCpuUsPerTx: o.poolerCpuS === null ? null : round(cpuUsPerTx(o)!, 1),
    poolerUserUsPerTx: o.poolerUserS === null ? null : round(userUsPerTx(o)!, 1),
  };
}

const ratio = (row: Map<string, Outcome> | undefined, over: string) => {
  const a = row?.get("dbmesh");
  const b = row?.get(over);
  return isSample(a) && isSample(b) && b.tps > 0 ? a.tps / b.tps : Number.NaN;
};

async function main(): Promise<number> {
  const installed = await ensurePackages();
  checkInterrupt();
  const user = await ensureServerUser();
  const versions = {
    pgbench: (await run(PGBENCH, ["--version"])).output,
    pgbouncer: (await run(PGBOUNCER, ["--version"])).output.split("\n")[0] ?? "",
    pgpool: (await run(PGPOOL, ["--version"])).output,
  };
  // The router is being built while this runs: record which source was measured.
  const git = (args: string[]) =>
    run("git", ["-C", fileURLToPath(new URL("../..", import.meta.url)), ...args]);
  const source = {
    commit: (await git(["rev-parse", "--short", "HEAD"])).output,
    uncommittedRouterFiles: (await git(["status", "--porcelain", "src/router"])).output
      .split("\n")
      .filter(Boolean).length,
  };
  const loadBefore = loadavg()[0]!;
  out("dbmesh router benchmark: pgbench direct, through dbmesh serve, PgBouncer and pgpool-II");
  out(
    `${versions.pgbench}; ${versions.pgbouncer}; ${versions.pgpool}; Node ${process.version}; ${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? "?"}), ${fmt(totalmem() / 2 ** 30)} GiB RAM; load average (1 min) ${loadBefore.toFixed(2)}`,
  );
  out(
    `pgbench -j ${THREADS} -T ${SECONDS} -M ${PROTOCOL} -n; pools: dbmesh poolSize ${POOL_SIZE}, PgBouncer default_pool_size ${POOL_SIZE}, pgpool-II ${PGPOOL_CHILDREN} children with max_pool 1`,
  );
  out(
    `dbmesh at ${source.commit}${source.uncommittedRouterFiles ? ` with ${source.uncommittedRouterFiles} uncommitted files in src/router` : ""}`,
  );
  if (user) out(`PostgreSQL, PgBouncer and pgpool-II run as "${user.name}" (uid ${user.uid})`);

  const p1 = await part1(user);
  checkInterrupt();
  const p2 = await part2();

  // ---- report
  out(`\n== Results (TPS without connection time; p50/p99 from every transaction's latency)`);
  const rows: string[][] = [
    [
      "workload",
      "target",
      "TPS",
      "avg ms",
      "p50 ms",
      "p99 ms",
      "failed tx",
      "pooler CPU µs/tx",
      "of which user",
    ],
  ];
  for (const w of WORKLOADS) {
    const row = p1.results.get(w.label);
    for (const name of TARGET_NAMES) {
      const o = row?.get(name);
      if (isSample(o)) {
        rows.push([
          w.label,
          name,
          fmt(o.tps, 0),
          fmt(o.latencyAvgMs, 2),
          fmt(o.p50Ms, 2),
          fmt(o.p99Ms, 2),
          String(o.failed),
          o.poolerCpuS === null ? "" : fmt(cpuUsPerTx(o), 1),
          o.poolerUserS === null ? "" : fmt(userUsPerTx(o), 1),
        ]);
      } else {
        rows.push([w.label, name, "failed", "", "", "", "", "", ""]);
      }
    }
  }
  out(table(rows));

  out("\nRatios of TPS (p99 in brackets: dbmesh p99 / theirs)");
  const ratioRows: string[][] = [
    ["workload", "dbmesh / PgBouncer", "dbmesh / pgpool-II", "dbmesh / direct"],
  ];
  const p99ratio = (row: Map<string, Outcome> | undefined, over: string) => {
    const a = row?.get("dbmesh");
    const b = row?.get(over);
    return isSample(a) && isSample(b) ? a.p99Ms / b.p99Ms : Number.NaN;
  };
  for (const w of WORKLOADS) {
    const row = p1.results.get(w.label);
    const cell = (over: string) => `${fmt(ratio(row, over), 2)} (${fmt(p99ratio(row, over), 2)})`;
    ratioRows.push([w.label, cell("PgBouncer"), cell("pgpool-II"), cell("direct")]);
  }
  out(table(ratioRows));
  const key = p1.results.get(WORKLOADS[0]!.label);
  const vsBouncer = ratio(key, "PgBouncer");
  const vsPgpool = ratio(key, "pgpool-II");
  const met = (x: number, aim: number) =>
    Number.isFinite(x) ? (x >= aim ? "met" : "not met") : "not measured";
  out(
    `Aims (select-only, 16 clients): dbmesh ≥ 0.75x PgBouncer — ${fmt(vsBouncer, 2)}x, ${met(vsBouncer, 0.75)}; dbmesh ≥ 1.5x pgpool-II — ${fmt(vsPgpool, 2)}x, ${met(vsPgpool, 1.5)}`,
  );
  const failures = [...p1.targets.filter((t) => t.error).map((t) => `${t.name}: ${t.error}`)];
  for (const [label, row] of p1.results) {
    for (const [name, o] of row) if (!isSample(o)) failures.push(`${label}, ${name}: ${o.error}`);
  }
  if (failures.length) out(`\nFailed runs:\n  ${failures.join("\n  ")}`);

  out(
    `\nPart 2: shares of reads (xact_commit deltas on the bench database), pgbench -S 16 clients ${SECONDS} s through dbmesh`,
  );
  const shareRows: string[][] = [
    ["node", "capacity", "declared share", "reads", "measured share", "measured / declared"],
  ];
  for (const n of p2.nodes) {
    shareRows.push([
      n.name,
      String(n.capacity),
      pct(n.weight),
      String(n.reads),
      pct(n.share),
      n.weight ? fmt(n.share / n.weight, 2) : "",
    ]);
  }
  out(table(shareRows));
  if (isSample(p2.pgbench))
    out(`  ${fmt(p2.pgbench.tps, 0)} tps, p99 ${fmt(p2.pgbench.p99Ms, 2)} ms`);
  else out(`  pgbench through dbmesh failed: ${p2.pgbench.error}`);
  out(
    p2.balancing === "not active"
      ? "  balancing not active: every read was served by the primary"
      : p2.balancing === "no reads counted"
        ? "  no reads were counted on any node"
        : `  balancing active; aim (each share within 10% of its declared weight, the primary under 10%): ${p2.withinTenPercent ? "met" : "not met"}`,
  );
  if (p2.serveOutput.length) out(`  dbmesh serve wrote:\n    ${p2.serveOutput.join("\n    ")}`);

  writeResults(resultsFile, {
    benchmark: "router",
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? null,
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    loadAverage: { start: round(loadBefore), end: round(loadavg()[0]!) },
    versions,
    source,
    installedNow: installed,
    postgres: "17 (embedded, dbmesh up); max_connections 300, shared_buffers 512MB",
    pgbench: {
      scale: SCALE,
      seconds: SECONDS,
      warmupSeconds: WARMUP,
      threads: THREADS,
      protocol: PROTOCOL,
      latency:
        "p50/p99 over every transaction of the run, from pgbench -l --log-prefix per-transaction logs",
    },
    pools: {
      dbmesh: `transaction mode, poolSize ${POOL_SIZE}`,
      pgbouncer: `transaction mode, default_pool_size ${POOL_SIZE}, auth_type scram-sha-256 (plaintext userlist.txt)`,
      pgpool: `connection_cache on, num_init_children ${PGPOOL_CHILDREN}, max_pool 1, load_balance_mode off, pool_hba scram-sha-256, pool_passwd TEXT entry`,
    },
    targetErrors: Object.fromEntries(
      p1.targets.filter((t) => t.error).map((t) => [t.name, t.error]),
    ),
    workloads: WORKLOADS.map((w) => {
      const row = p1.results.get(w.label);
      return {
        label: w.label,
        selectOnly: w.selectOnly,
        clients: w.clients,
        ...Object.fromEntries(TARGET_NAMES.map((n) => [n, sampleJson(row?.get(n))])),
        ratios: {
          dbmeshOverPgbouncer: round(ratio(row, "PgBouncer"), 3),
          dbmeshOverPgpool: round(ratio(row, "pgpool-II"), 3),
          dbmeshOverDirect: round(ratio(row, "direct"), 3),
        },
      };
    }),
    aims: {
      selectOnly16VsPgbouncer: { aim: 0.75, measured: round(vsBouncer, 3), met: vsBouncer >= 0.75 },
      selectOnly16VsPgpool: { aim: 1.5, measured: round(vsPgpool, 3), met: vsPgpool >= 1.5 },
      readSharesWithinTenPercent: { met: p2.withinTenPercent },
    },
    readShares: {
      topology:
        "primary (capacity 1) + standby-a (2) + standby-b (1), async, readFromPrimary false",
      counted:
        "pg_stat_database.xact_commit deltas for database bench, before serve started and after it stopped",
      scale: 1,
      pgbench: sampleJson(p2.pgbench),
      balancing: p2.balancing,
      nodes: p2.nodes.map((n) => ({ ...n, weight: round(n.weight, 4), share: round(n.share, 4) })),
      serveOutput: p2.serveOutput,
    },
  });
  return 0;
}

await runBenchmark({
  main,
  cleanUp,
  onInterrupt: () => stopRunning("SIGINT"),
  cleaning: "stopping the poolers and dbmesh serve, purging the servers…",
});

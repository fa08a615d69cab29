import { spawn } from "node:child_process";
import { chown, mkdir, readFile, readlink, realpath, rm, stat } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import {
  adminPassword,
  assertTraversable,
  ClusterError,
  ensureDir,
  ensureServerUser,
  portBindError,
  prepareLogFile,
  prepareSocketDir,
  runCommand,
  type ServerUser,
  socketDirFor,
  tailFile,
  writeFileAtomic,
} from "../cluster/index.js";
import { findMariadb } from "./binaries.js";
import { connectMariadb } from "./connections.js";
import { hasMariadbData, type LocalMariadb, mariadbPaths } from "./local-node.js";
import { account, literal, nativePasswordHash } from "./quote.js";

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 60_000;

/**
 * Creates the data directory with mariadb-install-db on first use, as the server user: system
 * tables only, no test database, no anonymous or password-less accounts (root authenticates by
 * unix socket until the first start sets the admin password).
 * https://mariadb.com/kb/en/mariadb-install-db/
 */
export async function initMariadb(node: LocalMariadb): Promise<{ created: boolean }> {
  if (hasMariadbData(node)) return { created: false };
  const bins = await findMariadb();
  const user = await ensureServerUser();
  const paths = mariadbPaths(node);
  await ensureDir(node.stateDir);
  if (user) await assertTraversable(node.stateDir, user, node.name, "state directory");
  await rm(paths.dataDir, { recursive: true, force: true });
  await mkdir(paths.dataDir, { mode: 0o700 });
  if (user) await chown(paths.dataDir, user.uid, user.gid);
  await ensureTmpDir(paths.tmpDir, user);
  const r = await runCommand(
    bins.installDb,
    [
      "--no-defaults",
      `--datadir=${paths.dataDir}`,
      // Its own temporary directory: bootstraps running side by side in the shared /tmp were
      // seen to lose each other's temporary tables ("Unknown table 'mysql.tmp_user_sys'").
      `--tmpdir=${paths.tmpDir}`,
      "--skip-test-db",
      "--skip-name-resolve",
      "--auth-root-authentication-method=socket",
    ],
    { user, timeoutMs: 120_000 },
  ).catch((e: unknown) => ({ code: null, output: String(e) }));
  if (r.code !== 0 || !hasMariadbData(node)) {
    await rm(paths.dataDir, { recursive: true, force: true });
    throw new ClusterError({
      kind: "init-failed",
      node: node.name,
      problem: `${bins.installDb} failed (exit code ${r.code})`,
      hint: "see the output below; fix the cause and run `dbmesh up` again",
      detail: r.output,
    });
  }
  return { created: true };
}

/** The node's temporary directory, private to the server user. */
async function ensureTmpDir(dir: string, user: Awaited<ReturnType<typeof ensureServerUser>>) {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (user) await chown(dir, user.uid, user.gid);
}

/**
 * The admin accounts, set on every start from the admin secret: from the socket (localhost) and
 * from loopback addresses only, with every privilege. The server runs this file before it
 * accepts connections. https://mariadb.com/kb/en/server-system-variables/#init_file
 */
function adminInitSql(user: string, password: string): string {
  const hash = literal(nativePasswordHash(password));
  return ["localhost", "127.0.0.0/255.0.0.0"]
    .flatMap((host) => [
      `CREATE USER IF NOT EXISTS ${account(user, host)} IDENTIFIED BY PASSWORD ${hash};`,
      `ALTER USER ${account(user, host)} IDENTIFIED BY PASSWORD ${hash};`,
      `GRANT ALL PRIVILEGES ON *.* TO ${account(user, host)} WITH GRANT OPTION;`,
    ])
    .join("\n");
}

/**
 * The server's options, all on its command line (--no-defaults: no my.cnf of the system applies):
 * loopback only, no DNS, utf8mb4 by default.
 */
function serverArgs(node: LocalMariadb): string[] {
  const paths = mariadbPaths(node);
  return [
    "--no-defaults",
    `--datadir=${paths.dataDir}`,
    `--port=${node.port}`,
    `--bind-address=${node.host === "localhost" ? "127.0.0.1" : node.host}`,
    `--socket=${paths.socket}`,
    `--pid-file=${paths.pidFile}`,
    `--tmpdir=${paths.tmpDir}`,
    `--log-error=${paths.logFile}`,
    `--init-file=${paths.initFile}`,
    "--skip-name-resolve",
    "--character-set-server=utf8mb4",
    "--collation-server=utf8mb4_unicode_ci",
  ];
}

export interface MariadbProcess {
  readonly running: boolean;
  readonly pid?: number;
}

/** From the pid file, checked to be a live mariadbd of this data directory. */
export async function mariadbProcess(node: LocalMariadb): Promise<MariadbProcess> {
  const { pidFile, dataDir } = mariadbPaths(node);
  let pid: number;
  try {
    pid = Number((await readFile(pidFile, "utf8")).trim());
  } catch {
    return { running: false };
  }
  if (!Number.isInteger(pid) || pid <= 0) return { running: false };
  return (await isServerOf(pid, dataDir)) ? { running: true, pid } : { running: false };
}

/**
 * mariadbd changes into its data directory, so /proc/PID/cwd tells whether a pid from a stale
 * pid file is still this server; an exited child not yet reaped shows state Z.
 */
async function isServerOf(pid: number, dataDir: string): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    const st = await readFile(`/proc/${pid}/stat`, "utf8");
    if (st.slice(st.lastIndexOf(")") + 2, st.lastIndexOf(")") + 3) === "Z") return false;
  } catch {}
  try {
    return (await readlink(`/proc/${pid}/cwd`)) === (await realpath(dataDir));
  } catch {}
  try {
    const comm = (await readFile(`/proc/${pid}/comm`, "utf8")).trim();
    return comm === "mariadbd" || comm === "mysqld";
  } catch {
    return true;
  }
}

/**
 * Starts the server detached (its own session, output to its error log), as the server user
 * when dbmesh runs as root: MariaDB, like PostgreSQL, must not run as root. Returns when the
 * admin can log in.
 */
export async function startMariadb(node: LocalMariadb): Promise<{ started: boolean }> {
  if ((await mariadbProcess(node)).running) {
    return { started: false };
  }
  const paths = mariadbPaths(node);
  if (!hasMariadbData(node)) {
    throw new ClusterError({
      kind: "start-failed",
      node: node.name,
      problem: `has no initialised data directory at ${paths.dataDir}`,
      hint: "initialise the node before starting it (`dbmesh up`)",
    });
  }
  const bins = await findMariadb();
  const user = await ensureServerUser();
  await ensureDir(node.stateDir);
  if (user) await assertTraversable(node.stateDir, user, node.name, "state directory");
  await assertOwner(node, paths.dataDir, user);
  await prepareSocketDir(node, paths, user);
  await prepareLogFile(paths, user);
  await ensureTmpDir(paths.tmpDir, user);
  const bindError = await portBindError(
    node.host === "localhost" ? "127.0.0.1" : node.host,
    node.port,
  );
  if (bindError) {
    throw new ClusterError({
      kind: bindError === "EADDRINUSE" ? "port-in-use" : "start-failed",
      node: node.name,
      problem: `cannot start: port ${node.port} on ${node.host} is not free (${bindError})`,
      hint: `stop what listens there or give node "${node.name}" another port in the topology`,
    });
  }
  const password = await adminPassword(node);
  await writeFileAtomic(paths.initFile, `${adminInitSql(node.adminUser, password)}\n`, {
    mode: 0o600,
    owner: user,
  });
  const logStart = (await stat(paths.logFile).catch(() => undefined))?.size ?? 0;
  try {
    const child = spawn(bins.server, serverArgs(node), {
      cwd: "/",
      detached: true,
      stdio: "ignore",
      env: serverEnvironment(node),
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
    });
    let exited: string | undefined;
    child.on("exit", (code, signal) => {
      exited = `exit code ${code ?? signal}`;
    });
    child.on("error", (e) => {
      exited = e.message;
    });
    child.unref();
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (exited !== undefined) throw await startFailure(node, exited, logStart);
      try {
        const s = await connectMariadb(
          {
            node: node.name,
            host: node.host,
            port: node.port,
            user: node.adminUser,
            password,
          },
          { timeoutMs: 2000 },
        );
        await s.end();
        return { started: true };
      } catch (e) {
        if (Date.now() > deadline) {
          throw new ClusterError({
            kind: "start-failed",
            node: node.name,
            problem: `MariaDB did not accept the admin login within ${START_TIMEOUT_MS / 1000} s: ${(e as Error).message}`,
            hint: `see the server log ${paths.logFile}`,
          });
        }
      }
      await sleep(100);
    }
  } finally {
    await rm(paths.initFile, { force: true });
  }
}

/**
 * The locale and time zone of dbmesh's own environment, and where the CONNECT engine's ODBC
 * driver finds the node's data sources and passwords (apply writes both files; they are read
 * at each connect, so a link added later needs no restart).
 * https://www.postgresql.org/docs/17/libpq-pgpass.html
 */
function serverEnvironment(node: LocalMariadb): NodeJS.ProcessEnv {
  const paths = mariadbPaths(node);
  const env: NodeJS.ProcessEnv = { ODBCINI: paths.odbcIni, PGPASSFILE: paths.pgpassFile };
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(PATH|LANG|LANGUAGE|LC_[A-Z]+|TZ|TZDIR|TMPDIR)$/.test(key)) env[key] = value;
  }
  return env;
}

async function assertOwner(node: LocalMariadb, dataDir: string, user: ServerUser | null) {
  const st = await stat(dataDir);
  const expected = user ? user.uid : (process.getuid?.() ?? 0);
  if (st.uid !== expected) {
    throw new ClusterError({
      kind: "start-failed",
      node: node.name,
      problem: `data directory ${dataDir} is owned by uid ${st.uid}, but the server runs as ${user ? user.name : "the current user"} (uid ${expected})`,
      hint: `run: chown -R ${expected} ${dataDir}, or run dbmesh as the user that created the node`,
    });
  }
}

/** The server's own words from its error log since this start: its [ERROR] lines. */
async function startFailure(node: LocalMariadb, how: string, logStart: number) {
  const { logFile } = mariadbPaths(node);
  const all = await readFile(logFile, "utf8").catch(() => "");
  const log = all.length > logStart ? all.slice(logStart) : await tailFile(logFile, 20);
  const errors = log.split("\n").filter((l) => /\[ERROR\]/.test(l));
  const inUse = errors.some((l) => /\b98\b|Address already in use/.test(l));
  return new ClusterError({
    kind: inUse ? "port-in-use" : "start-failed",
    node: node.name,
    problem: `MariaDB did not start (${how})${errors.length ? `: ${errors.at(-1)!.replace(/^.*\[ERROR\]\s*/, "")}` : ""}`,
    hint: inUse
      ? `port ${node.port} is in use; give node "${node.name}" another port`
      : `see the server log ${logFile}`,
    detail: log.trim().split("\n").slice(-20).join("\n"),
  });
}

/**
 * SIGTERM is MariaDB's normal shutdown (it finishes and flushes like `mariadb-admin shutdown`);
 * `immediate` kills it after the timeout (InnoDB recovers at the next start).
 * https://mariadb.com/kb/en/shutdown/
 */
export async function stopMariadb(
  node: LocalMariadb,
  opts: { mode?: "fast" | "immediate" } = {},
): Promise<{ stopped: boolean }> {
  const proc = await mariadbProcess(node);
  if (!proc.running || proc.pid === undefined) return { stopped: false };
  const pid = proc.pid;
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(pid, s);
    } catch {}
  };
  signal("SIGTERM");
  const deadline = Date.now() + (opts.mode === "immediate" ? 5000 : STOP_TIMEOUT_MS);
  while (Date.now() < deadline) {
    if (!(await mariadbProcess(node)).running) return { stopped: true };
    await sleep(100);
  }
  if (opts.mode === "immediate") {
    signal("SIGKILL");
    await sleep(200);
    if (!(await mariadbProcess(node)).running) return { stopped: true };
  }
  throw new ClusterError({
    kind: "stop-failed",
    node: node.name,
    problem: `MariaDB (pid ${pid}) did not stop after SIGTERM`,
    hint: `kill it (kill -9 ${pid}) and check ${mariadbPaths(node).logFile}`,
  });
}

/** Stops the node if it runs, then deletes its state directory and socket directory. */
export async function purgeMariadb(node: LocalMariadb): Promise<void> {
  mariadbPaths(node);
  try {
    await stopMariadb(node);
  } catch {
    await stopMariadb(node, { mode: "immediate" });
  }
  await rm(node.stateDir, { recursive: true, force: true });
  const socket = socketDirFor(node.stateDir);
  if (socket.short) await rm(socket.dir, { recursive: true, force: true });
}

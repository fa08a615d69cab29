import { readFile, readlink, realpath, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { findBinaries } from "./binaries.js";
import { ClusterError } from "./cluster-error.js";
import type { LocalNode } from "./local-node.js";
import { nodePaths, socketDirFor } from "./paths.js";
import { portBindError } from "./port-free.js";
import { findPortListeners } from "./port-owner.js";
import { runCommand } from "./run-command.js";
import {
  assertDataDirOwner,
  prepareLogFile,
  prepareSocketDir,
  prepareStateDir,
} from "./server-dirs.js";
import { ensureServerUser } from "./server-user.js";
import { tailFile } from "./tail-log.js";

export interface NodeProcess {
  running: boolean;
  pid?: number;
  port?: number;
}

const LOG_TAIL_LINES = 20;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * A postmaster that exited but was not yet reaped by its parent (often init, as pg_ctl has exited)
 * still answers kill(pid, 0); /proc/PID/stat shows state Z for it.
 * https://man7.org/linux/man-pages/man5/proc_pid_stat.5.html
 */
async function isZombie(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) === "Z";
  } catch {
    return false;
  }
}

/**
 * The postmaster chdirs into its data directory, so /proc/PID/cwd tells whether a live pid from a
 * stale postmaster.pid now belongs to an unrelated process. When cwd is unreadable (another user,
 * not root) the process name is checked instead.
 */
async function isPostmasterOf(pid: number, dataDir: string): Promise<boolean> {
  if (await isZombie(pid)) return false;
  try {
    const cwd = await readlink(`/proc/${pid}/cwd`);
    return cwd === (await realpath(dataDir));
  } catch {}
  try {
    const comm = (await readFile(`/proc/${pid}/comm`, "utf8")).trim();
    return comm === "postgres" || comm === "postmaster";
  } catch {
    return isAlive(pid);
  }
}

/**
 * From postmaster.pid: line 1 is the postmaster pid, line 4 the port.
 * https://www.postgresql.org/docs/current/server-start.html
 */
export async function nodeProcess(node: LocalNode): Promise<NodeProcess> {
  const { dataDir } = nodePaths(node);
  let text: string;
  try {
    text = await readFile(join(dataDir, "postmaster.pid"), "utf8");
  } catch {
    return { running: false };
  }
  const lines = text.split("\n");
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0) return { running: false };
  if (!isAlive(pid) || !(await isPostmasterOf(pid, dataDir))) return { running: false };
  return Number.isInteger(port) && port > 0 ? { running: true, pid, port } : { running: true, pid };
}

async function portInUseError(node: LocalNode, code: string): Promise<ClusterError> {
  const where = `port ${node.port} on ${node.host}`;
  if (code === "EADDRINUSE") {
    const { uids, owners } = await findPortListeners(node.port);
    const owner = owners[0];
    let by = "";
    if (owner) {
      by = ` by pid ${owner.pid} (${owner.command}${owner.cmdline ? `: ${owner.cmdline}` : ""})`;
    } else if (uids.length > 0) {
      by = ` by a process of uid ${uids.join(", ")}`;
    }
    return new ClusterError({
      kind: "port-in-use",
      node: node.name,
      problem: `cannot start: ${where} is already in use${by}`,
      hint: `stop that process or give node "${node.name}" another port in the topology`,
      detail: owners.map((o) => `${o.pid} ${o.cmdline || o.command}`).join("\n") || undefined,
    });
  }
  const hint =
    code === "EADDRNOTAVAIL"
      ? `${node.host} is not an address of this machine; use 127.0.0.1 or a local interface address`
      : code === "EACCES"
        ? "ports below 1024 need root; choose a port of 1024 or above"
        : `check the host and port of node "${node.name}"`;
  return new ClusterError({
    kind: "start-failed",
    node: node.name,
    problem: `cannot listen on ${where} (${code})`,
    hint,
  });
}

/**
 * The last FATAL/PANIC message of the log tail; when the postmaster rejects its configuration the
 * specific problem is the LOG line it wrote just before ("invalid value for parameter ...").
 */
function startFailureReason(log: string): string | undefined {
  const lines = log.split("\n");
  const messageOf = (l: string) => l.replace(/^.*?\b(LOG|FATAL|PANIC):\s*/, "");
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i] ?? "";
    if (!/\b(FATAL|PANIC):/.test(line)) continue;
    const previous = lines[i - 1] ?? "";
    const pid = /\[\d+\]/.exec(line)?.[0];
    if (/contains errors/.test(line) && pid && previous.includes(pid) && /\bLOG:/.test(previous)) {
      return `${messageOf(previous)} (${messageOf(line)})`;
    }
    return messageOf(line);
  }
  return undefined;
}

export async function startNode(node: LocalNode): Promise<{ started: boolean }> {
  const paths = nodePaths(node);
  if ((await nodeProcess(node)).running) return { started: false };
  const bins = await findBinaries(node.binaries);
  const user = await ensureServerUser();
  let dataMajor: number;
  try {
    dataMajor = Number.parseInt(await readFile(join(paths.dataDir, "PG_VERSION"), "utf8"), 10);
  } catch {
    throw new ClusterError({
      kind: "start-failed",
      node: node.name,
      problem: `has no initialised data directory at ${paths.dataDir}`,
      hint: "initialise the node before starting it",
    });
  }
  // A data directory only works with the major version that created it.
  // https://www.postgresql.org/docs/current/upgrading.html
  if (dataMajor !== bins.major) {
    throw new ClusterError({
      kind: "start-failed",
      node: node.name,
      problem: `data directory ${paths.dataDir} was created by PostgreSQL ${dataMajor}, but the selected binaries (${bins.binDir}) are PostgreSQL ${bins.version}`,
      hint: `select PostgreSQL ${dataMajor} binaries for this node, or purge it and initialise it again (this deletes its data)`,
    });
  }
  await prepareStateDir(node, bins, user);
  await assertDataDirOwner(node, paths, user);
  await prepareSocketDir(node, paths, user);
  await prepareLogFile(paths, user);

  const bindError = await portBindError(node.host, node.port);
  if (bindError) throw await portInUseError(node, bindError);

  // pg_ctl starts the postmaster in a new session (setsid) with stdio redirected to the -l log
  // file, so the server outlives this process; -w waits until it accepts connections.
  // https://www.postgresql.org/docs/current/app-pg-ctl.html
  const args = ["start", "-w", "-t", "60", "-D", paths.dataDir, "-l", paths.logFile, "-s"];
  const result = await runCommand(bins.pgCtl, args, {
    user,
    cwd: node.stateDir,
    detached: true,
    timeoutMs: 90_000,
  }).catch((e: unknown) => {
    throw new ClusterError({
      kind: "start-failed",
      node: node.name,
      problem: `could not run ${bins.pgCtl}: ${(e as Error).message}`,
      hint: "check the PostgreSQL binaries",
      cause: e,
    });
  });
  if (result.code === 0) return { started: true };

  const log = await tailFile(paths.logFile, LOG_TAIL_LINES).catch(() => "");
  if (/could not bind .*Address already in use/i.test(log)) {
    throw await portInUseError(node, "EADDRINUSE");
  }
  const reason = startFailureReason(log);
  throw new ClusterError({
    kind: "start-failed",
    node: node.name,
    problem: `PostgreSQL did not start (pg_ctl exit code ${result.code ?? result.signal})${reason ? `: ${reason}` : ""}`,
    hint: `see the server log ${paths.logFile}`,
    detail: [result.output, log].filter((s) => s !== "").join("\n"),
  });
}

export async function stopNode(
  node: LocalNode,
  opts: { mode?: "fast" | "immediate" } = {},
): Promise<{ stopped: boolean }> {
  const paths = nodePaths(node);
  const proc = await nodeProcess(node);
  if (!proc.running) return { stopped: false };
  const bins = await findBinaries(node.binaries);
  const user = await ensureServerUser();
  const mode = opts.mode ?? "fast";
  // fast: roll back open transactions and disconnect clients, then shut down cleanly;
  // immediate: quit without a shutdown checkpoint (crash recovery on next start).
  // https://www.postgresql.org/docs/current/server-shutdown.html
  const args = ["stop", "-D", paths.dataDir, "-m", mode, "-w", "-t", "60", "-s"];
  let output = "";
  try {
    const result = await runCommand(bins.pgCtl, args, {
      user,
      cwd: node.stateDir,
      timeoutMs: 90_000,
    });
    if (result.code === 0) return { stopped: true };
    output = result.output;
  } catch (e) {
    output = String(e);
  }
  if (!(await nodeProcess(node)).running) return { stopped: true };
  throw new ClusterError({
    kind: "stop-failed",
    node: node.name,
    problem: `PostgreSQL (pid ${proc.pid}) did not stop in ${mode} mode`,
    hint:
      mode === "fast"
        ? "retry with immediate mode, or kill the postmaster pid"
        : `kill the postmaster (kill -9 ${proc.pid}) and check ${paths.logFile}`,
    detail: output,
  });
}

/**
 * Same as pg_ctl reload: SIGHUP makes the postmaster re-read postgresql.conf and pg_hba.conf.
 * A stopped node reads them at its next start, so there is nothing to do then.
 */
export async function reloadNode(node: LocalNode): Promise<void> {
  const proc = await nodeProcess(node);
  if (!proc.running || proc.pid === undefined) return;
  try {
    process.kill(proc.pid, "SIGHUP");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ESRCH") return;
    throw new ClusterError({
      kind: "reload-failed",
      node: node.name,
      problem: `could not signal the postmaster (pid ${proc.pid}) to reload: ${(e as Error).message}`,
      hint: "run dbmesh as the user that started the node, or as root",
      cause: e,
    });
  }
}

function isSameOrAncestor(dir: string, of: string): boolean {
  const rel = relative(dir, of);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** Stops the node if it is running, then deletes stateDir and its socket dir. */
export async function purgeNode(node: LocalNode): Promise<void> {
  nodePaths(node);
  const stateDir = resolve(node.stateDir);
  if (isSameOrAncestor(stateDir, process.cwd()) || isSameOrAncestor(stateDir, homedir())) {
    throw new ClusterError({
      kind: "config-invalid",
      node: node.name,
      problem: `refusing to delete ${stateDir}: it contains the current or home directory`,
      hint: "give the node its own state directory",
    });
  }
  try {
    await stopNode(node);
  } catch {
    await stopNode(node, { mode: "immediate" });
  }
  await rm(stateDir, { recursive: true, force: true });
  const socket = socketDirFor(stateDir);
  if (socket.short) await rm(socket.dir, { recursive: true, force: true });
}

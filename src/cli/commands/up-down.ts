import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import {
  dataSystemId,
  ensureServerUser,
  findBinaries,
  hasData,
  initNode,
  isClusterError,
  nodePaths,
  nodeProcess,
  purgeNode,
  reloadNode,
  rewindNode,
  startNode,
  stopNode,
} from "../../cluster/index.js";
import { divergence, observeReplication } from "../../pgadmin/index.js";
import { type MeshAccess, maintenanceDb } from "../../provision/index.js";
import {
  isReplicationError,
  ReplicationConnection,
  writeStandbyConfig,
} from "../../replication/index.js";
import { type MeshNode, secretValue, type Topology } from "../../topology/index.js";
import { type Args, UsageError } from "../args.js";
import { adminCredentials, loadFromArgs, localNode, meshAccess } from "../mesh.js";
import type { Output } from "../output.js";
import { runApply } from "./apply.js";
import { createStandby } from "./standby.js";
import { startMariadbNode, stopMariadbNode } from "./up-mariadb.js";

/** Managed nodes, or the one named by --node. */
function localNodes(t: Topology, args: Args): MeshNode[] {
  const only = args.values.get("--node");
  if (only) {
    const n = t.nodes.get(only);
    if (!n) throw new UsageError(`unknown node ${only}; nodes: ${[...t.nodes.keys()].join(", ")}`);
    if (!n.managed)
      throw new UsageError(
        `node ${only} is not managed by dbmesh (managed: false), so it cannot be started here`,
      );
    return [n];
  }
  return [...t.nodes.values()].filter((n) => n.managed);
}

/** Starts every managed node (initialising new ones), then applies the whole file. */
export async function upCommand(args: Args, out: Output): Promise<number> {
  const t = loadFromArgs(args);
  const access = meshAccess(t, false);
  try {
    return await bringUp(t, localNodes(t, args), access, out, args.flags.has("--reclone"));
  } finally {
    await access.connections.closeAll();
  }
}

/**
 * Primaries start (initdb on first use) in parallel and the file is applied, which creates
 * replication roles, their pg_hba lines and slots; then standbys are created from their
 * upstreams, nearest first, and the file is applied again for what they add.
 */
export async function bringUp(
  t: Topology,
  nodes: readonly MeshNode[],
  access: MeshAccess,
  out: Output,
  reclone = false,
): Promise<number> {
  let code = await startNodes(
    t,
    nodes.filter((n) => !n.standby),
    out,
  );
  const standbys = nodes.filter((n) => n.standby).sort((a, b) => depth(t, a) - depth(t, b));
  out.line("apply:");
  // Standbys come up after this first apply (which makes their roles, hba lines and slots).
  const skip = new Set(standbys.map((n) => n.name));
  code = Math.max(code, await runApply({ ...access, skip }, out));
  if (!standbys.length) return code;
  const failed = new Set<string>();
  for (const n of standbys) {
    if (reclone && !(await rebuild(t, n, access, out))) {
      failed.add(n.name);
      continue;
    }
    let r = await startOne(t, n, (line) => out.line(line));
    // A standby copied or rewound just now follows its upstream by construction.
    const why = r.ok && !r.created && !reclone ? await cannotFollow(access, n) : undefined;
    if (why && n.standby!.onMismatch === "reclone") {
      out.line(`${n.name}: ${why}; rebuilding it (onMismatch: reclone)`);
      if (await rebuild(t, n, access, out)) r = await startOne(t, n, (line) => out.line(line));
      else r = { ok: false, created: false, text: `${n.name}: FAILED not rebuilt` };
    } else if (why) {
      r = {
        ok: false,
        created: false,
        text: `${n.name}: FAILED cannot follow ${n.standby!.upstream}: ${why}; rebuild it: dbmesh up --node ${n.name} --reclone (or set nodes.${n.name}.onMismatch: reclone)`,
      };
    }
    out.line(r.text);
    if (!r.ok) failed.add(n.name);
  }
  if (failed.size) code = 1;
  out.line("apply:");
  return Math.max(code, await runApply({ ...access, skip: failed }, out));
}

/**
 * Stops a standby and makes its data fit to follow its upstream again: rewound with pg_rewind
 * when its binaries have it, else removed so that it is copied again.
 */
async function rebuild(
  t: Topology,
  n: MeshNode,
  access: MeshAccess,
  out: Output,
): Promise<boolean> {
  const ln = localNode(t, n);
  const upstream = t.nodes.get(n.standby!.upstream)!;
  // Nothing is touched unless the upstream answers: its data is what replaces this node's.
  // pg_rewind reads the source's timeline from its control file, which a just-promoted
  // primary updates at its first checkpoint.
  try {
    await (await access.connections.session(upstream.name, maintenanceDb)).query("CHECKPOINT");
  } catch (e) {
    out.line(
      `${n.name}: FAILED not rebuilt, its data is untouched: ${upstream.name} does not answer (${(e as Error).message})`,
    );
    return false;
  }
  await stopNode(ln, { mode: "fast" });
  if (hasData(ln)) {
    const admin = await adminCredentials(t, upstream);
    const r = await rewindNode(ln, { host: upstream.host, port: upstream.port, ...admin });
    if (r.rewound) {
      const owner = (await ensureServerUser()) ?? undefined;
      await writeStandbyConfig(nodePaths(ln).dataDir, undefined, { owner, sync: true });
      out.line(`${n.name}: rewound with pg_rewind to follow ${upstream.name}`);
      return true;
    }
    out.line(`${n.name}: not rewound (${r.reason})`);
  }
  await rm(nodePaths(ln).dataDir, { recursive: true, force: true });
  out.line(`${n.name}: data directory removed, to be copied again from ${upstream.name}`);
  return true;
}

/**
 * Why a running standby's data cannot follow its declared upstream (it went past the point
 * where the upstream's history left its timeline), or undefined when it can or either cannot
 * be asked.
 */
async function cannotFollow(access: MeshAccess, n: MeshNode): Promise<string | undefined> {
  const upstream = n.standby!.upstream;
  try {
    const [mine, theirs] = await Promise.all(
      [n.name, upstream].map(async (name) =>
        observeReplication(await access.connections.session(name, maintenanceDb)),
      ),
    );
    return divergence(mine!, theirs!, upstream);
  } catch {
    return undefined;
  }
}

/**
 * Why a standby's existing data cannot follow its upstream: it belongs to another database
 * system. Undefined when they match, or when the upstream cannot be asked.
 */
async function otherSystem(t: Topology, n: MeshNode): Promise<string | undefined> {
  const mine = await dataSystemId(localNode(t, n));
  const upstream = t.nodes.get(n.standby!.upstream)!;
  let theirs = upstream.managed ? await dataSystemId(localNode(t, upstream)) : null;
  if (!theirs) {
    const role = t.roles.get(n.standby!.role);
    if (!role) return undefined;
    const conn = await ReplicationConnection.connect({
      node: upstream.name,
      host: upstream.host,
      port: upstream.port,
      user: role.name,
      password: secretValue(t, role.password),
    }).catch(() => undefined);
    if (!conn) return undefined;
    try {
      theirs = (await conn.identifySystem()).systemId;
    } finally {
      await conn.close();
    }
  }
  if (!mine || mine === theirs) return undefined;
  return `its data is of database system ${mine}, but ${upstream.name} is system ${theirs}; re-clone it: dbmesh up --node ${n.name} --reclone`;
}

function depth(t: Topology, n: MeshNode): number {
  let d = 0;
  for (
    let at = n.standby?.upstream;
    at && d < t.nodes.size;
    at = t.nodes.get(at)?.standby?.upstream
  )
    d++;
  return d;
}

export async function startNodes(
  t: Topology,
  nodes: readonly MeshNode[],
  out: Output,
): Promise<number> {
  await ensureServerUser();
  // Nodes start in parallel: initdb and the server's start-up are mostly waiting on disk.
  const results = await Promise.all(nodes.map((n) => startOne(t, n, (line) => out.line(line))));
  for (const line of results) out.line(line.text);
  return results.some((r) => !r.ok) ? 1 : 0;
}

interface Started {
  ok: boolean;
  /** A standby made just now from its upstream. */
  created: boolean;
  text: string;
}

async function startOne(
  t: Topology,
  n: MeshNode,
  progress: (line: string) => void,
): Promise<Started> {
  if (n.engine === "mariadb") return startMariadbNode(t, n);
  const ln = localNode(t, n);
  try {
    const dataDir = nodePaths(ln).dataDir;
    if (n.standby && !hasData(ln)) {
      return { ok: true, created: true, text: await createStandby(t, n, progress) };
    }
    if (n.standby && !existsSync(join(dataDir, "standby.signal"))) {
      // Started as it is, it would be a second writable primary.
      return {
        ok: false,
        created: false,
        text: `${n.name}: FAILED it holds a primary's data, but it is a standby of ${n.standby.upstream} now; rebuild it: dbmesh up --node ${n.name} --reclone`,
      };
    }
    if (n.standby) {
      const mismatch = await otherSystem(t, n);
      if (mismatch) return { ok: false, created: false, text: `${n.name}: FAILED ${mismatch}` };
    }
    const bin = await findBinaries(n.binaries);
    const proc = await nodeProcess(ln);
    if (proc.running && proc.port !== undefined && proc.port !== n.port) {
      return {
        ok: false,
        created: false,
        text: `${n.name}: FAILED the server is running on port ${proc.port}, but the file says ${n.port}; restart it: dbmesh down --node ${n.name} && dbmesh up --node ${n.name}`,
      };
    }
    const { created } = await initNode(ln);
    const { started } = await startNode(ln);
    // initNode rewrote the configuration; a server that was already up must reread it.
    if (!started) await reloadNode(ln);
    const what = `${created ? "initialised, " : ""}${started ? "started" : "already running"}`;
    return {
      ok: true,
      created: false,
      text: `${n.name}: PostgreSQL ${bin.version} (${bin.source}) ${what} on ${n.host}:${n.port}`,
    };
  } catch (e) {
    if (isReplicationError(e))
      return { ok: false, created: false, text: `${n.name}: FAILED ${e.message}` };
    if (!isClusterError(e)) throw e;
    return {
      ok: false,
      created: false,
      text: `${n.name}: FAILED ${e.message}${e.detail ? `\n${e.detail}` : ""}`,
    };
  }
}

export async function downCommand(args: Args, out: Output): Promise<number> {
  const t = loadFromArgs(args);
  const purge = args.flags.has("--purge");
  for (const n of localNodes(t, args)) {
    if (n.engine === "mariadb") {
      out.line(await stopMariadbNode(t, n, purge));
      continue;
    }
    const ln = localNode(t, n);
    if (purge) {
      await purgeNode(ln);
      out.line(`${n.name}: stopped and data removed`);
    } else {
      const { stopped } = await stopNode(ln);
      out.line(`${n.name}: ${stopped ? "stopped" : "not running"}`);
    }
  }
  return 0;
}

import {
  ensureServerUser,
  findBinaries,
  initNode,
  isClusterError,
  nodeProcess,
  purgeNode,
  reloadNode,
  startNode,
  stopNode,
} from "../../cluster/index.js";
import type { MeshNode, Topology } from "../../topology/index.js";
import { type Args, UsageError } from "../args.js";
import { loadFromArgs, localNode, meshAccess } from "../mesh.js";
import type { Output } from "../output.js";
import { runApply } from "./apply.js";

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
  const code = await startNodes(t, localNodes(t, args), out);
  const access = meshAccess(t, false);
  try {
    out.line("apply:");
    return Math.max(code, await runApply(access, out));
  } finally {
    await access.connections.closeAll();
  }
}

export async function startNodes(
  t: Topology,
  nodes: readonly MeshNode[],
  out: Output,
): Promise<number> {
  await ensureServerUser();
  // Nodes start in parallel: initdb and the server's start-up are mostly waiting on disk.
  const results = await Promise.all(nodes.map((n) => startOne(t, n)));
  for (const line of results) out.line(line.text);
  return results.some((r) => !r.ok) ? 1 : 0;
}

async function startOne(t: Topology, n: MeshNode): Promise<{ ok: boolean; text: string }> {
  const ln = localNode(t, n);
  if (n.standby) {
    return { ok: false, text: `${n.name}: FAILED standbys (replicaOf) cannot be created yet` };
  }
  try {
    const bin = await findBinaries(n.binaries);
    const proc = await nodeProcess(ln);
    if (proc.running && proc.port !== undefined && proc.port !== n.port) {
      return {
        ok: false,
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
      text: `${n.name}: PostgreSQL ${bin.version} (${bin.source}) ${what} on ${n.host}:${n.port}`,
    };
  } catch (e) {
    if (!isClusterError(e)) throw e;
    return { ok: false, text: `${n.name}: FAILED ${e.message}${e.detail ? `\n${e.detail}` : ""}` };
  }
}

export async function downCommand(args: Args, out: Output): Promise<number> {
  const t = loadFromArgs(args);
  const purge = args.flags.has("--purge");
  for (const n of localNodes(t, args)) {
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

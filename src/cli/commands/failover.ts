import { setTimeout as sleep } from "node:timers/promises";
import {
  ensureServerUser,
  nodePaths,
  nodeProcess,
  startNode,
  stopNode,
} from "../../cluster/index.js";
import { observeReplication, promote, type Session } from "../../pgadmin/index.js";
import { hbaRules, type MeshAccess, maintenanceDb } from "../../provision/index.js";
import { writeStandbyConfig } from "../../replication/index.js";
import { loadTopology, type MeshNode, primaryOf, type Topology } from "../../topology/index.js";
import { type Args, UsageError } from "../args.js";
import { effectiveTopology, loadFromArgs, localNode, meshAccess, recordPrimary } from "../mesh.js";
import type { Output } from "../output.js";
import { runApply } from "./apply.js";

/** A standby named on the command line, and the primary it belongs to now. */
function target(args: Args, t: Topology): { node: MeshNode; primary: MeshNode } {
  const [name] = args.positional;
  if (!name) throw new UsageError(`usage: dbmesh ${args.command} NODE`);
  return standbyNamed(t, name);
}

/** A standby and the primary of its group now; a usage error for anything else. */
export function standbyNamed(t: Topology, name: string): { node: MeshNode; primary: MeshNode } {
  const node = t.nodes.get(name);
  if (!node) throw new UsageError(`unknown node ${name}; nodes: ${[...t.nodes.keys()].join(", ")}`);
  if (!node.standby) {
    throw new UsageError(`${name} is not a standby: it is the primary of its replication group`);
  }
  return { node, primary: t.nodes.get(primaryOf(t, name))! };
}

async function until(what: () => Promise<boolean>, seconds: number): Promise<boolean> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    if (await what()) return true;
    if (Date.now() > deadline) return false;
    await sleep(200);
  }
}

async function promoteNode(s: Session): Promise<void> {
  const [row] = await s.query<{ promoted: boolean }>(promote);
  if (!row?.promoted) throw new Error(`${s.node} did not finish promotion within 60 s`);
}

/** Applies the file as it runs after the change; `skip` leaves nodes not (yet) reachable out. */
async function applyAfter(
  t: Topology,
  out: Output,
  skip: string[] = [],
): Promise<{ access: MeshAccess; code: number }> {
  const access = meshAccess(effectiveTopology(loadTopology(t.file)), false);
  out.line("apply:");
  return { access, code: await runApply({ ...access, skip: new Set(skip) }, out) };
}

/**
 * Failover: promotes a standby, fencing the old primary first when dbmesh runs it, then
 * repoints the other standbys (and slots) to the new primary. The old primary's data may
 * have diverged; it comes back as a standby with `dbmesh up --node OLD --reclone`.
 */
export async function promoteCommand(args: Args, out: Output): Promise<number> {
  const t = loadFromArgs(args);
  return promoteStandby(t, target(args, t), out);
}

export async function promoteStandby(
  t: Topology,
  { node, primary }: { node: MeshNode; primary: MeshNode },
  out: Output,
): Promise<number> {
  const access = meshAccess(t, false);
  try {
    const s = await access.connections.session(node.name, maintenanceDb);
    const state = await observeReplication(s);
    if (state.role !== "standby") throw new UsageError(`${node.name} is not in recovery`);
    if (primary.managed && (await nodeProcess(localNode(t, primary))).running) {
      await stopNode(localNode(t, primary), { mode: "fast" });
      out.line(`${primary.name}: stopped, so it cannot take writes once ${node.name} is promoted`);
    } else if (!primary.managed) {
      out.line(
        `${primary.name}: not run by dbmesh; make sure it is down or read-only before clients reach it again`,
      );
    }
    await promoteNode(s);
    await recordPrimary(t, node.group, node.name);
    out.line(`${node.name}: promoted; it is the primary now`);
  } finally {
    await access.connections.closeAll();
  }
  const after = await applyAfter(t, out, [primary.name]);
  await after.access.connections.closeAll();
  out.line(
    `${primary.name}: its data may have diverged; bring it back as a standby with: dbmesh up --node ${primary.name} --reclone`,
  );
  return after.code;
}

/**
 * Planned role swap with no lost transaction: waits (up to --wait seconds) until the standby
 * is nearly caught up, stops the primary (a fast shutdown sends all WAL to connected
 * standbys before it exits), waits until the standby has replayed all of it, promotes it, and
 * restarts the old primary as its standby. If the standby does not catch up in time, nothing
 * is stopped; if it stops short after the primary is down, the primary is started again.
 */
export async function switchoverCommand(args: Args, out: Output): Promise<number> {
  const t = loadFromArgs(args);
  const { node, primary } = target(args, t);
  const wait = Number(args.values.get("--wait") ?? 30);
  if (node.standby?.upstream !== primary.name) {
    throw new UsageError(
      `${node.name} streams from ${node.standby?.upstream}, not from the primary ${primary.name}`,
    );
  }
  if (!primary.managed)
    throw new UsageError(
      `switchover restarts ${primary.name} as a standby, so dbmesh must run it (managed)`,
    );
  const oldPrimary = localNode(t, primary);
  const access = meshAccess(t, false);
  try {
    const onPrimary = await access.connections.session(primary.name, maintenanceDb);
    const onStandby = await access.connections.session(node.name, maintenanceDb);
    let lag: number | null = null;
    const close = await until(async () => {
      const st = (await observeReplication(onPrimary)).standbys.find((x) => x.name === node.name);
      lag = st?.state === "streaming" ? (st.lagBytes ?? 0) : null;
      return lag !== null && lag <= 1024 * 1024;
    }, wait);
    if (!close) {
      throw new UsageError(
        `${node.name} is ${lag === null ? "not streaming" : `${lag} bytes behind`} after ${wait} s; no switchover (writes were not stopped)`,
      );
    }
    await stopNode(oldPrimary, { mode: "fast" });
    out.line(`${primary.name}: stopped (writes end here)`);
    const drained = await until(async () => {
      const [row] = await onStandby.query<{ done: boolean }>(
        "SELECT pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() AND NOT EXISTS (SELECT FROM pg_stat_wal_receiver WHERE status = 'streaming') AS done",
      );
      return row?.done === true;
    }, wait);
    if (!drained) {
      await startNode(oldPrimary);
      throw new UsageError(
        `${node.name} did not replay all of ${primary.name}'s WAL within ${wait} s; ${primary.name} is started again as the primary`,
      );
    }
    await promoteNode(onStandby);
    await recordPrimary(t, node.group, node.name);
    out.line(`${node.name}: promoted`);
  } finally {
    await access.connections.closeAll();
  }
  // The old primary ends where the new one began: it follows it as a standby from here.
  const first = await applyAfter(t, out, [primary.name]);
  const t2 = first.access.topology;
  const old2 = t2.nodes.get(primary.name)!;
  try {
    await writeStandbyConfig(nodePaths(localNode(t2, old2)).dataDir, undefined, {
      owner: (await ensureServerUser()) ?? undefined,
      sync: true,
    });
    await first.access.config?.write(old2.name, hbaRules(t2, old2.name));
    await startNode(localNode(t2, old2));
    out.line(`${primary.name}: started as a standby of ${node.name}`);
  } finally {
    await first.access.connections.closeAll();
  }
  const last = await applyAfter(t, out);
  await last.access.connections.closeAll();
  return Math.max(first.code, last.code);
}

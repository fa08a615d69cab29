import {
  type Connections,
  divergence,
  observeReplication,
  type ReplicationState,
} from "../pgadmin/index.js";
import { maintenanceDb, standbysOf } from "../provision/index.js";
import type { MeshNode, Topology } from "../topology/index.js";
import { type CheckResult, fail, failWith, pass } from "./check.js";

/**
 * Every declared standby is a standby of the same system as its upstream and streams from it
 * within the lag bound; no slot that nobody uses holds WAL; synchronous_standby_names names
 * the declared sync standbys.
 */
export async function checkReplication(
  conns: Connections,
  t: Topology,
  up: ReadonlySet<string>,
): Promise<CheckResult[]> {
  const state = new Map<string, ReplicationState>();
  const results: CheckResult[] = [];
  const involved = [...t.nodes.values()].filter(
    (n) => up.has(n.name) && (n.standby || standbysOf(t, n.name).length),
  );
  await Promise.all(
    involved.map(async (n) => {
      try {
        state.set(n.name, await observeReplication(await conns.session(n.name, maintenanceDb)));
      } catch (e) {
        results.push(failWith("replication", n.name, "cannot read the replication state", e, ""));
      }
    }),
  );
  for (const n of t.nodes.values()) {
    const mine = state.get(n.name);
    if (n.standby && mine) {
      const upstream = state.get(n.standby.upstream);
      results.push(checkStandby(n, mine, upstream));
    }
    if (mine && !n.standby) results.push(...checkSyncNames(t, n, mine));
    for (const slot of mine?.slots ?? []) {
      if (!slot.active && (slot.retainedBytes ?? 0) > 0) {
        results.push(
          fail(
            "slots",
            `${n.name}: ${slot.name}`,
            `inactive, holding ${slot.retainedBytes} bytes of WAL`,
            "no standby streams from this slot, so the server keeps WAL for it until the disk fills",
            `start the standby that uses it, or drop it: dbmesh sql ${n.name} "SELECT pg_drop_replication_slot('${slot.name}')"`,
          ),
        );
      }
    }
  }
  return results;
}

function checkStandby(
  n: MeshNode,
  mine: ReplicationState,
  upstream: ReplicationState | undefined,
): CheckResult {
  const up = n.standby!.upstream;
  const reclone = `dbmesh up --node ${n.name} --reclone`;
  if (mine.role !== "standby") {
    return fail(
      "standby",
      n.name,
      "is not in recovery",
      `${n.name} runs as a primary, but the file says it is a standby of ${up}`,
      `re-create it from ${up}: ${reclone}`,
    );
  }
  if (!upstream)
    return fail(
      "standby",
      n.name,
      `cannot compare with ${up}`,
      `${up} is not reachable`,
      `start ${up}`,
    );
  if (mine.systemId !== upstream.systemId) {
    return fail(
      "standby",
      n.name,
      `system ${mine.systemId}, but ${up} is system ${upstream.systemId}`,
      "the data directory belongs to another cluster",
      `re-clone it: ${reclone}`,
    );
  }
  const stream = upstream.standbys.find((s) => s.name === n.name);
  const diverged = stream ? undefined : divergence(mine, upstream, up);
  if (diverged) {
    return fail(
      "standby",
      n.name,
      `cannot follow ${up}`,
      diverged,
      `rebuild it from ${up}: ${reclone} (or set nodes.${n.name}.onMismatch: reclone)`,
    );
  }
  if (stream?.state !== "streaming") {
    const receiver = mine.receiver
      ? `walreceiver ${mine.receiver.status}${mine.receiver.sender ? ` from ${mine.receiver.sender}` : ""}`
      : "no walreceiver";
    return fail(
      "standby",
      n.name,
      `not streaming from ${up} (${receiver})`,
      `${up} lists no streaming connection named ${n.name}`,
      `read .dbmesh/${n.name}/postgres.log; check the replication pg_hba line and password on ${up}`,
    );
  }
  const lag = stream.lagBytes ?? 0;
  const seconds = stream.replayLagSeconds ?? 0;
  const bound = n.standby!.maxLag;
  if (lag > bound.bytes || (bound.seconds !== undefined && seconds > bound.seconds)) {
    const limit = `${bound.bytes} bytes${bound.seconds !== undefined ? ` or ${bound.seconds} s` : ""}`;
    return fail(
      "standby",
      n.name,
      `${lag} bytes and ${seconds} s behind ${up}`,
      `replay lags more than the declared bound (maxLag: ${limit})`,
      `check the load and disk of ${n.name}, or raise nodes.${n.name}.maxLag`,
    );
  }
  return pass(
    "standby",
    n.name,
    `streaming from ${up} (${stream.syncState}), ${lag} bytes behind, replay lag ${stream.replayLagSeconds ?? 0} s`,
  );
}

function checkSyncNames(t: Topology, n: MeshNode, mine: ReplicationState): CheckResult[] {
  const declared = standbysOf(t, n.name)
    .filter((s) => s.standby?.sync)
    .map((s) => s.name)
    .sort();
  const listed = [...mine.syncNames.matchAll(/"((?:[^"]|"")*)"|([A-Za-z0-9_-]+)/g)]
    .map((m) => (m[1] ?? m[2] ?? "").replace(/""/g, '"'))
    .filter((x) => !/^(FIRST|ANY|\d+)$/i.test(x))
    .sort();
  if (!declared.length && !listed.length) return [];
  if (declared.join() === listed.join())
    return [pass("sync", n.name, `synchronous_standby_names '${mine.syncNames}'`)];
  return [
    fail(
      "sync",
      n.name,
      `synchronous_standby_names '${mine.syncNames}'`,
      `the file declares sync standbys: ${declared.join(", ") || "none"}`,
      "run `dbmesh up` (a sync standby is named once it exists) or `dbmesh apply`",
    ),
  ];
}

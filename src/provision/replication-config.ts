import { conninfoValue, ident, passfileEntry } from "../pgadmin/index.js";
import type { MeshNode, Topology } from "../topology/index.js";

/** Standbys whose upstream is `node`. */
export function standbysOf(t: Topology, node: string): MeshNode[] {
  return [...t.nodes.values()].filter((n) => n.standby?.upstream === node);
}

/**
 * The postgresql.conf settings replication adds to a managed node: synchronous_standby_names
 * from its sync standbys, and for a standby where and how it streams from.
 * https://www.postgresql.org/docs/17/runtime-config-replication.html
 */
export function replicationSettings(
  t: Topology,
  node: MeshNode,
  passfile: string,
  created: (standby: MeshNode) => boolean,
): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  // Lets pg_rewind bring a former primary (or a diverged standby) back without a full copy.
  if (node.standby || standbysOf(t, node.name).length) out.wal_log_hints = true;
  // A sync standby is named once it exists: naming one that is still to be built would make
  // every commit on the primary wait, including the ones that build it (roles, slots).
  const syncs = standbysOf(t, node.name).filter((s) => s.standby?.sync && created(s));
  if (syncs.length) {
    const { mode, count } = node.synchronous;
    out.synchronous_standby_names = `${mode.toUpperCase()} ${count} (${syncs.map((s) => ident(s.name)).join(", ")})`;
  }
  const s = node.standby;
  const upstream = s && t.nodes.get(s.upstream);
  if (s && upstream) {
    out.primary_conninfo = primaryConninfo(upstream, s.role, node.name, passfile);
    if (s.slot) out.primary_slot_name = s.slot;
  }
  return out;
}

/**
 * libpq connection string of a standby's walreceiver. The password stays in a passfile;
 * application_name is what synchronous_standby_names matches.
 * https://www.postgresql.org/docs/17/libpq-connect.html#LIBPQ-CONNSTRING
 */
export function primaryConninfo(
  upstream: MeshNode,
  role: string,
  standby: string,
  passfile: string,
): string {
  const pairs: [string, string][] = [
    ["host", upstream.host],
    ["port", String(upstream.port)],
    ["user", role],
    ["passfile", passfile],
    ["application_name", standby],
  ];
  return pairs.map(([k, v]) => `${k}=${conninfoValue(v)}`).join(" ");
}

/** A line of a libpq password file for a standby's replication connection. */
export function passfileLine(upstream: MeshNode, role: string, password: string): string {
  return passfileEntry(upstream.host, upstream.port, "replication", role, password);
}

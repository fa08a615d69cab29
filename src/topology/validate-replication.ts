import type { Topology } from "./model.js";
import type { TopologyFile } from "./schema.js";
import type { TopologyIssue } from "./topology-error.js";

type Path = (string | number)[];

/** The primary at the top of a standby chain; the node itself when it is no standby. */
export function primaryOf(t: Topology, name: string): string {
  const seen = new Set<string>();
  let at = name;
  for (;;) {
    const up = t.nodes.get(at)?.standby?.upstream;
    if (!up || seen.has(at) || !t.nodes.has(up)) return at;
    seen.add(at);
    at = up;
  }
}

/**
 * Standbys: an upstream that exists, no loops, a replication role declared on the primary,
 * a valid slot name; nothing is created on a standby (it is read-only and gets roles and
 * databases from its primary).
 */
export function checkReplication(t: Topology, f: TopologyFile): TopologyIssue[] {
  const issues: TopologyIssue[] = [];
  const issue = (path: Path, message: string, expected: string, hint: string) =>
    issues.push({ at: t.positionOf(path), message, expected, hint });
  for (const n of t.nodes.values()) {
    const s = n.standby;
    const at: Path = ["nodes", n.name];
    if (!s) {
      if (f.nodes[n.name]?.sync !== undefined) {
        issue(
          [...at, "sync"],
          `sync: is for standbys; "${n.name}" has no replicaOf`,
          "replicaOf: UPSTREAM",
          "remove sync: or add replicaOf:",
        );
      }
      const syncs = [...t.nodes.values()].filter(
        (x) => x.standby?.upstream === n.name && x.standby.sync,
      );
      if (n.synchronous.count > Math.max(1, syncs.length)) {
        issue(
          [...at, "synchronous", "count"],
          `synchronous.count ${n.synchronous.count} exceeds the ${syncs.length} sync standbys of "${n.name}"`,
          `at most ${syncs.length}`,
          "lower the count or mark more standbys sync: true",
        );
      }
      continue;
    }
    if (!t.nodes.has(s.upstream)) {
      issue(
        [...at, "replicaOf"],
        `unknown upstream node "${s.upstream}"`,
        `one of ${[...t.nodes.keys()].join(", ")}`,
        "replicaOf names a node declared under nodes:",
      );
      continue;
    }
    const seen = new Set([n.name]);
    for (let up: string | undefined = s.upstream; up; up = t.nodes.get(up)?.standby?.upstream) {
      if (seen.has(up)) {
        issue(
          [...at, "replicaOf"],
          `replicaOf forms a loop: ${[...seen, up].join(" → ")}`,
          "a chain that ends at a primary",
          "make one node of the loop a primary (no replicaOf)",
        );
        break;
      }
      seen.add(up);
    }
    const primary = primaryOf(t, n.name);
    const role = t.roles.get(s.role);
    if (!s.role) {
      issue(
        at,
        `standby "${n.name}" has no replication role`,
        `a role with replication: true on "${primary}"`,
        `declare one, e.g. roles: { replicator: { password: env:REPLICATOR_PASSWORD, nodes: [${primary}], replication: true } }`,
      );
    } else if (!role) {
      issue(
        [...at, "replicationRole"],
        `unknown role "${s.role}"`,
        "a role declared under roles:",
        "declare it with replication: true",
      );
    } else if (!role.replication || !role.nodes.includes(primary)) {
      issue(
        [...at, "replicationRole"],
        `role "${s.role}" cannot stream WAL from "${primary}"`,
        `replication: true and "${primary}" in its nodes`,
        `set roles.${s.role}.replication: true and add ${primary} to its nodes`,
      );
    }
    if (s.slot !== undefined && !/^[a-z0-9_]{1,63}$/.test(s.slot)) {
      issue(
        [...at, "slot"],
        `"${s.slot}" is not a replication slot name`,
        "lower-case letters, digits and underscores",
        "rename the slot",
      );
    }
    for (const d of t.databases.filter((d) => d.node === n.name)) {
      issue(
        ["databases", d.key, "node"],
        `database "${d.name}" is declared on standby "${n.name}"`,
        `the primary "${primary}"`,
        `declare it on ${primary}; standbys replicate every database`,
      );
    }
    for (const r of t.roles.values()) {
      if (r.nodes.includes(n.name)) {
        issue(
          ["roles", r.name, "nodes"],
          `role "${r.name}" is declared on standby "${n.name}"`,
          `the primary "${primary}"`,
          `declare it on ${primary}; standbys replicate roles`,
        );
      }
    }
    for (const l of t.links.filter((l) => l.from.node === n.name)) {
      issue(
        ["links", l.index, "from"],
        `links[${l.index}] starts on standby "${n.name}", which is read-only`,
        "a primary",
        `start the link on ${primary}; its objects replicate to the standby`,
      );
    }
  }
  return issues;
}

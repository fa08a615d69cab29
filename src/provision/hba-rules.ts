import { isIP } from "node:net";
import type { HbaLine } from "../pgadmin/index.js";
import { hbaToken } from "../pgadmin/index.js";
import { isLoopback, type Topology } from "../topology/index.js";

/**
 * The pg_hba.conf a node needs, least privilege: local and loopback lines for the admin role,
 * one line per (client address, database, role) for database owners and for each link that
 * reaches this node, every address as /32. No `all all` line.
 */
export function hbaRules(t: Topology, nodeName: string): HbaLine[] {
  const node = t.nodes.get(nodeName);
  if (!node) return [];
  const admin = hbaToken(node.admin.user);
  const lines: HbaLine[] = [
    {
      type: "local",
      database: "all",
      user: admin,
      method: "scram-sha-256",
      comment: "dbmesh admin",
    },
    {
      type: "host",
      database: "all",
      user: admin,
      address: "127.0.0.1/32",
      method: "scram-sha-256",
    },
    { type: "host", database: "all", user: admin, address: "::1/128", method: "scram-sha-256" },
  ];
  const seen = new Set<string>();
  // (database, role) pairs that may log in, so the router can log in as them too.
  const logins = new Map<string, [string, string]>();
  /** `database` is a name, or the keyword `replication` when `keyword` is set. */
  const add = (
    database: string,
    role: string,
    address: string,
    comment: string,
    keyword = false,
  ) => {
    // An address gets a one-host mask; a host name stays as it is (pg_hba.conf matches it by
    // reverse and forward DNS lookup).
    const cidr =
      address.includes("/") || isIP(address) === 0
        ? address
        : `${address}/${isIP(address) === 6 ? 128 : 32}`;
    const key = `${database}\0${role}\0${cidr}`;
    if (seen.has(key)) return;
    seen.add(key);
    if (!keyword) logins.set(`${database}\0${role}`, [database, role]);
    lines.push({
      type: "host",
      database: keyword ? database : hbaToken(database),
      user: hbaToken(role),
      address: cidr,
      method: "scram-sha-256",
      comment,
    });
  };
  // Every node of a replication group (a primary and its standbys) gets the same lines: roles
  // and databases replicate, reads may go to any of them, and any of them may be promoted.
  const inGroup = (other: string) => t.nodes.get(other)?.group === node.group;
  for (const d of t.databases) {
    if (!inGroup(d.node)) continue;
    const owner = t.roles.get(d.owner);
    for (const from of owner?.from ?? []) add(d.name, d.owner, from, `owner of ${d.name}`);
  }
  // Local roles of links log in to the linking database to use what the link exposes.
  for (const l of t.links) {
    if (!inGroup(l.from.node)) continue;
    for (const m of l.as) {
      for (const from of t.roles.get(m.local)?.from ?? [])
        add(l.from.database, m.local, from, `uses ${l.via} link to ${l.to.node}`);
    }
  }
  for (const l of t.links) {
    if (!inGroup(l.to.node)) continue;
    const address = clientAddress(t.nodes.get(l.from.node)?.host ?? "127.0.0.1");
    for (const m of l.as)
      add(l.to.database, m.remote, address, `${l.via} link from ${l.from.node}/${l.from.database}`);
  }
  // A coordinator reads and writes its remote shards through postgres_fdw, logging in to each
  // shard node's database as that database's owner (the user mapping's remote user).
  for (const st of t.sharded) {
    if (st.kind !== "distributed") continue;
    const address = clientAddress(t.nodes.get(st.coordinator.node)?.host ?? "127.0.0.1");
    for (const sh of st.shards) {
      if (sh.local || !inGroup(sh.node)) continue;
      const owner = t.databases.find((d) => d.node === sh.node && d.name === sh.database)?.owner;
      if (owner)
        add(
          sh.database,
          owner,
          address,
          `shards of ${st.name} from ${st.coordinator.node}/${st.coordinator.database}`,
        );
    }
  }
  // Each copy of a reference table subscribes to its coordinator's publication: a logical
  // replication connection to that database (not the replication keyword) as the table's
  // replicateAs role, from the copy's node.
  for (const st of t.sharded) {
    if (st.kind !== "reference" || !inGroup(st.coordinator.node) || !st.replicateAs) continue;
    for (const c of st.shards)
      add(
        st.coordinator.database,
        st.replicateAs,
        clientAddress(t.nodes.get(c.node)?.host ?? "127.0.0.1"),
        `copy of reference table ${st.name} on ${c.node}/${c.database}`,
      );
  }
  // Each standby of the group streams WAL as its replication role, from its own address only.
  for (const n of t.nodes.values()) {
    const sb = n.standby;
    if (sb && n.name !== nodeName && inGroup(n.name)) {
      add("replication", sb.role, clientAddress(n.host), `standby ${n.name}`, true);
    }
  }
  // The router logs in to a node as the client's role: whoever may log in directly may log in
  // through it, from the router's address.
  if (t.router) {
    const from = routerSource(t.router.host);
    for (const [database, role] of [...logins.values()]) {
      add(database, role, from, "through the dbmesh router");
    }
  }
  return lines;
}

/**
 * The address nodes see the router connect from: its listen address, or loopback when it
 * listens on every address (it then reaches local nodes from 127.0.0.1).
 */
function routerSource(host: string): string {
  return host === "0.0.0.0" || host === "::" || host === "*" ? "127.0.0.1" : clientAddress(host);
}

/**
 * The address a server sees when the node at `host` connects to it. Linux gives a connection
 * to any 127.0.0.0/8 address the source 127.0.0.1, so every loopback node is 127.0.0.1.
 */
export function clientAddress(host: string): string {
  if (host === "::1") return host;
  return isLoopback(host) ? "127.0.0.1" : host;
}

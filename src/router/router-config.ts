import { readFileSync } from "node:fs";
import { type MeshRouter, primaryOf, secretValue, type Topology } from "../topology/index.js";
import { NO_NODE_TLS, type NodeTls } from "./node-tls.js";
import { makeVerifier, type ScramVerifier } from "./scram-server.js";

/** A server the router connects to. */
export interface RoutedNode {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** Relative share of reads (capacity in the file). */
  readonly capacity: number;
  /**
   * Replay lag beyond which reads skip the node while it is a standby (standby.maxLag in the
   * file; 64 MiB and no time bound for a node the file declares as a primary).
   */
  readonly maxLag: { readonly bytes: number; readonly seconds: number | undefined };
}

/** A database clients name in their startup packet: a database key of the file. */
export interface RoutedDatabase {
  /** The key in the file, which clients use. */
  readonly key: string;
  /** The database name on the servers. */
  readonly name: string;
  /** The replication group (its declared primary) that serves it. */
  readonly group: string;
  /** The group's current primary (after promotions). */
  readonly primary: RoutedNode;
  /** The group's standbys, which may serve reads. */
  readonly standbys: readonly RoutedNode[];
  /** The primary, then the standbys. */
  readonly members: readonly RoutedNode[];
  /** The database's owner role: the health checker logs in as it. */
  readonly owner: string;
}

/** A declared role: its password for server logins and the verifier clients prove against. */
export interface RoutedRole {
  readonly name: string;
  readonly password: string;
  readonly verifier: ScramVerifier;
}

/** Everything the router serves, built from the topology (with promotions applied); frozen. */
export interface RouterConfig {
  readonly listen: { readonly host: string; readonly port: number };
  readonly mode: MeshRouter["mode"];
  readonly poolSize: number;
  /** Milliseconds a client waits in a pool's queue. */
  readonly queueTimeoutMs: number;
  /** Largest client message (its Int32 length). */
  readonly maxMessage: number;
  /** Reads may go to the primary too, weighted by its capacity. */
  readonly readFromPrimary: boolean;
  /** Milliseconds between health checks of each node (router.healthInterval). */
  readonly healthIntervalMs: number;
  /** Milliseconds a read-your-writes read waits for standbys' replay positions (router.replayWait). */
  readonly replayWaitMs: number;
  /** PEM certificate and key for TLS towards clients, read once. */
  readonly tls: { readonly cert: Buffer; readonly key: Buffer } | undefined;
  /** TLS towards the nodes (router.nodeTls), its CA file read once. */
  readonly nodeTls: NodeTls;
  readonly nodes: ReadonlyMap<string, RoutedNode>;
  readonly databases: ReadonlyMap<string, RoutedDatabase>;
  readonly roles: ReadonlyMap<string, RoutedRole>;
}

/** The default standby.maxLag.bytes of the file. */
const DEFAULT_MAX_LAG_BYTES = 64 * 1024 * 1024;

/** The database name reserved for the admin console. */
export const ADMIN_DATABASE = "dbmesh";

/**
 * The router's view of a topology that has a router section. Secrets are read here; a verifier
 * is kept from `previous` while the role's password is unchanged, so a reload does not redo
 * PBKDF2 for every role.
 */
export function routerConfig(t: Topology, previous?: RouterConfig): RouterConfig {
  const r = t.router;
  if (!r) throw new Error(`${t.file} has no router: section`);
  const nodes = new Map<string, RoutedNode>();
  for (const n of t.nodes.values()) {
    if (n.engine !== "postgres") continue;
    nodes.set(
      n.name,
      Object.freeze({
        name: n.name,
        host: n.host,
        port: n.port,
        capacity: n.capacity,
        maxLag: Object.freeze({
          bytes: n.standby?.maxLag.bytes ?? DEFAULT_MAX_LAG_BYTES,
          seconds: n.standby?.maxLag.seconds,
        }),
      }),
    );
  }
  const databases = new Map<string, RoutedDatabase>();
  for (const d of t.databases) {
    const node = t.nodes.get(d.node);
    if (!node || !nodes.has(d.node)) continue;
    const group = node.group;
    const members = [...t.nodes.values()].filter((n) => n.group === group && nodes.has(n.name));
    // After promotions the current primary is the member that streams from nobody.
    const current = members.find((n) => !n.standby)?.name ?? primaryOf(t, d.node);
    const primary = nodes.get(current);
    if (!primary) continue;
    const standbys = members.filter((n) => n.name !== current).map((n) => nodes.get(n.name)!);
    databases.set(
      d.key,
      Object.freeze({
        key: d.key,
        name: d.name,
        group,
        primary,
        standbys: Object.freeze(standbys),
        members: Object.freeze([primary, ...standbys]),
        owner: d.owner,
      }),
    );
  }
  const roles = new Map<string, RoutedRole>();
  for (const role of t.roles.values()) {
    const password = secretValue(t, role.password);
    const before = previous?.roles.get(role.name);
    const verifier =
      before && before.password === password ? before.verifier : makeVerifier(password);
    roles.set(role.name, Object.freeze({ name: role.name, password, verifier }));
  }
  return Object.freeze({
    listen: Object.freeze({ host: r.host, port: r.port }),
    mode: r.mode,
    poolSize: r.poolSize,
    queueTimeoutMs: Math.round(r.queueTimeout * 1000),
    maxMessage: r.maxMessage,
    readFromPrimary: r.readFromPrimary,
    healthIntervalMs: Math.round(r.healthInterval * 1000),
    replayWaitMs: Math.round(r.replayWait * 1000),
    tls: r.tls
      ? Object.freeze({ cert: readFileSync(r.tls.cert), key: readFileSync(r.tls.key) })
      : undefined,
    nodeTls:
      r.nodeTls.mode === "disable"
        ? NO_NODE_TLS
        : Object.freeze({
            mode: r.nodeTls.mode,
            ca: r.nodeTls.ca === undefined ? undefined : readFileSync(r.nodeTls.ca),
          }),
    nodes,
    databases,
    roles,
  });
}

import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { buildSharded } from "./build-sharding.js";
import type {
  Endpoint,
  MeshDatabase,
  MeshLink,
  MeshNode,
  MeshRole,
  MeshRouter,
  Position,
  TableRef,
  Topology,
} from "./model.js";
import { type RouterFile, type TopologyFile, topologySchema } from "./schema.js";
import { TopologyError, type TopologyIssue } from "./topology-error.js";
import { checkTopology } from "./validate.js";
import { parseYaml } from "./yaml-source.js";
import { schemaIssues } from "./zod-issues.js";

/** Reads, validates and freezes a topology file. Throws TopologyError listing every problem. */
export function loadTopology(path: string): Topology {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new TopologyError([
      {
        at: undefined,
        message: `cannot read topology file ${file}: ${(e as Error).message}`,
        hint: "pass -f FILE, set DBMESH_FILE, or run `dbmesh init` to write a starter dbmesh.yaml",
      },
    ]);
  }
  return parseTopology(file, text);
}

export function parseTopology(file: string, text: string): Topology {
  const source = parseYaml(file, text);
  if (source.issues.length) throw new TopologyError(source.issues);
  if (source.value === null || typeof source.value !== "object" || Array.isArray(source.value)) {
    throw new TopologyError([
      {
        at: { file, line: 1, col: 1 },
        message: "the topology file must be a mapping",
        expected: "version: 1, nodes: …",
        hint: "run `dbmesh init` for a starter file",
      },
    ]);
  }
  const parsed = topologySchema.safeParse(source.value, { reportInput: true });
  if (!parsed.success) {
    throw new TopologyError(sortIssues(schemaIssues(source, topologySchema, parsed.error.issues)));
  }
  const topology = build(file, parsed.data, (p) => source.positionOf(p));
  const issues = checkTopology(topology, parsed.data);
  if (issues.length) throw new TopologyError(sortIssues(issues));
  return topology;
}

function build(
  file: string,
  f: TopologyFile,
  positionOf: (path: readonly (string | number)[]) => Position | undefined,
): Topology {
  const nodes = new Map<string, MeshNode>();
  for (const [name, n] of Object.entries(f.nodes)) {
    const group = rootOf(f, name);
    const engine = n.engine === "postgres" ? "postgres" : "mariadb";
    nodes.set(
      name,
      Object.freeze({
        name,
        host: n.host,
        port: n.port,
        engine,
        capacity: n.capacity,
        managed: n.managed ?? isLoopback(n.host),
        binaries: n.binaries,
        admin: Object.freeze({
          user: n.admin?.user ?? (engine === "mariadb" ? "root" : "postgres"),
          password: n.admin?.password
            ? { ref: n.admin.password, at: positionOf(["nodes", name, "admin", "password"]) }
            : undefined,
        }),
        settings: Object.freeze({ ...n.settings }),
        group,
        standby: n.replicaOf
          ? Object.freeze({
              upstream: n.replicaOf,
              sync: n.sync ?? false,
              maxLag: Object.freeze({
                bytes: n.maxLag?.bytes ?? 64 * 1024 * 1024,
                seconds: n.maxLag?.seconds,
              }),
              onMismatch: n.onMismatch,
              slot: n.slot === false ? undefined : n.slot === true ? slotName(name) : n.slot,
              role:
                n.replicationRole ??
                Object.entries(f.roles).find(
                  ([, r]) => r.replication && r.nodes.includes(group),
                )?.[0] ??
                "",
            })
          : undefined,
        synchronous: Object.freeze({
          mode: n.synchronous?.mode ?? "first",
          count: n.synchronous?.count ?? 1,
        }),
      }),
    );
  }
  const roles = new Map<string, MeshRole>();
  for (const [name, r] of Object.entries(f.roles)) {
    roles.set(
      name,
      Object.freeze({
        name,
        password: { ref: r.password, at: positionOf(["roles", name, "password"]) },
        nodes: Object.freeze([...r.nodes]),
        from: Object.freeze([...r.from]),
        createdb: r.createdb,
        connectionLimit: r.connectionLimit,
        replication: r.replication,
      }),
    );
  }
  const dir = dirname(file);
  const databases: MeshDatabase[] = Object.entries(f.databases).map(([key, d]) =>
    Object.freeze({
      key,
      name: d.name ?? key,
      node: d.node,
      owner: d.owner,
      schemas: Object.freeze([...d.schemas]),
      seed: Object.freeze(d.seed.map((s) => resolve(dir, s))),
    }),
  );
  const endpoint = (s: string): Endpoint => {
    const [node = "", db = ""] = s.split("/");
    const found = databases.find((d) => d.node === node && (d.name === db || d.key === db));
    return Object.freeze({ node, database: found?.name ?? db });
  };
  const tableRef = (s: string): TableRef => {
    const [schema = "", table = ""] = s.split(".");
    return Object.freeze({ schema, table });
  };
  const links: MeshLink[] = f.links.map((l, index) => {
    const as = Object.entries(l.as).map(([local, remote]) => Object.freeze({ local, remote }));
    const to = endpoint(l.to);
    return Object.freeze({
      index,
      from: endpoint(l.from),
      to,
      via: l.via,
      server: l.name ?? to.node,
      as: Object.freeze(as),
      owner: as[0]?.local ?? "",
      import: l.import
        ? Object.freeze({
            schema: l.import.schema,
            into: l.import.into,
            tables: l.import.tables,
            writable: l.import.writable,
          })
        : undefined,
      views: l.views
        ? Object.freeze({ into: l.views.into, tables: Object.freeze(l.views.tables.map(tableRef)) })
        : undefined,
      copies: l.copies
        ? Object.freeze({
            into: l.copies.into,
            tables: Object.freeze(l.copies.tables.map(tableRef)),
            refresh: l.copies.refresh,
          })
        : undefined,
      options: Object.freeze({ ...l.options }),
    });
  });
  return Object.freeze({
    file,
    stateDir: join(dir, ".dbmesh"),
    nodes,
    roles,
    databases: Object.freeze(databases),
    links: Object.freeze(links),
    router: f.router ? buildRouter(f.router, dir) : undefined,
    sharded: Object.freeze(buildSharded(f.sharded, databases, [...roles.values()])),
    positionOf,
  });
}

function buildRouter(r: RouterFile, dir: string): MeshRouter {
  return Object.freeze({
    ...splitHostPort(r.listen),
    mode: r.mode,
    poolSize: r.poolSize,
    queueTimeout: r.queueTimeout,
    readFromPrimary: r.readFromPrimary,
    healthInterval: r.healthInterval,
    replayWait: r.replayWait,
    maxMessage: r.maxMessage,
    serverIdleTimeout: r.serverIdleTimeout,
    maxPreparedStatements: r.maxPreparedStatements,
    messageTimeout: r.messageTimeout,
    metrics: r.metrics ? splitHostPort(r.metrics) : undefined,
    tls: r.tls
      ? Object.freeze({ cert: resolve(dir, r.tls.cert), key: resolve(dir, r.tls.key) })
      : undefined,
    nodeTls: Object.freeze({
      mode: r.nodeTls?.mode ?? "disable",
      ca: r.nodeTls?.ca === undefined ? undefined : resolve(dir, r.nodeTls.ca),
    }),
  });
}

function splitHostPort(s: string): { host: string; port: number } {
  const at = s.lastIndexOf(":");
  return { host: s.slice(0, at), port: Number(s.slice(at + 1)) };
}

/** The primary at the top of a node's replicaOf chain (the node itself when it is no standby). */
function rootOf(
  f: { nodes: Record<string, { replicaOf?: string | undefined }> },
  name: string,
): string {
  const seen = new Set<string>();
  let at = name;
  while (f.nodes[at]?.replicaOf && !seen.has(at)) {
    seen.add(at);
    at = f.nodes[at]!.replicaOf!;
  }
  return at;
}

/** A physical slot name from a node name: lower-case letters, digits and underscores. */
export function slotName(node: string): string {
  return node
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, "_")
    .slice(0, 63);
}

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function sortIssues(issues: TopologyIssue[]): TopologyIssue[] {
  return [...issues].sort(
    (a, b) => (a.at?.line ?? 0) - (b.at?.line ?? 0) || (a.at?.col ?? 0) - (b.at?.col ?? 0),
  );
}

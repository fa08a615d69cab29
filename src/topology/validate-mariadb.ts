import type { Topology } from "./model.js";
import type { TopologyIssue } from "./topology-error.js";

type Path = (string | number)[];

/** Node fields that configure PostgreSQL only: a MariaDB node refuses each one written. */
const postgresOnlyNodeFields = [
  "binaries",
  "settings",
  "replicaOf",
  "sync",
  "slot",
  "maxLag",
  "replicationRole",
  "onMismatch",
  "synchronous",
] as const;

/** Databases MariaDB keeps for itself, and the one dbmesh keeps its bookkeeping in. */
export const reservedDatabases = new Set([
  "mysql",
  "information_schema",
  "performance_schema",
  "sys",
  "dbmesh",
]);

/**
 * What a MariaDB node cannot hold: PostgreSQL-only node fields, replication, role attributes
 * MariaDB has no counterpart for, schemas, links (dblink and postgres_fdw connect PostgreSQL
 * databases), and sharded tables (foreign partitions are PostgreSQL's).
 */
export function checkMariadb(t: Topology): TopologyIssue[] {
  const issues: TopologyIssue[] = [];
  const issue = (path: Path, message: string, expected?: string, hint?: string) =>
    issues.push({ at: t.positionOf(path), message, expected, hint });
  const isMariadb = (node: string) => t.nodes.get(node)?.engine === "mariadb";

  for (const n of t.nodes.values()) {
    if (n.engine !== "mariadb") continue;
    const nodeAt = t.positionOf(["nodes", n.name]);
    for (const field of postgresOnlyNodeFields) {
      // positionOf falls back to the closest written ancestor: a field not written is at the node.
      const at = t.positionOf(["nodes", n.name, field]);
      if (!at || (at.line === nodeAt?.line && at.col === nodeAt.col)) continue;
      issues.push({
        at,
        message: `${field}: is a PostgreSQL setting; node "${n.name}" is a MariaDB node`,
        expected: "host, port, engine, capacity, managed, admin",
        hint: `remove ${field}: from nodes.${n.name}`,
      });
    }
    if (n.managed && !/^127\.\d+\.\d+\.\d+$/.test(n.host) && n.host !== "localhost") {
      issue(
        ["nodes", n.name, "host"],
        `a MariaDB node dbmesh runs listens on a loopback address only, not ${n.host}`,
        "a 127.x.y.z address",
        "use host: 127.0.0.1, or set managed: false and admin: credentials for a server run elsewhere",
      );
    }
  }
  for (const n of t.nodes.values()) {
    if (n.engine === "postgres" && n.standby && isMariadb(n.standby.upstream)) {
      issue(
        ["nodes", n.name, "replicaOf"],
        `node "${n.name}" cannot stream from "${n.standby.upstream}": it is a MariaDB node`,
        "a PostgreSQL node",
      );
    }
  }

  for (const r of t.roles.values()) {
    const on = r.nodes.filter(isMariadb);
    if (!on.length) continue;
    for (const [field, set] of [
      ["replication", r.replication],
      ["createdb", r.createdb],
    ] as const) {
      if (!set) continue;
      issue(
        ["roles", r.name, field],
        `${field}: is a PostgreSQL role attribute; role "${r.name}" is declared on MariaDB node "${on[0]}"`,
        `${field}: false`,
        `remove ${field}: from roles.${r.name}, or declare a separate role for the MariaDB node`,
      );
    }
  }

  for (const d of t.databases) {
    if (!isMariadb(d.node)) continue;
    const at: Path = ["databases", d.key];
    if (d.schemas.length) {
      issue(
        [...at, "schemas"],
        `schemas: are PostgreSQL namespaces; on MariaDB node "${d.node}" a database is the namespace`,
        "no schemas: on a MariaDB database",
        "declare each schema as a database of its own",
      );
    }
    if (reservedDatabases.has(d.name.toLowerCase())) {
      issue(
        at,
        `database "${d.name}" is reserved on MariaDB node "${d.node}" (${d.name === "dbmesh" ? "dbmesh keeps its bookkeeping there" : "MariaDB's own"})`,
        "another database name",
        "set name: to another name",
      );
    }
    if (Buffer.byteLength(d.name) > 64 || /\s$/.test(d.name)) {
      issue(
        at,
        `"${d.name}" is not a MariaDB database name: at most 64 characters, no trailing space`,
        "a shorter name",
      );
    }
  }

  for (const l of t.links) {
    // mysql_fdw links reach MariaDB by design: validate-mysql-fdw.ts checks their ends.
    if (l.via === "mysql_fdw") continue;
    // CONNECT links start on MariaDB by design: validate-connect.ts checks their ends.
    if (l.via === "connect_odbc" || l.via === "federatedx") continue;
    for (const end of ["from", "to"] as const) {
      if (!isMariadb(l[end].node)) continue;
      issue(
        ["links", l.index, end],
        `${l.via} links PostgreSQL databases; node "${l[end].node}" is a MariaDB node`,
        "a PostgreSQL node/database",
        end === "to"
          ? "use via: mysql_fdw to read a MariaDB database from PostgreSQL"
          : "use via: connect_odbc (to PostgreSQL) or federatedx (to MariaDB) from a MariaDB database",
      );
    }
  }

  t.sharded.forEach((s) => {
    const nodes = [s.coordinator.node, ...s.shards.map((sh) => sh.node)];
    const bad = nodes.find(isMariadb);
    if (bad) {
      issue(
        ["sharded", s.name],
        `sharded table "${s.name}" uses MariaDB node "${bad}"; sharding uses PostgreSQL foreign partitions`,
        "PostgreSQL nodes for the coordinator and every shard",
        "keep sharded tables on PostgreSQL nodes",
      );
    }
  });
  return issues;
}

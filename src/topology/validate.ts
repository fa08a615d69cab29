import { existsSync } from "node:fs";
import { isIPv4 } from "node:net";
import type { Topology } from "./model.js";
import type { TopologyFile } from "./schema.js";
import type { TopologyIssue } from "./topology-error.js";
import { checkConnect } from "./validate-connect.js";
import { checkMariadb } from "./validate-mariadb.js";
import { checkMysqlFdw } from "./validate-mysql-fdw.js";
import { checkReplication, primaryOf } from "./validate-replication.js";
import { checkSharding } from "./validate-sharding.js";
import { closest } from "./zod-issues.js";

type Path = (string | number)[];

/** Cross-reference checks the schema cannot express. Returns every issue found. */
export function checkTopology(t: Topology, f: TopologyFile): TopologyIssue[] {
  const issues: TopologyIssue[] = [];
  const issue = (path: Path, message: string, expected?: string, hint?: string) =>
    issues.push({ at: t.positionOf(path), message, expected, hint });
  const nodeNames = [...t.nodes.keys()];
  const unknownNode = (path: Path, name: string) =>
    issue(
      path,
      `unknown node "${name}"`,
      `one of ${nodeNames.join(", ")}`,
      suggest(name, nodeNames, "declare it under nodes:"),
    );

  const endpoints = new Map<string, string>();
  for (const n of t.nodes.values()) {
    const key = `${n.host}:${n.port}`;
    const other = endpoints.get(key);
    if (other) {
      issue(
        ["nodes", n.name, "port"],
        `nodes "${other}" and "${n.name}" both use ${key}`,
        "a distinct host:port per node",
        "give this node another port",
      );
    }
    endpoints.set(key, n.name);
    if (!n.managed && !n.admin.password) {
      issue(
        ["nodes", n.name],
        `node "${n.name}" is not managed by dbmesh, so it needs superuser credentials`,
        `admin: { user: ${n.engine === "mariadb" ? "root" : "postgres"}, password: env:NAME }`,
        "add admin credentials, or set managed: true if dbmesh should run this server locally",
      );
    }
  }

  for (const r of t.roles.values()) {
    r.nodes.forEach((n, i) => {
      if (t.nodes.get(n)?.admin.user === r.name) {
        issue(
          ["roles", r.name],
          `role "${r.name}" is the admin (superuser) dbmesh uses on node "${n}"`,
          "a login role other than the admin",
          "rename the role, or set nodes.<name>.admin.user to another superuser",
        );
      }
      if (!t.nodes.has(n)) unknownNode(["roles", r.name, "nodes", i], n);
    });
    r.from.forEach((a, i) => {
      if (!isAddress(a)) {
        issue(
          ["roles", r.name, "from", i],
          `"${a}" is not an IPv4 address or CIDR block`,
          "an address such as 127.0.0.1 or 10.0.0.0/24",
        );
      }
    });
  }

  const dbNames = new Set<string>();
  for (const d of t.databases) {
    const at: Path = ["databases", d.key];
    if (!t.nodes.has(d.node)) unknownNode([...at, "node"], d.node);
    if (dbNames.has(`${d.node}/${d.name}`)) {
      issue(
        at,
        `database "${d.name}" is declared twice on node "${d.node}"`,
        "unique names per node",
      );
    }
    dbNames.add(`${d.node}/${d.name}`);
    const owner = t.roles.get(d.owner);
    if (!owner) {
      issue(
        [...at, "owner"],
        `unknown role "${d.owner}"`,
        "a role declared under roles:",
        suggest(d.owner, [...t.roles.keys()], "declare it under roles:"),
      );
    } else if (!owner.nodes.includes(d.node)) {
      issue(
        [...at, "owner"],
        `role "${d.owner}" is not declared on node "${d.node}"`,
        `"${d.node}" in roles.${d.owner}.nodes`,
        `add ${d.node} to roles.${d.owner}.nodes`,
      );
    }
    d.seed.forEach((s, i) => {
      if (!existsSync(s))
        issue(
          [...at, "seed", i],
          `seed file not found: ${s}`,
          "a path relative to the topology file",
        );
    });
  }

  const servers = new Map<string, number>();
  const importSchemas = new Map<string, number>();
  f.links.forEach((raw, i) => {
    const l = t.links[i]!;
    const at: Path = ["links", i];
    for (const end of ["from", "to"] as const) {
      const e = l[end];
      if (!t.nodes.has(e.node)) unknownNode([...at, end], e.node);
      else if (!dbNames.has(`${e.node}/${e.database}`)) {
        const known = t.databases
          .filter((d) => d.node === e.node)
          .map((d) => `${d.node}/${d.name}`);
        issue(
          [...at, end],
          `no database "${e.database}" on node "${e.node}"`,
          known.length ? `one of ${known.join(", ")}` : "a database declared under databases:",
          "declare it under databases:",
        );
      }
    }
    if (l.from.node === l.to.node && l.from.database === l.to.database) {
      issue(
        [...at, "to"],
        "a link from a database to itself",
        "another node/database",
        "remove this link",
      );
    }
    for (const m of l.as) {
      if (t.nodes.has(l.from.node))
        checkRoleOn(t, issue, [...at, "as", m.local], m.local, l.from.node, "local");
      if (t.nodes.has(l.to.node))
        checkRoleOn(t, issue, [...at, "as", m.local], m.remote, primaryOf(t, l.to.node), "remote");
    }
    if (l.via === "dblink" && raw.import) {
      issue(
        [...at, "import"],
        "import: needs a postgres_fdw link",
        "via: postgres_fdw",
        "use views: to expose tables over dblink, or change via:",
      );
    }
    if (l.via === "postgres_fdw" && raw.views) {
      issue(
        [...at, "views"],
        "views: are for dblink links",
        "via: dblink",
        "postgres_fdw exposes tables with import:",
      );
    }
    const serverKey = `${l.from.node}/${l.from.database}/${l.server}`;
    const other = servers.get(serverKey);
    if (other !== undefined) {
      issue(
        [...at, raw.name ? "name" : "to"],
        `foreign server "${l.server}" is already defined by links[${other}] in ${l.from.node}/${l.from.database}`,
        "a unique server name per database",
        "set name: on one of the links",
      );
    } else servers.set(serverKey, i);
    if (l.import) {
      const key = `${l.from.node}/${l.from.database}/${l.import.into}`;
      const prev = importSchemas.get(key);
      if (prev !== undefined) {
        issue(
          [...at, "import", "into"],
          `schema "${l.import.into}" already receives links[${prev}]'s import`,
          "a schema per import",
          "choose another into:",
        );
      }
      importSchemas.set(key, i);
      const db = t.databases.find((d) => d.node === l.from.node && d.name === l.from.database);
      if (db?.schemas.includes(l.import.into)) {
        issue(
          [...at, "import", "into"],
          `schema "${l.import.into}" is declared in databases.${db.key}.schemas; an import needs a schema of its own`,
          "a schema used only by this import",
          "choose another into:",
        );
      }
    }
  });

  issues.push(...checkReplication(t, f));
  issues.push(...checkMariadb(t));
  issues.push(...checkMysqlFdw(t, f));
  issues.push(...checkConnect(t, f));
  issues.push(...checkSharding(t, f));
  for (const cycle of exposureCycles(t)) {
    issue(
      ["links", cycle.link],
      `links expose each other in a loop: ${cycle.path.join(" → ")}`,
      "exposures that end at real tables",
      "remove one of the links in the loop",
    );
  }
  return issues;
}

function checkRoleOn(
  t: Topology,
  issue: (path: Path, message: string, expected?: string, hint?: string) => void,
  path: Path,
  role: string,
  node: string,
  side: string,
) {
  const r = t.roles.get(role);
  if (!r) {
    issue(
      path,
      `unknown ${side} role "${role}"`,
      "a role declared under roles:",
      suggest(role, [...t.roles.keys()], "declare it under roles:"),
    );
  } else if (!r.nodes.includes(node)) {
    issue(
      path,
      `${side} role "${role}" is not declared on node "${node}"`,
      `"${node}" in roles.${role}.nodes`,
      `add ${node} to roles.${role}.nodes`,
    );
  }
}

/** A local schema that shows a remote schema is an edge; a loop of edges means queries that never end. */
function exposureCycles(t: Topology): { link: number; path: string[] }[] {
  const edges = new Map<string, { to: string; link: number }[]>();
  const add = (from: string, to: string, link: number) => {
    const list = edges.get(from) ?? [];
    list.push({ to, link });
    edges.set(from, list);
  };
  for (const l of t.links) {
    const local = (schema: string) => `${l.from.node}/${l.from.database}.${schema}`;
    const remote = (schema: string) => `${l.to.node}/${l.to.database}.${schema}`;
    if (l.import) add(local(l.import.into), remote(l.import.schema), l.index);
    for (const v of l.views?.tables ?? []) add(local(l.views!.into), remote(v.schema), l.index);
  }
  const found: { link: number; path: string[] }[] = [];
  const seen = new Set<string>();
  const walk = (at: string, stack: string[], links: number[]) => {
    if (stack.includes(at)) {
      const start = stack.indexOf(at);
      const key = [...stack.slice(start)].sort().join("|");
      if (!seen.has(key)) {
        seen.add(key);
        found.push({ link: links[start]!, path: [...stack.slice(start), at] });
      }
      return;
    }
    for (const e of edges.get(at) ?? []) walk(e.to, [...stack, at], [...links, e.link]);
  };
  for (const start of edges.keys()) walk(start, [], []);
  return found;
}

function suggest(name: string, known: readonly string[], otherwise: string): string {
  const c = closest(name, known);
  return c ? `did you mean "${c}"?` : otherwise;
}

function isAddress(a: string): boolean {
  const [ip = "", bits, ...rest] = a.split("/");
  if (rest.length || !isIPv4(ip)) return false;
  return bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= 32);
}

import type { MeshLink, Topology } from "./model.js";
import type { TopologyFile } from "./schema.js";
import type { TopologyIssue } from "./topology-error.js";
import { reservedDatabases } from "./validate-mariadb.js";

type Path = (string | number)[];

/**
 * Links from a MariaDB database: connect_odbc reaches a PostgreSQL database through CONNECT and
 * the psqlODBC driver, federatedx another MariaDB database. Each exposes tables with `import:`
 * into a MariaDB database of its own, reads as one remote role (such a table has one
 * connection, whoever queries it), and the remote role must be able to log in from the local
 * node's address.
 */
export function checkConnect(t: Topology, f: TopologyFile): TopologyIssue[] {
  const issues: TopologyIssue[] = [];
  const issue = (path: Path, message: string, expected?: string, hint?: string) =>
    issues.push({ at: t.positionOf(path), message, expected, hint });
  const sources = new Map<string, number>();
  const intos = new Map<string, number>();
  f.links.forEach((raw, i) => {
    const l = t.links[i]!;
    if (l.via !== "connect_odbc" && l.via !== "federatedx") return;
    const at: Path = ["links", i];
    const from = t.nodes.get(l.from.node);
    const to = t.nodes.get(l.to.node);
    const remoteEngine = l.via === "connect_odbc" ? "postgres" : "mariadb";
    if (from && from.engine !== "mariadb") {
      issue(
        [...at, "from"],
        `${l.via} links are tables in MariaDB; node "${from.name}" is a PostgreSQL node`,
        "a MariaDB node/database",
        l.via === "connect_odbc"
          ? "put the MariaDB database in from: and the PostgreSQL one in to:"
          : "use via: mysql_fdw to reach MariaDB from PostgreSQL",
      );
    }
    if (to && to.engine !== remoteEngine) {
      issue(
        [...at, "to"],
        `${l.via} reaches ${remoteEngine === "postgres" ? "PostgreSQL" : "MariaDB"}; node "${to.name}" is a ${to.engine === "postgres" ? "PostgreSQL" : "MariaDB"} node`,
        `a ${remoteEngine === "postgres" ? "PostgreSQL" : "MariaDB"} node/database`,
        `use via: ${remoteEngine === "postgres" ? "federatedx" : "connect_odbc"}`,
      );
    }
    for (const key of ["views", "copies"] as const) {
      if (!raw[key]) continue;
      issue(
        [...at, key],
        `${key}: is not supported on ${l.via} links`,
        "import: { schema: ..., into: <MariaDB database>, tables: [...] }",
        "expose remote tables with import:",
      );
    }
    if (raw.import?.writable) {
      issue(
        [...at, "import", "writable"],
        `import.writable: is for mysql_fdw links; ${l.via} tables are read-only`,
        "no writable:",
        "remove writable:",
      );
    }
    const imp = l.import;
    if (!imp) {
      issue(
        at,
        `a ${l.via} link without import: exposes nothing`,
        "import: { schema: <remote schema>, into: <local MariaDB database>, tables: [...] }",
        `add import: { schema: ${l.via === "connect_odbc" ? "public" : l.to.database}, into: ${l.to.node} }`,
      );
    } else {
      if (l.via === "federatedx" && imp.schema !== l.to.database) {
        issue(
          [...at, "import", "schema"],
          `import.schema "${imp.schema}" is not the link's MariaDB database "${l.to.database}"`,
          `schema: ${l.to.database}`,
          "on MariaDB a database is the schema: import from the database in to:",
        );
      }
      if (reservedDatabases.has(imp.into.toLowerCase())) {
        issue(
          [...at, "import", "into"],
          `database "${imp.into}" is reserved on MariaDB`,
          "another database name",
        );
      }
      const declared = t.databases.find((d) => d.node === l.from.node && d.name === imp.into);
      if (declared) {
        issue(
          [...at, "import", "into"],
          `database "${imp.into}" is declared in databases.${declared.key}; the link's CONNECT tables need a database of their own`,
          "a database used only by this link (dbmesh creates it)",
          `e.g. into: ${l.to.node}`,
        );
      }
      const key = `${l.from.node}/${imp.into}`;
      const prev = intos.get(key);
      if (prev !== undefined) {
        issue(
          [...at, "import", "into"],
          `database "${imp.into}" already receives links[${prev}]'s tables`,
          "a database per link",
          "choose another into:",
        );
      }
      intos.set(key, i);
    }
    // The ODBC data source and the MariaDB server definition are node-wide, not per database.
    const sourceKey = `${l.from.node}/${l.server}`;
    const prev = sources.get(sourceKey);
    if (prev !== undefined) {
      issue(
        [...at, raw.name ? "name" : "to"],
        `"${l.server}" is already the ${l.via === "connect_odbc" ? "ODBC data source" : "server"} of links[${prev}] on node ${l.from.node}`,
        "a unique name: per MariaDB node",
        "set name: on one of the links",
      );
    } else sources.set(sourceKey, i);
    const remotes = [...new Set(l.as.map((m) => m.remote))];
    if (remotes.length > 1) {
      issue(
        [...at, "as"],
        `${l.via} tables read as one remote role; links[${i}] maps to ${remotes.join(" and ")}`,
        `every local user mapped to the same remote role (${remotes[0]})`,
        "declare a second link (with its own name: and into:) for the other remote role",
      );
    }
    if (l.via === "federatedx") checkRemoteAccount(t, l, issue);
  });
  return issues;
}

/** federatedx logs in to the remote MariaDB as the mapped role: it needs an account from here. */
function checkRemoteAccount(
  t: Topology,
  l: MeshLink,
  issue: (path: Path, message: string, expected?: string, hint?: string) => void,
) {
  const from = t.nodes.get(l.from.node);
  const remote = t.roles.get(l.as[0]?.remote ?? "");
  if (!from || !remote) return;
  const address =
    from.host === "localhost" || from.host.startsWith("127.") ? "127.0.0.1" : from.host;
  if (!remote.from.some((a) => admits(a, address))) {
    issue(
      ["roles", remote.name, "from"],
      `links[${l.index}] logs in to ${l.to.node} as ${remote.name} from ${l.from.node} (${address}), which roles.${remote.name}.from does not admit`,
      `${address} in roles.${remote.name}.from`,
      `add ${address} to roles.${remote.name}.from: MariaDB accounts are per client address`,
    );
  }
}

function admits(cidr: string, ip: string): boolean {
  const [net = "", bits] = cidr.split("/");
  const n = (s: string) => s.split(".").reduce((a, o) => (a << 8) + Number(o), 0) >>> 0;
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(net)) return false;
  const b = bits === undefined ? 32 : Number(bits);
  const mask = b === 0 ? 0 : (0xffffffff << (32 - b)) >>> 0;
  return (n(ip) & mask) >>> 0 === (n(net) & mask) >>> 0;
}

import type { Topology } from "./model.js";
import type { TopologyFile } from "./schema.js";
import type { TopologyIssue } from "./topology-error.js";

type Path = (string | number)[];

/** The PostgreSQL major version Debian's mysql_fdw package (postgresql-15-mysql-fdw) is built for. */
const MYSQL_FDW_PG_MAJOR = 15;

/**
 * A mysql_fdw link reads a MariaDB database from a PostgreSQL database: its `from` node runs
 * the system's PostgreSQL 15 (the embedded PostgreSQL 17 cannot load the Debian extension),
 * its `to` node is a MariaDB node, and it exposes tables with `import:` only.
 */
export function checkMysqlFdw(t: Topology, f: TopologyFile): TopologyIssue[] {
  const issues: TopologyIssue[] = [];
  const issue = (path: Path, message: string, expected?: string, hint?: string) =>
    issues.push({ at: t.positionOf(path), message, expected, hint });
  const pgBin = `/usr/lib/postgresql/${MYSQL_FDW_PG_MAJOR}/bin`;
  f.links.forEach((raw, i) => {
    const l = t.links[i]!;
    const at: Path = ["links", i];
    if (l.via !== "mysql_fdw") {
      if (raw.import?.writable) {
        issue(
          [...at, "import", "writable"],
          `import.writable: is for mysql_fdw links; ${l.via} foreign tables are written by their owner`,
          "via: mysql_fdw",
          "remove writable:",
        );
      }
      return;
    }
    const from = t.nodes.get(l.from.node);
    const to = t.nodes.get(l.to.node);
    if (from && from.engine !== "postgres") {
      issue(
        [...at, "from"],
        `mysql_fdw runs in PostgreSQL; node "${from.name}" is a MariaDB node`,
        "a PostgreSQL node/database",
        "put the PostgreSQL database in from: and the MariaDB one in to:",
      );
    } else if (from && from.binaries === "embedded") {
      // positionOf falls back to the node when binaries: is not written: point at the link then.
      const written = t.positionOf(["nodes", from.name, "binaries"]);
      const node = t.positionOf(["nodes", from.name]);
      const unwritten = written?.line === node?.line && written?.col === node?.col;
      issue(
        unwritten ? [...at, "from"] : ["nodes", from.name, "binaries"],
        `node "${from.name}" runs the embedded PostgreSQL 17, which cannot load mysql_fdw`,
        `a PostgreSQL ${MYSQL_FDW_PG_MAJOR} node with the system's binaries`,
        `set binaries: ${pgBin} (or system) on nodes.${from.name}, and install postgresql-${MYSQL_FDW_PG_MAJOR}-mysql-fdw`,
      );
    }
    if (to && to.engine !== "mariadb") {
      issue(
        [...at, "to"],
        `mysql_fdw reaches MariaDB or MySQL; node "${to.name}" is a PostgreSQL node`,
        "a MariaDB node/database",
        "use via: postgres_fdw between PostgreSQL databases",
      );
    }
    for (const key of ["views", "copies"] as const) {
      if (!raw[key]) continue;
      issue(
        [...at, key],
        `${key}: is not supported on mysql_fdw links`,
        "import: { schema: <MariaDB database>, into: <local schema>, tables: [...] }",
        "expose MariaDB tables with import:",
      );
    }
    if (!raw.import) {
      issue(
        at,
        "a mysql_fdw link without import: exposes nothing",
        "import: { schema: <MariaDB database>, into: <local schema> }",
        `add import: { schema: ${l.to.database}, into: ${l.to.node} }`,
      );
    } else if (raw.import.schema !== l.to.database) {
      // mysql_fdw's IMPORT FOREIGN SCHEMA names a MariaDB database; the link logs in to l.to.
      issue(
        [...at, "import", "schema"],
        `import.schema "${raw.import.schema}" is not the link's MariaDB database "${l.to.database}"`,
        `schema: ${l.to.database}`,
        "on MariaDB a database is the schema: import from the database in to:",
      );
    }
  });
  return issues;
}

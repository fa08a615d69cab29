import { localPrivileges } from "../links/mysql-fdw.js";
import { accountHost, accountKey, type DbPrivilege, grantPrivileges } from "../mariadb/index.js";
import {
  type Connections,
  grantSelect,
  ident,
  literal,
  qualified,
  setRole,
} from "../pgadmin/index.js";
import { clientAddress } from "../provision/index.js";
import type { MeshLink, Topology } from "../topology/index.js";
import { type CheckResult, fail, failWith, pass, rolledBack, timed } from "./check.js";
import { linkName } from "./mesh-checks.js";

/**
 * A mysql_fdw link, as each mapped role: a query through the link (a foreign table over the
 * MariaDB user's own rows of information_schema.SCHEMA_PRIVILEGES, made and rolled back in one
 * transaction) that logs in as the mapped MariaDB user and lists its privileges on the linked
 * database. A missing privilege fails naming the GRANT that gives it.
 * https://mariadb.com/kb/en/information-schema-schema_privileges-table/
 */
export async function checkMysqlFdwLink(
  conns: Connections,
  t: Topology,
  link: MeshLink,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const host = accountHost(clientAddress(t.nodes.get(link.from.node)?.host ?? "127.0.0.1"));
  const owner = t.databases.find(
    (d) => d.node === link.to.node && d.name === link.to.database,
  )?.owner;
  const probe = qualified("public", "dbmesh_probe");
  for (const m of link.as) {
    const subject = `${linkName(link)} as ${m.local}`;
    const need = (m.remote === owner ? ["SELECT"] : localPrivileges(link)) as DbPrivilege[];
    try {
      const s = await conns.session(link.from.node, link.from.database);
      const [rows, ms] = await rolledBack(s, async () => {
        await s.query(
          `CREATE FOREIGN TABLE ${probe} (privilege_type text, table_schema text) SERVER ${ident(link.server)} OPTIONS (dbname ${literal("information_schema")}, table_name ${literal("SCHEMA_PRIVILEGES")})`,
        );
        await s.query(grantSelect("public", "dbmesh_probe", m.local));
        await s.query(setRole(m.local));
        return timed(() =>
          s.query<{ p: string }>(
            `SELECT privilege_type AS p FROM ${probe} WHERE table_schema = ${literal(link.to.database)}`,
          ),
        );
      });
      const held = new Set(rows.map((r) => r.p.toUpperCase()));
      const missing = need.filter((p) => !held.has(p));
      const who = accountKey(m.remote, host);
      results.push(
        missing.length
          ? fail(
              "link",
              subject,
              `${who} logs in but lacks ${missing.join(", ")} on ${link.to.database}`,
              `the foreign tables of ${link.import?.into ?? "the link"} fail with "command denied"`,
              `run \`dbmesh apply\`, which runs ${grantPrivileges(link.to.database, missing, m.remote, host)} on ${link.to.node}`,
            )
          : pass(
              "link",
              subject,
              `round trip through ${link.server}: ${who} holds ${need.join(", ")} on ${link.to.database}`,
              ms,
            ),
      );
    } catch (e) {
      results.push(
        failWith(
          "link",
          subject,
          `query through ${link.server} failed`,
          e,
          "run `dbmesh apply`; check that the MariaDB node is up and the role's password reference",
        ),
      );
    }
  }
  return results;
}

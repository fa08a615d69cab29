import { connectMariadb, ident, isMariadbError, qualified } from "../mariadb/index.js";
import { type MeshLink, secretValue, type Topology } from "../topology/index.js";
import { type CheckResult, fail, pass, timed } from "./check.js";

/**
 * A CONNECT link (connect_odbc, federatedx) works when its first local user, logged in to
 * the MariaDB node from here, reads a row of each exposed table: that goes through the plugin,
 * the ODBC data source or server definition, the remote login and the remote grants.
 */
export async function checkConnectLink(t: Topology, l: MeshLink): Promise<CheckResult[]> {
  const subject = `links[${l.index}] ${l.from.node}/${l.from.database} → ${l.to.node}/${l.to.database}`;
  const into = l.import?.into;
  const user = t.roles.get(l.as[0]?.local ?? "");
  const from = t.nodes.get(l.from.node)!;
  if (!into || !user) return [];
  const tables = l.import?.tables ?? [];
  const remoteRole = l.as[0]!.remote;
  let s: Awaited<ReturnType<typeof connectMariadb>>;
  try {
    s = await connectMariadb({
      node: from.name,
      host: from.host,
      port: from.port,
      user: user.name,
      password: secretValue(t, user.password),
    });
  } catch (e) {
    const err = e as { message?: string; hint?: string };
    return [
      fail(
        "link",
        subject,
        `${user.name} cannot log in to ${from.name}`,
        err.message ?? String(e),
        err.hint ?? "",
      ),
    ];
  }
  const results: CheckResult[] = [];
  try {
    const names = tables.length
      ? tables
      : (
          await s.query<{ name: string }>(
            "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY 1",
            [into],
          )
        ).map((r) => r.name);
    for (const table of names) {
      const what = `${subject}: ${into}.${table}`;
      try {
        const [rows, ms] = await timed(() =>
          s.query(`SELECT * FROM ${qualified(into, table)} LIMIT 1`),
        );
        results.push(
          pass("link", what, `${user.name} read ${rows.length} row through ${l.via}`, ms),
        );
      } catch (e) {
        results.push(explain(l, what, user.name, remoteRole, table, e));
      }
    }
  } finally {
    await s.end();
  }
  return results;
}

/**
 * CONNECT reports a remote failure as MariaDB error 1296 with the driver's message as text (no
 * SQLSTATE of the remote server survives), so the remote cause is read from that text.
 */
function explain(
  l: MeshLink,
  what: string,
  user: string,
  remoteRole: string,
  table: string,
  e: unknown,
): CheckResult {
  const message = (e as Error).message;
  const schema = l.import!.schema;
  const remote = `${l.to.node}/${l.to.database}`;
  const apply = "`dbmesh apply` restores what the file declares";
  if (isMariadbError(e) && e.kind === "access-denied") {
    return fail(
      "link",
      what,
      `${user} may not read it`,
      message,
      `GRANT SELECT ON ${ident(l.import!.into)}.${ident(table)} TO ${user}; ${apply}`,
    );
  }
  if (/permission denied for (table|relation|schema)/i.test(message)) {
    const grant = /schema/i.test(message)
      ? `GRANT USAGE ON SCHEMA ${schema} TO ${remoteRole}`
      : `GRANT SELECT ON ${schema}.${table} TO ${remoteRole}`;
    return fail(
      "link",
      what,
      `${remoteRole} may not read ${schema}.${table} on ${remote}`,
      message,
      `${grant} on ${remote}; ${apply}`,
    );
  }
  if (/command denied|SELECT command/i.test(message)) {
    return fail(
      "link",
      what,
      `${remoteRole} may not read ${l.to.database}.${table} on ${l.to.node}`,
      message,
      `GRANT SELECT ON ${l.to.database}.${table} TO ${remoteRole} on ${l.to.node}; ${apply}`,
    );
  }
  if (/Data source name not found|Can't open lib|password authentication failed/i.test(message)) {
    return fail(
      "link",
      what,
      `the ODBC data source ${l.server} does not reach ${remote}`,
      message,
      `check ${l.server} in the odbc.ini of ${l.from.node} and the password file it reads; ${apply}`,
    );
  }
  return fail("link", what, "the read through the link failed", message, apply);
}

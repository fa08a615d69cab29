import { mysqlFdwMissingHint } from "../links/mysql-fdw.js";
import {
  type Connections,
  connectAs,
  createForeignTable,
  dblinkSource,
  grantSelect,
  hbaToken,
  qualified,
  setRole,
} from "../pgadmin/index.js";
import { clientAddress, maintenanceDb } from "../provision/index.js";
import {
  type MeshLink,
  type MeshNode,
  type MeshRole,
  secretValue,
  type Topology,
} from "../topology/index.js";
import { type CheckResult, fail, failWith, pass, rolledBack, timed } from "./check.js";
import { firstMatch, type HbaRule } from "./hba-match.js";

/** The server's own listen_addresses and port agree with the file. */
export async function checkListening(conns: Connections, node: MeshNode): Promise<CheckResult> {
  try {
    const s = await conns.session(node.name, maintenanceDb);
    const [row] = await s.query<{ la: string; port: string }>(
      "SELECT current_setting('listen_addresses') AS la, current_setting('port') AS port",
    );
    const addrs = (row?.la ?? "").split(",").map((a) => a.trim());
    const ok =
      Number(row?.port) === node.port &&
      (addrs.includes("*") ||
        addrs.includes(node.host) ||
        (node.host === "localhost" && addrs.includes("127.0.0.1")));
    return ok
      ? pass("listening", node.name, `listen_addresses '${row?.la}', port ${row?.port}`)
      : fail(
          "listening",
          node.name,
          `listen_addresses '${row?.la}', port ${row?.port}`,
          `the server does not listen on ${node.host}:${node.port} as declared`,
          node.managed
            ? "run `dbmesh apply` (or `up`) to rewrite its configuration, then restart it"
            : `set listen_addresses to include ${node.host} and port = ${node.port}, then restart`,
        );
  } catch (e) {
    return failWith("listening", node.name, "cannot log in as the admin role", e, "");
  }
}

/** Databases a role logs in to on a node: those it owns, then those links reach it on. */
export function loginDatabases(t: Topology, role: string, node: string): string[] {
  const owned = t.databases.filter((d) => d.node === node && d.owner === role).map((d) => d.name);
  const linked = t.links.flatMap((l) => [
    ...(l.to.node === node && l.as.some((m) => m.remote === role) ? [l.to.database] : []),
    ...(l.from.node === node && l.as.some((m) => m.local === role) ? [l.from.database] : []),
  ]);
  return [...new Set([...owned, ...linked])];
}

export async function checkLogin(
  t: Topology,
  role: MeshRole,
  node: MeshNode,
): Promise<CheckResult> {
  const subject = `${role.name}@${node.name}`;
  const [database] = loginDatabases(t, role.name, node.name);
  if (!database) return pass("login", subject, "no declared database to log in to; skipped");
  try {
    const [client, ms] = await timed(() =>
      connectAs({
        node: node.name,
        host: node.host,
        port: node.port,
        database,
        user: role.name,
        password: secretValue(t, role.password),
      }),
    );
    await client.end();
    return pass("login", subject, `logged in to ${database}`, ms);
  } catch (e) {
    return failWith("login", subject, `login to ${database} failed`, e, "run `dbmesh apply`");
  }
}

/** The remote node's pg_hba.conf admits each mapped role from the local node's address. */
export async function checkHbaCoverage(
  conns: Connections,
  t: Topology,
  link: MeshLink,
): Promise<CheckResult[]> {
  const from = t.nodes.get(link.from.node)!;
  const address = clientAddress(from.host);
  let rules: HbaRule[];
  try {
    const s = await conns.session(link.to.node, maintenanceDb);
    rules = await s.query<HbaRule & Record<string, unknown>>(
      "SELECT line_number, type, database, user_name, address, netmask, auth_method, error FROM pg_hba_file_rules ORDER BY rule_number",
    );
  } catch (e) {
    return [failWith("hba", linkName(link), "cannot read pg_hba_file_rules", e, "")];
  }
  return link.as.map((m) => {
    const subject = `${link.to.node}: ${m.remote} from ${address} to ${link.to.database}`;
    const line = `host ${hbaToken(link.to.database)} ${hbaToken(m.remote)} ${address}/32 scram-sha-256`;
    const rule = firstMatch(rules, {
      database: link.to.database,
      user: m.remote,
      address,
      ssl: false,
    });
    const fix = to(t, link).managed
      ? "run `dbmesh apply` to rewrite pg_hba.conf"
      : `add "${line}" to pg_hba.conf on ${link.to.node} and reload`;
    if (!rule)
      return fail(
        "hba",
        subject,
        "no pg_hba.conf line admits this connection",
        "the link's connections will be rejected",
        fix,
      );
    if (rule.auth_method === "scram-sha-256")
      return pass("hba", subject, `pg_hba.conf line ${rule.line_number}: ${rule.auth_method}`);
    return fail(
      "hba",
      subject,
      `pg_hba.conf line ${rule.line_number} matches with method ${rule.auth_method}`,
      rule.auth_method === "reject"
        ? "the line rejects the link"
        : `${rule.auth_method} is not SCRAM-SHA-256`,
      `put "${line}" above line ${rule.line_number}`,
    );
  });
}

export async function checkExtension(conns: Connections, link: MeshLink): Promise<CheckResult> {
  const ext = link.via;
  const subject = `${link.from.node}/${link.from.database}: ${ext}`;
  try {
    const s = await conns.session(link.from.node, link.from.database);
    const [row] = await s.query<{ installed: boolean; available: boolean }>(
      "SELECT EXISTS (SELECT FROM pg_extension WHERE extname = $1) AS installed, EXISTS (SELECT FROM pg_available_extensions WHERE name = $1) AS available",
      [ext],
    );
    if (row?.installed) return pass("extension", subject, "installed");
    if (row?.available)
      return fail(
        "extension",
        subject,
        "available but not installed",
        `CREATE EXTENSION ${ext} has not run in ${link.from.database}`,
        "run `dbmesh apply`",
      );
    return fail(
      "extension",
      subject,
      "not available",
      `the server on ${link.from.node} has no ${ext} extension files`,
      ext === "mysql_fdw"
        ? mysqlFdwMissingHint("15")
        : "use binaries: embedded, or install the server's contrib package",
    );
  } catch (e) {
    return failWith("extension", subject, "cannot check", e, "");
  }
}

/**
 * A real query through the link as each mapped role: dblink('server', 'SELECT 1'), or for
 * postgres_fdw a foreign table over the remote pg_database made and rolled back in one
 * transaction. Measures the round trip.
 */
export async function checkLinkRoundTrip(
  conns: Connections,
  link: MeshLink,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const m of link.as) {
    const subject = `${linkName(link)} as ${m.local}`;
    try {
      const s = await conns.session(link.from.node, link.from.database);
      const one = [{ name: "datname", type: "name", notNull: false }];
      const body =
        link.via === "dblink"
          ? [
              setRole(m.local),
              `SELECT count(*) FROM ${dblinkSource(link.server, "pg_catalog", "pg_database", one)}`,
            ]
          : [
              createForeignTable(
                "public",
                "dbmesh_probe",
                one,
                link.server,
                "pg_catalog",
                "pg_database",
              ),
              grantSelect("public", "dbmesh_probe", m.local),
              setRole(m.local),
              `SELECT count(*) FROM ${qualified("public", "dbmesh_probe")}`,
            ];
      const [, ms] = await rolledBack(s, async () => {
        for (const sql of body.slice(0, -1)) await s.query(sql);
        return timed(() => s.query(body.at(-1)!));
      });
      results.push(pass("link", subject, `round trip through ${link.server}`, ms));
    } catch (e) {
      results.push(
        failWith(
          "link",
          subject,
          `query through ${link.server} failed`,
          e,
          "run `dbmesh doctor` checks above for hba, login and extension",
        ),
      );
    }
  }
  return results;
}

export function linkName(l: MeshLink): string {
  return `links[${l.index}] ${l.from.node}/${l.from.database} → ${l.to.node}/${l.to.database} (${l.via})`;
}

function to(t: Topology, l: MeshLink): MeshNode {
  return t.nodes.get(l.to.node)!;
}

/** Settings changed in the configuration files that only a restart applies. */
export async function checkPendingRestart(
  conns: Connections,
  node: MeshNode,
): Promise<CheckResult> {
  try {
    const s = await conns.session(node.name, maintenanceDb);
    const rows = await s.query<{ name: string }>(
      "SELECT name FROM pg_settings WHERE pending_restart ORDER BY name",
    );
    if (!rows.length) return pass("settings", node.name, "no setting waits for a restart");
    const names = rows.map((r) => r.name).join(", ");
    return fail(
      "settings",
      node.name,
      `changed but not in effect: ${names}`,
      "these settings apply only when the server restarts",
      node.managed
        ? `dbmesh down --node ${node.name} && dbmesh up --node ${node.name}`
        : `restart the server of ${node.name}`,
    );
  } catch (e) {
    return failWith("settings", node.name, "cannot read pg_settings", e, "");
  }
}

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ServerSpec } from "../mariadb/index.js";
import { passfileEntry } from "../pgadmin/index.js";
import { type MeshLink, secretValue, type Topology } from "../topology/index.js";

// The ODBC side of connect_odbc links: one data source per link in the MariaDB node's odbc.ini
// (no password in it), and the password in a libpq password file, which the PostgreSQL ODBC
// driver reads through libpq when the data source names no password.
// https://odbc.postgresql.org/docs/config.html and
// https://www.postgresql.org/docs/17/libpq-pgpass.html

/** The driver name Debian's odbc-postgresql registers in /etc/odbcinst.ini. */
export const ODBC_DRIVER = "PostgreSQL Unicode";
export const ODBC_PACKAGES = "odbc-postgresql and unixodbc";

/**
 * Where a connect_odbc or federatedx link logs in, as its MariaDB node reaches the remote one:
 * the ODBC data source of a connect_odbc link, the server definition of a federatedx link.
 */
export function remoteLogin(t: Topology, link: MeshLink): ServerSpec {
  const to = t.nodes.get(link.to.node)!;
  const role = t.roles.get(link.as[0]!.remote)!;
  return {
    name: link.server,
    host: to.host === "localhost" ? "127.0.0.1" : to.host,
    port: to.port,
    database: link.to.database,
    user: role.name,
    password: secretValue(t, role.password),
  };
}

/** An odbc.ini value: one line, no characters the ini reader or the driver's parser would split on. */
function iniValue(v: string, what: string): string {
  if (/[\n\r;{}[\]]/.test(v) || v !== v.trim())
    throw new Error(`${what} ${JSON.stringify(v)} cannot be written in odbc.ini`);
  return v;
}

/**
 * One odbc.ini section. Unicode driver (text as UTF-8 both ways); TimeZone UTC so timestamptz
 * columns read the same whatever the server's setting; Password stays empty so libpq reads the
 * password file. https://odbc.postgresql.org/docs/config-opt.html
 */
export function odbcIniSection(ds: ServerSpec): string {
  return [
    `[${iniValue(ds.name, "data source name")}]`,
    `Description = dbmesh: PostgreSQL ${iniValue(ds.database, "database")} for CONNECT tables`,
    `Driver = ${ODBC_DRIVER}`,
    `Servername = ${iniValue(ds.host, "host")}`,
    `Port = ${ds.port}`,
    `Database = ${ds.database}`,
    `Username = ${iniValue(ds.user, "user")}`,
    "SSLmode = prefer",
    "ConnSettings = SET TimeZone TO 'UTC'",
    "",
  ].join("\n");
}

/** The node's odbc.ini and password file for all its connect_odbc links, sorted by name. */
export function odbcFiles(t: Topology, node: string): { odbcIni: string; pgpass: string } {
  const sources = t.links
    .filter((l) => l.via === "connect_odbc" && l.from.node === node)
    .map((l) => remoteLogin(t, l))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  return {
    odbcIni: `; written by dbmesh from ${t.file.replace(/^.*\//, "")}: its connect_odbc links\n${sources.map(odbcIniSection).join("\n")}`,
    pgpass: sources
      .map((s) => passfileEntry(s.host, s.port, s.database, s.user, s.password))
      .join(""),
  };
}

/** A password file line as the plan shows it. */
export function maskedPassfile(pgpass: string): string {
  return pgpass.replace(/:((?:[^:\\\n]|\\.)*)$/gm, ":********");
}

/**
 * Whether this machine has the PostgreSQL ODBC driver registered: its section in odbcinst.ini
 * (ODBCSYSINI, else /etc) and the library it names.
 */
export function odbcDriverInstalled(): boolean {
  const file = join(process.env.ODBCSYSINI ?? "/etc", "odbcinst.ini");
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return false;
  }
  const section = text.split(/^\[/m).find((s) => s.startsWith(`${ODBC_DRIVER}]`));
  const driver = section && /^\s*Driver\s*=\s*(.+?)\s*$/m.exec(section)?.[1];
  if (!driver) return false;
  if (driver.startsWith("/")) return existsSync(driver);
  return ["/usr/lib/x86_64-linux-gnu/odbc", "/usr/lib/aarch64-linux-gnu/odbc", "/usr/lib/odbc"]
    .map((d) => join(d, driver))
    .some(existsSync);
}

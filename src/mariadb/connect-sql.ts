import { account, ident, literal, qualified } from "./quote.js";

// Statements for links from MariaDB to other servers (the CONNECT and FederatedX storage
// engines), built only from the quoting functions in quote.ts.
// https://mariadb.com/kb/en/connect/ and https://mariadb.com/kb/en/federatedx-storage-engine/

/** The plugin's library (Debian package mariadb-plugin-connect) and its engine name. */
export const CONNECT_SONAME = "ha_connect";
export const CONNECT_PACKAGE = "mariadb-plugin-connect";

/** FederatedX ships with the server (Debian mariadb-server) but is not loaded by default. */
export const FEDERATEDX_SONAME = "ha_federatedx";

/** https://mariadb.com/kb/en/install-soname/ */
export function installSoname(soname: string): string {
  return `INSTALL SONAME ${literal(soname)}`;
}

/** One column of a CONNECT table: its MariaDB type, and the remote type in its comment. */
export interface ConnectColumn {
  readonly name: string;
  /** A MariaDB column type dbmesh chose from a fixed list (`decimal(10,2)`, `varchar(2000)`). */
  readonly type: string;
  readonly notNull: boolean;
  /** What the column is on the remote server (`numeric(10,2)`); drift is read from it. */
  readonly remoteType: string;
}

/** Where a CONNECT table reads from. */
export type ConnectSource =
  /** An ODBC data source and a table in it (`schema.table`, sent unquoted by CONNECT). */
  | { readonly kind: "odbc"; readonly dsn: string; readonly table: string }
  /** A server of CREATE SERVER and a table in its database, read by FederatedX. */
  | { readonly kind: "federatedx"; readonly server: string; readonly table: string };

/**
 * A table over a remote table: CONNECT ODBC
 * (https://mariadb.com/kb/en/connect-odbc-table-type-accessing-tables-from-another-dbms/), or
 * FederatedX through a server definition, so no password is part of the table's definition.
 * (CONNECT's MYSQL type would demand the global FILE privilege of every reader.)
 */
export function createConnectTable(
  database: string,
  table: string,
  columns: readonly ConnectColumn[],
  source: ConnectSource,
  comment: string,
): string {
  const cols = columns
    .map(
      (c) =>
        `  ${ident(c.name)} ${c.type}${c.notNull ? " NOT NULL" : ""} COMMENT ${literal(c.remoteType)}`,
    )
    .join(",\n");
  const options =
    source.kind === "odbc"
      ? // Memory=2 keeps the fetched rows, so MariaDB can read them again by position: a
        // filesort (ORDER BY on the table) fails without it, ODBC cursors being forward-only.
        `TABLE_TYPE=ODBC TABNAME=${literal(source.table)} CONNECTION=${literal(`DSN=${source.dsn}`)} OPTION_LIST=${literal("Memory=2")}`
      : `CONNECTION=${literal(`${source.server}/${source.table}`)}`;
  const engine = source.kind === "odbc" ? "CONNECT" : "FEDERATED";
  return `CREATE TABLE ${qualified(database, table)} (\n${cols}\n) ENGINE=${engine} ${options} CHARSET=utf8mb4 COMMENT=${literal(comment)}`;
}

export function dropConnectTable(database: string, table: string): string {
  return `DROP TABLE IF EXISTS ${qualified(database, table)}`;
}

export function grantSelectOnTable(
  database: string,
  table: string,
  user: string,
  host: string,
): string {
  return `GRANT SELECT ON ${qualified(database, table)} TO ${account(user, host)}`;
}

/**
 * Where a link from MariaDB logs in: the server definition FederatedX tables name instead of a
 * URL with a password, or a connect_odbc link's ODBC data source.
 */
export interface ServerSpec {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password: string;
}

/**
 * https://mariadb.com/kb/en/create-server/ — the password lives in mysql.servers, which only
 * administrators can read; CREATE OR REPLACE keeps one statement for create and change.
 */
export function createServer(s: ServerSpec): string {
  return `CREATE OR REPLACE SERVER ${ident(s.name)} FOREIGN DATA WRAPPER mysql OPTIONS (HOST ${literal(s.host)}, PORT ${s.port}, DATABASE ${literal(s.database)}, USER ${literal(s.user)}, PASSWORD ${literal(s.password)})`;
}

import type { MariadbSession } from "./connections.js";
import { accountKey } from "./introspect.js";

/** A storage engine plugin on a node: active, installable (its library is there), or missing. */
export type ConnectPlugin = "active" | "installable" | "missing";

export interface ObservedConnectTable {
  readonly database: string;
  readonly name: string;
  readonly engine: string;
  readonly comment: string;
  /** Columns in order; a CONNECT table's comments hold the remote type dbmesh wrote there. */
  readonly columns: readonly {
    readonly name: string;
    /** COLUMN_TYPE: `int(11)`, `decimal(10,2)`, `varchar(100)`. */
    readonly type: string;
    readonly notNull: boolean;
    readonly comment: string;
  }[];
}

export interface ObservedServer {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password: string;
}

export interface ObservedConnect {
  readonly connect: ConnectPlugin;
  readonly federatedx: ConnectPlugin;
  /** Tables of the databases asked for, by "database.table". */
  readonly tables: ReadonlyMap<string, ObservedConnectTable>;
  /** Table-level grants: "database.table" → accounts ('user'@'host') holding SELECT. */
  readonly selectGrants: ReadonlyMap<string, ReadonlySet<string>>;
  /** CREATE SERVER definitions by name. */
  readonly servers: ReadonlyMap<string, ObservedServer>;
}

/** Reads what CONNECT links manage on a node: the plugin, tables in `databases`, grants, servers. */
export async function observeConnect(
  s: MariadbSession,
  databases: readonly string[],
): Promise<ObservedConnect> {
  // FederatedX registers as FEDERATED; the old ha_federated library lists the same name.
  const plugins = await s.query<{ name: string; library: string | null; status: string }>(
    "SELECT PLUGIN_NAME AS name, PLUGIN_LIBRARY AS library, PLUGIN_STATUS AS status FROM information_schema.ALL_PLUGINS WHERE PLUGIN_NAME IN ('CONNECT', 'FEDERATED')",
  );
  const state = (rows: typeof plugins): ConnectPlugin =>
    rows.some((r) => r.status === "ACTIVE") ? "active" : rows.length ? "installable" : "missing";
  const connect = state(plugins.filter((p) => p.name === "CONNECT"));
  const federatedx = state(
    plugins.filter((p) => p.name === "FEDERATED" && (p.library ?? "").startsWith("ha_federatedx")),
  );
  const tables = new Map<string, ObservedConnectTable>();
  if (databases.length) {
    const marks = databases.map(() => "?").join(", ");
    // information_schema.TABLES reads the .frm only; it does not open CONNECT's remote source.
    const rows = await s.query<{
      db: string;
      name: string;
      engine: string | null;
      comment: string;
    }>(
      `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS name, ENGINE AS engine, TABLE_COMMENT AS comment FROM information_schema.TABLES WHERE TABLE_SCHEMA IN (${marks})`,
      [...databases],
    );
    const cols = await s.query<{
      db: string;
      tbl: string;
      name: string;
      type: string;
      nullable: string;
      comment: string;
    }>(
      `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS tbl, COLUMN_NAME AS name, COLUMN_TYPE AS type, IS_NULLABLE AS nullable, COLUMN_COMMENT AS comment FROM information_schema.COLUMNS WHERE TABLE_SCHEMA IN (${marks}) ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`,
      [...databases],
    );
    for (const r of rows) {
      tables.set(`${r.db}.${r.name}`, {
        database: r.db,
        name: r.name,
        engine: r.engine ?? "",
        comment: r.comment,
        columns: cols
          .filter((c) => c.db === r.db && c.tbl === r.name)
          .map((c) => ({
            name: c.name,
            type: c.type,
            notNull: c.nullable === "NO",
            comment: c.comment,
          })),
      });
    }
  }
  const selectGrants = new Map<string, Set<string>>();
  for (const g of await s.query<{ db: string; tbl: string; user: string; host: string }>(
    "SELECT Db AS db, Table_name AS tbl, User AS user, Host AS host FROM mysql.tables_priv WHERE FIND_IN_SET('Select', Table_priv) > 0",
  )) {
    const key = `${g.db}.${g.tbl}`;
    const set = selectGrants.get(key) ?? new Set<string>();
    set.add(accountKey(g.user, g.host));
    selectGrants.set(key, set);
  }
  const servers = new Map<string, ObservedServer>();
  for (const r of await s.query<{
    name: string;
    host: string;
    port: number | string;
    db: string;
    user: string;
    password: string;
  }>(
    "SELECT Server_name AS name, Host AS host, Port AS port, Db AS db, Username AS user, Password AS password FROM mysql.servers WHERE Wrapper = 'mysql'",
  )) {
    servers.set(r.name, {
      host: r.host,
      port: Number(r.port),
      database: r.db,
      user: r.user,
      password: r.password,
    });
  }
  return { connect, federatedx, tables, selectGrants, servers };
}

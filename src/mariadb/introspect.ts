import { BOOKKEEPING_DATABASE } from "./admin-sql.js";
import type { MariadbSession } from "./connections.js";
import { grantDatabasePattern } from "./quote.js";

export interface ObservedAccount {
  readonly user: string;
  readonly host: string;
  readonly plugin: string;
  /** authentication_string: "*HEX" for mysql_native_password. */
  readonly hash: string;
  /** 0: no limit. */
  readonly maxUserConnections: number;
}

export interface ObservedMariadbDatabase {
  readonly name: string;
  readonly charset: string;
  readonly collation: string;
}

/** One row of mysql.db: an account's privileges on the databases a pattern matches. */
export interface ObservedDbGrant {
  readonly user: string;
  readonly host: string;
  /** As GRANT stored it: `_` and `%` are wildcards unless escaped. */
  readonly pattern: string;
  /** Every database-level privilege (what GRANT ALL gives), apart from GRANT OPTION. */
  readonly all: boolean;
  /** The privileges it has, e.g. ["Select", "Insert"]. */
  readonly privileges: readonly string[];
}

export interface ObservedMariadb {
  readonly version: string;
  /** By `accountKey(user, host)`. */
  readonly accounts: ReadonlyMap<string, ObservedAccount>;
  readonly databases: ReadonlyMap<string, ObservedMariadbDatabase>;
  readonly dbGrants: readonly ObservedDbGrant[];
  /** Whether dbmesh's bookkeeping tables exist. */
  readonly bookkeeping: boolean;
  /** Accounts and databases dbmesh created (`accountKey` for accounts, the name for databases). */
  readonly createdAccounts: ReadonlySet<string>;
  readonly createdDatabases: ReadonlySet<string>;
  /** Seed files already run, by database. */
  readonly seeds: ReadonlyMap<string, readonly string[]>;
}

export function accountKey(user: string, host: string): string {
  return `'${user}'@'${host}'`;
}

/** The full grant of `user@host` on exactly `database`, if mysql.db has one. */
export function grantOn(
  o: ObservedMariadb,
  database: string,
  user: string,
  host: string,
): ObservedDbGrant | undefined {
  const pattern = grantDatabasePattern(database);
  return o.dbGrants.find(
    (g) => g.user === user && g.host === host && (g.pattern === pattern || g.pattern === database),
  );
}

/** Reads what apply manages on a node: accounts, databases, database grants, bookkeeping. */
export async function observeMariadb(s: MariadbSession): Promise<ObservedMariadb> {
  const [v] = await s.query<{ version: string }>("SELECT VERSION() AS version");
  const accounts = await s.query<{
    user: string;
    host: string;
    plugin: string | null;
    hash: string | null;
    maxc: number | string | null;
  }>(
    "SELECT User AS user, Host AS host, plugin, authentication_string AS hash, max_user_connections AS maxc FROM mysql.user",
  );
  const databases = await s.query<{ name: string; charset: string; collation: string }>(
    "SELECT SCHEMA_NAME AS name, DEFAULT_CHARACTER_SET_NAME AS charset, DEFAULT_COLLATION_NAME AS collation FROM information_schema.SCHEMATA",
  );
  const grants = await s.query<Record<string, string>>("SELECT * FROM mysql.db");
  const tables = await s.query<{ name: string }>(
    "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?",
    [BOOKKEEPING_DATABASE],
  );
  const bookkeeping = ["created", "seeds"].every((n) => tables.some((t) => t.name === n));
  const createdAccounts = new Set<string>();
  const createdDatabases = new Set<string>();
  const seeds = new Map<string, string[]>();
  if (bookkeeping) {
    for (const r of await s.query<{ kind: string; name: string; host: string }>(
      "SELECT kind, name, host FROM dbmesh.created",
    )) {
      if (r.kind === "account") createdAccounts.add(accountKey(r.name, r.host));
      if (r.kind === "database") createdDatabases.add(r.name);
    }
    for (const r of await s.query<{ db: string; file: string }>(
      "SELECT db, file FROM dbmesh.seeds ORDER BY ran_at, file",
    )) {
      seeds.set(r.db, [...(seeds.get(r.db) ?? []), r.file]);
    }
  }
  return {
    version: v?.version ?? "",
    accounts: new Map(
      accounts.map((a) => [
        accountKey(a.user, a.host),
        {
          user: a.user,
          host: a.host,
          plugin: a.plugin ?? "",
          hash: a.hash ?? "",
          maxUserConnections: Number(a.maxc ?? 0),
        },
      ]),
    ),
    databases: new Map(databases.map((d) => [d.name, d])),
    dbGrants: grants.map((g) => {
      const privs = Object.keys(g).filter((k) => k.endsWith("_priv") && k !== "Grant_priv");
      const held = privs.filter((k) => g[k] === "Y");
      return {
        user: g.User ?? "",
        host: g.Host ?? "",
        pattern: g.Db ?? "",
        all: privs.length > 0 && held.length === privs.length,
        privileges: held.map((k) => k.replace(/_priv$/, "")),
      };
    }),
    bookkeeping,
    createdAccounts,
    createdDatabases,
    seeds,
  };
}

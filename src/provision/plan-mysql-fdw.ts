import { dirname, relative } from "node:path";
import { localPrivileges, type MysqlRemote } from "../links/mysql-fdw.js";
import {
  accountHost,
  accountKey,
  type DbPrivilege,
  grantOn,
  grantPrivileges,
  type MariadbTable,
  type ObservedMariadb,
  readMariadbTables,
  revokePrivileges,
  SYSTEM_DATABASE,
} from "../mariadb/index.js";
import type { Phase, Step } from "../pgadmin/index.js";
import { type MeshLink, type Topology, TopologyError } from "../topology/index.js";
import { clientAddress } from "./hba-rules.js";
import type { MeshAccess } from "./mesh-access.js";
import type { MariadbNodeState } from "./plan-mariadb.js";

// The MariaDB end of mysql_fdw links: what the remote tables look like (for the import on the
// PostgreSQL end), and the accounts and grants the links' users need on the MariaDB node.

/** The account host a link's connections come from: the local node's address, as pg_hba lines. */
function sourceHost(t: Topology, link: MeshLink): string {
  return accountHost(clientAddress(t.nodes.get(link.from.node)?.host ?? "127.0.0.1"));
}

/** mysql_fdw links that reach `node`. */
function linksTo(t: Topology, node: string): MeshLink[] {
  return t.links.filter((l) => l.via === "mysql_fdw" && l.to.node === node);
}

/**
 * Account hosts `role` needs on MariaDB node `node` for links, beyond its `from:` list: the
 * address of each PostgreSQL node whose mysql_fdw link logs in as it.
 */
export function linkAccountHosts(t: Topology, node: string, role: string): string[] {
  return linksTo(t, node)
    .filter((l) => l.as.some((m) => m.remote === role))
    .map((l) => sourceHost(t, l));
}

/**
 * Database grants mysql_fdw links need on a MariaDB node, least privilege: SELECT (and
 * INSERT, UPDATE, DELETE for `import.writable`) on the linked database only, for the account
 * of the linking node's address only. A database's owner holds ALL already. Privileges a link
 * no longer needs are revoked from accounts dbmesh created.
 */
export function planLinkGrants(
  t: Topology,
  nodeName: string,
  o: ObservedMariadb,
  fromPhase: Phase,
): Step[] {
  if (fromPhase > 1) return [];
  const need = new Map<
    string,
    { db: string; user: string; host: string; privs: Set<DbPrivilege>; why: string[] }
  >();
  for (const l of linksTo(t, nodeName)) {
    const owner = t.databases.find((d) => d.node === nodeName && d.name === l.to.database)?.owner;
    for (const m of l.as) {
      if (m.remote === owner) continue;
      const host = sourceHost(t, l);
      const key = `${l.to.database}\0${accountKey(m.remote, host)}`;
      const entry = need.get(key) ?? {
        db: l.to.database,
        user: m.remote,
        host,
        privs: new Set<DbPrivilege>(),
        why: [],
      };
      for (const p of localPrivileges(l)) entry.privs.add(p as DbPrivilege);
      entry.why.push(`links[${l.index}] from ${l.from.node}/${l.from.database}`);
      need.set(key, entry);
    }
  }
  const steps: Step[] = [];
  const step = (summary: string, sql: string) =>
    steps.push({
      node: nodeName,
      database: SYSTEM_DATABASE,
      phase: 1,
      summary,
      sql: [sql],
      transaction: false,
    });
  for (const n of need.values()) {
    const g = grantOn(o, n.db, n.user, n.host);
    const held = new Set((g?.privileges ?? []).map((p) => p.toUpperCase()));
    const missing = [...n.privs].filter((p) => !g?.all && !held.has(p));
    const acct = accountKey(n.user, n.host);
    if (missing.length)
      step(
        `grant ${missing.join(", ")} on database ${n.db} to ${acct}: mysql_fdw ${n.why.join(", ")}`,
        grantPrivileges(n.db, missing, n.user, n.host),
      );
    const extra = (["INSERT", "UPDATE", "DELETE"] as const).filter(
      (p) => held.has(p) && !n.privs.has(p),
    );
    if (extra.length && o.createdAccounts.has(acct))
      step(
        `revoke ${extra.join(", ")} on database ${n.db} from ${acct}: its mysql_fdw links only read`,
        revokePrivileges(n.db, extra, n.user, n.host),
      );
  }
  return steps;
}

/** For each mysql_fdw link with an import: its MariaDB database's tables, read as the admin. */
export async function readMysqlRemotes(
  access: MeshAccess,
  states: ReadonlyMap<string, MariadbNodeState>,
): Promise<Map<number, MysqlRemote>> {
  const t = access.topology;
  const out = new Map<number, MysqlRemote>();
  const reads = new Map<string, Promise<Map<string, MariadbTable> | string>>();
  for (const l of t.links) {
    if (l.via !== "mysql_fdw" || !l.import) continue;
    const ownerAccount = accountKey(l.as[0]?.remote ?? "", sourceHost(t, l));
    const st = states.get(l.to.node);
    const o = st?.observed;
    if (!o || !access.mariadb) {
      out.set(l.index, {
        tables: undefined,
        pending: false,
        error: st?.error?.message ?? `MariaDB node ${l.to.node} cannot be reached from here`,
        ownerAccount,
      });
      continue;
    }
    const db = t.databases.find((d) => d.node === l.to.node && d.name === l.to.database);
    const seeded = o.seeds.get(l.to.database) ?? [];
    // Seeds are recorded by their path relative to the file, as plan-mariadb.ts runs them.
    const pending =
      !o.databases.has(l.to.database) ||
      (db?.seed ?? []).some((f) => !seeded.includes(relative(dirname(t.file), f)));
    if (!o.databases.has(l.to.database)) {
      out.set(l.index, { tables: undefined, pending, error: undefined, ownerAccount });
      continue;
    }
    const key = `${l.to.node}/${l.to.database}`;
    let read = reads.get(key);
    if (!read) {
      const mariadb = access.mariadb;
      read = mariadb
        .session(l.to.node, SYSTEM_DATABASE)
        .then((s) => readMariadbTables(s, l.to.database))
        .catch(async (e: unknown) => {
          if (e instanceof TopologyError) throw e;
          await mariadb.drop(l.to.node, SYSTEM_DATABASE);
          return (e as Error).message;
        });
      reads.set(key, read);
    }
    const r = await read;
    out.set(
      l.index,
      typeof r === "string"
        ? { tables: undefined, pending, error: r, ownerAccount }
        : { tables: r, pending, error: undefined, ownerAccount },
    );
  }
  return out;
}

import { createHash } from "node:crypto";
import {
  accountKey,
  type ConnectColumn,
  type ConnectSource,
  createConnectTable,
  dropConnectTable,
  grantSelectOnTable,
  type ObservedConnect,
} from "../mariadb/index.js";
import type { Problem } from "../pgadmin/index.js";
import type { MeshLink } from "../topology/index.js";
import { columnChanges } from "./link-step.js";

/** A remote table as the link will expose it: its columns mapped, or why it cannot be. */
export interface RemoteTable {
  readonly name: string;
  /** The source table as CONNECT names it. */
  readonly source: ConnectSource;
  readonly columns: readonly ConnectColumn[];
  /** Caveats of lossy mappings, shown in the plan. */
  readonly notes: readonly string[];
}

/** What planning the CONNECT tables of a link produced (steps on the link's MariaDB node). */
export interface ConnectTablePlan {
  readonly steps: { readonly summary: string; readonly sql: string[] }[];
  readonly problems: Problem[];
}

/** The table comment that marks a dbmesh CONNECT table and fingerprints its definition. */
function connectMarker(link: MeshLink, source: string, ddl: string): string {
  const hash = createHash("sha256").update(ddl).digest("hex").slice(0, 16);
  return `dbmesh ${link.via} ${link.to.node}/${link.to.database} ${source} ${hash}`;
}

function isConnectMarker(comment: string): boolean {
  return /^dbmesh (connect_odbc|federatedx) /.test(comment);
}

/**
 * One CONNECT table per wanted remote table in the link's `into` database: created, recreated
 * when its definition changes (the remote columns, the data source), and SELECT granted to each
 * account of the link's local users. Tables gone from the list are dropped with --prune.
 */
export function planConnectTables(
  link: MeshLink,
  wanted: readonly RemoteTable[],
  have: ObservedConnect,
  accounts: readonly { readonly user: string; readonly host: string }[],
  prune: boolean,
): ConnectTablePlan {
  const into = link.import!.into;
  const steps: ConnectTablePlan["steps"] = [];
  const problems: Problem[] = [];
  const where = `${link.from.node}/${into}`;
  const remote = `${link.to.node}/${link.to.database}`;
  const engine = link.via === "connect_odbc" ? "CONNECT" : "FederatedX";
  for (const r of wanted) {
    const body = createConnectTable(into, r.name, r.columns, r.source, "");
    const marker = connectMarker(link, r.source.table, body);
    const create = createConnectTable(into, r.name, r.columns, r.source, marker);
    const local = have.tables.get(`${into}.${r.name}`);
    const held = have.selectGrants.get(`${into}.${r.name}`) ?? new Set<string>();
    const grants = (fresh: boolean) =>
      accounts
        .filter((a) => fresh || !held.has(accountKey(a.user, a.host)))
        .map((a) => grantSelectOnTable(into, r.name, a.user, a.host));
    const notes = r.notes.length ? ` (${r.notes.join("; ")})` : "";
    if (!local) {
      steps.push({
        summary: `create ${engine} table ${into}.${r.name} over ${remote} ${r.source.table}${notes}`,
        sql: [create, ...grants(true)],
      });
    } else if (
      local.engine.toUpperCase() !== (r.source.kind === "odbc" ? "CONNECT" : "FEDERATED") ||
      !isConnectMarker(local.comment)
    ) {
      problems.push({
        node: link.from.node,
        message: `links[${link.index}]: ${where}.${r.name} exists and is not a ${engine} table dbmesh made`,
        hint: "rename or drop it, or choose another import.into database",
      });
    } else if (local.comment !== marker) {
      const before = local.columns.map((c) => ({ name: c.name, type: c.comment }));
      const after = r.columns.map((c) => ({ name: c.name, type: c.remoteType }));
      const changed = columnChanges(before, after);
      const why =
        changed === "column order or NOT NULL" &&
        before.length === after.length &&
        before.every((c, i) => c.name === after[i]!.name && c.type === after[i]!.type)
          ? "its definition changed (data source, server or options)"
          : `remote columns changed (${changed})`;
      steps.push({
        summary: `recreate ${engine} table ${into}.${r.name}: ${why}${notes}`,
        sql: [dropConnectTable(into, r.name), create, ...grants(true)],
      });
    } else {
      const g = grants(false);
      if (g.length) steps.push({ summary: `grant select on ${into}.${r.name}`, sql: g });
    }
  }
  if (prune) {
    const keep = new Set(wanted.map((r) => r.name));
    for (const t of have.tables.values()) {
      if (t.database !== into || keep.has(t.name) || !isConnectMarker(t.comment)) continue;
      steps.push({
        summary: `drop ${engine} table ${into}.${t.name} (--prune)`,
        sql: [dropConnectTable(into, t.name)],
      });
    }
  }
  return { steps, problems };
}

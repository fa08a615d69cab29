import type { Step } from "../pgadmin/index.js";
import {
  dropServer,
  dropTable,
  dropView,
  isManaged,
  isShardingObject,
  type ObservedDatabaseContent,
} from "../pgadmin/index.js";
import { shardServers } from "../sharding/index.js";
import type { MeshDatabase, Topology } from "../topology/index.js";

/**
 * With --prune: foreign servers, views and copies that dbmesh made in this database (they carry
 * its comment) and that no link or sharded table declares any more. DROP SERVER … CASCADE also drops the user
 * mappings and the foreign tables imported through it.
 */
export function planPrune(t: Topology, db: MeshDatabase, have: ObservedDatabaseContent): Step[] {
  const links = t.links.filter((l) => l.from.node === db.node && l.from.database === db.name);
  // A coordinator's shard servers are declared by sharded:, not links:.
  const servers = new Set([
    ...links.map((l) => l.server),
    ...shardServers(t, db.node, db.name).keys(),
  ]);
  const views = new Set(
    links.flatMap((l) => l.views?.tables.map((v) => `${l.views!.into}.${v.table}`) ?? []),
  );
  const copies = new Set(
    links.flatMap((l) => l.copies?.tables.map((c) => `${l.copies!.into}.${c.table}`) ?? []),
  );
  const step = (summary: string, sql: string): Step => ({
    node: db.node,
    database: db.name,
    phase: 3,
    summary: `${summary} (--prune)`,
    sql: [sql],
    transaction: true,
  });
  const steps: Step[] = [];
  for (const s of have.servers.values()) {
    if (isManaged(s.comment) && !servers.has(s.name))
      steps.push(step(`drop server ${s.name}`, dropServer(s.name)));
  }
  for (const r of have.relations.values()) {
    // Sharding's tables hold users' rows; its own --prune handles what it removes.
    if (!isManaged(r.comment) || isShardingObject(r.comment)) continue;
    const name = `${r.schema}.${r.name}`;
    if (r.kind === "v" && !views.has(name))
      steps.push(step(`drop view ${name}`, dropView(r.schema, r.name)));
    if (r.kind === "r" && !copies.has(name))
      steps.push(step(`drop copy ${name}`, dropTable(r.schema, r.name)));
  }
  return steps;
}

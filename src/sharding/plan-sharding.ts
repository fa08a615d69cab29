// What the rest of apply asks of sharding: which databases it concerns, what they need read
// and installed, and which declared tables apply cannot build yet.
import type { Problem } from "../pgadmin/index.js";
import type { Topology } from "../topology/index.js";
import { hasReferences, isBuildableReference, referenceSchemas } from "./plan-reference.js";
import { converts, shape, shapes } from "./shaped.js";

/** Sharded tables apply cannot build yet: one problem each, on the coordinator's node. */
export function unsupportedSharding(t: Topology): Problem[] {
  return t.sharded
    .filter((s) => !shape(t, s) && !isBuildableReference(s))
    .map((s) => {
      const where = `${s.coordinator.node}/${s.coordinator.database}`;
      const [message, hint] = converts(s)
        ? [
            `${s.table.schema}.${s.table.table} would become a following table of its own rows; converting an existing table into a following one is not yet supported`,
            "declare the table under another name with table: naming this one as its template (then copy the rows in), or declare columns:",
          ]
        : s.source.kind === "table"
          ? [
              `table ${s.source.table.schema}.${s.source.table.table} was not found on the coordinator ${where} (or could not be read)`,
              "create it there, or declare the columns with columns:",
            ]
          : [
              `it follows ${s.kind === "follows" ? s.follows : "a table"}, which apply does not build`,
              "fix that table first",
            ];
      return { node: s.coordinator.node, message: `sharded.${s.name}: ${message}`, hint };
    });
}

const key = (node: string, db: string) => `${node}/${db}`;

/** Whether this database is the coordinator of a table apply builds. */
export function isShardingCoordinator(t: Topology, node: string, db: string): boolean {
  return shapes(t).some(({ s }) => s.coordinator.node === node && s.coordinator.database === db);
}

/** Whether apply reads this database's sharding state (observeSharding): coordinators, shards, copies. */
export function observesSharding(t: Topology, node: string, db: string): boolean {
  return (
    isShardingCoordinator(t, node, db) ||
    hasReferences(t, node, db) ||
    shapes(t).some(({ shards }) => shards.some((sh) => sh.node === node && sh.database === db))
  );
}

/** Extensions a database needs for its sharded tables: postgres_fdw on a coordinator with remote shards. */
export function shardingExtensions(t: Topology, node: string, db: string): string[] {
  const remote = shapes(t).some(
    ({ s }) =>
      s.coordinator.node === node &&
      s.coordinator.database === db &&
      s.shards.some((sh) => !sh.local),
  );
  return remote ? ["postgres_fdw"] : [];
}

/** Schemas whose relations apply must read, per "node/db": each table's schema on every end. */
export function shardingSchemas(t: Topology): [string, string][] {
  const out: [string, string][] = referenceSchemas(t);
  for (const { s } of shapes(t)) {
    out.push([key(s.coordinator.node, s.coordinator.database), s.table.schema]);
    for (const sh of s.shards) out.push([key(sh.node, sh.database), s.table.schema]);
  }
  return out;
}

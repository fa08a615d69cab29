import type { Problem, Step } from "../pgadmin/index.js";
import {
  commentOnRelation,
  createForeignTable,
  createTable,
  dblinkSource,
  dropForeignTable,
  dropTable,
  insertSelect,
  isManaged,
  type ObservedDatabaseContent,
  type ObservedRelation,
  qualified,
  truncateTable,
} from "../pgadmin/index.js";
import type { MeshLink } from "../topology/index.js";
import { columnChanges, grantsToMapped, linkStep } from "./link-step.js";
import { lookupRemote, type RemoteCatalog, sameColumns } from "./remote-catalog.js";

/** Name of the foreign table a postgres_fdw copy reads through; it lives only inside the step. */
const copySource = "dbmesh_copy_source";

/**
 * Phase 3 copies: a remote table materialized locally (columns, types, NOT NULL, primary key)
 * and filled through the link itself, in one transaction.
 */
export function planCopies(
  link: MeshLink,
  have: ObservedDatabaseContent,
  remote: RemoteCatalog,
): { steps: Step[]; problems: Problem[] } {
  const steps: Step[] = [];
  const problems: Problem[] = [];
  const copies = link.copies;
  if (!copies) return { steps, problems };
  const into = copies.into;
  for (const t of copies.tables) {
    const name = `${into}.${t.table}`;
    const found = lookupRemote(link, "copies", remote, t.schema, t.table);
    if (found.kind === "problem") {
      problems.push(found.problem);
      continue;
    }
    if (found.kind === "deferred") {
      steps.push(linkStep(link, `copy ${t.schema}.${t.table} into ${name}`, [], true));
      continue;
    }
    const source = found.relation;
    const create = [
      createTable(into, t.table, source.columns, source.primaryKey),
      ...load(link, into, t.table, source),
      commentOnRelation("TABLE", into, t.table),
      ...grantsToMapped(link, into, t.table),
    ];
    const local = have.relations.get(name);
    if (!local) {
      steps.push(
        linkStep(link, `copy ${t.schema}.${t.table} from ${link.to.node} into ${name}`, create),
      );
    } else if (local.kind !== "r" || !isManaged(local.comment)) {
      problems.push({
        node: link.from.node,
        message: `links[${link.index}]: ${name} exists in ${link.from.node}/${link.from.database} and was not made by dbmesh`,
        hint: "rename or drop it, or choose another copies.into schema",
      });
    } else if (
      !sameColumns(local.columns, source.columns) ||
      local.primaryKey.join() !== source.primaryKey.join()
    ) {
      steps.push(
        linkStep(
          link,
          `recopy ${name}: remote table changed (${columnChanges(local.columns, source.columns)})`,
          [dropTable(into, t.table), ...create],
        ),
      );
    } else if (copies.refresh) {
      steps.push(
        linkStep(link, `refresh ${name} from ${link.to.node}`, [
          truncateTable(into, t.table),
          ...load(link, into, t.table, source),
          ...grantsToMapped(link, into, t.table, local.grants),
        ]),
      );
    } else {
      const grants = grantsToMapped(link, into, t.table, local.grants);
      if (grants.length) steps.push(linkStep(link, `grant select on ${name}`, grants));
    }
  }
  return { steps, problems };
}

/** Statements that fill the local copy by reading through the link. */
function load(link: MeshLink, schema: string, table: string, source: ObservedRelation): string[] {
  if (link.via === "dblink") {
    return [
      insertSelect(
        schema,
        table,
        source.columns,
        dblinkSource(link.server, source.schema, source.name, source.columns),
      ),
    ];
  }
  return [
    createForeignTable(schema, copySource, source.columns, link.server, source.schema, source.name),
    insertSelect(schema, table, source.columns, qualified(schema, copySource)),
    dropForeignTable(schema, copySource),
  ];
}

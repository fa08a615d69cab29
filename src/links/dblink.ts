import type { Problem, Step } from "../pgadmin/index.js";
import {
  commentOnRelation,
  createDblinkView,
  dropView,
  isManaged,
  managedMarker,
  type ObservedDatabaseContent,
} from "../pgadmin/index.js";
import type { MeshLink } from "../topology/index.js";
import { columnChanges, grantsToMapped, linkStep } from "./link-step.js";
import { lookupRemote, type RemoteCatalog, sameColumns } from "./remote-catalog.js";

/**
 * Phase 3 of a dblink link: one view per exposed remote table whose column list is read
 * from the remote catalog, so `SELECT * FROM postgre1.bonus` needs no `AS t(…)` list.
 */
export function planDblinkViews(
  link: MeshLink,
  have: ObservedDatabaseContent,
  remote: RemoteCatalog,
): { steps: Step[]; problems: Problem[] } {
  const steps: Step[] = [];
  const problems: Problem[] = [];
  if (!link.views) return { steps, problems };
  const into = link.views.into;
  for (const t of link.views.tables) {
    const name = `${into}.${t.table}`;
    const found = lookupRemote(link, "views", remote, t.schema, t.table);
    if (found.kind === "problem") {
      problems.push(found.problem);
      continue;
    }
    if (found.kind === "deferred") {
      steps.push(
        linkStep(link, `create view ${name} over dblink ${t.schema}.${t.table}`, [], true),
      );
      continue;
    }
    const columns = found.relation.columns;
    // The comment names the server the view calls, so renaming the link's server shows as drift.
    const marker = `${managedMarker}; dblink server ${JSON.stringify(link.server)}`;
    const create = [
      createDblinkView(into, t.table, link.server, t.schema, t.table, columns),
      commentOnRelation("VIEW", into, t.table, marker),
      ...grantsToMapped(link, into, t.table),
    ];
    const local = have.relations.get(name);
    if (!local) {
      steps.push(linkStep(link, `create view ${name} over dblink ${t.schema}.${t.table}`, create));
    } else if (local.kind !== "v" || !isManaged(local.comment)) {
      problems.push({
        node: link.from.node,
        message: `links[${link.index}]: ${name} exists in ${link.from.node}/${link.from.database} and is not a view dbmesh made`,
        hint: "rename or drop it, or choose another views.into schema",
      });
    } else if (!sameColumns(local.columns, columns, false) || local.comment !== marker) {
      const why =
        local.comment !== marker
          ? `its server is now ${link.server}`
          : `remote columns changed (${columnChanges(local.columns, columns)})`;
      steps.push(
        linkStep(link, `recreate view ${name}: ${why}`, [dropView(into, t.table), ...create]),
      );
    } else {
      const grants = grantsToMapped(link, into, t.table, local.grants);
      if (grants.length) steps.push(linkStep(link, `grant select on ${name}`, grants));
    }
  }
  return { steps, problems };
}

import type { Problem, Step } from "../pgadmin/index.js";
import {
  commentOnRelation,
  dropForeignTable,
  importForeignSchema,
  isManaged,
  type ObservedDatabaseContent,
  type ObservedRelation,
} from "../pgadmin/index.js";
import type { MeshLink } from "../topology/index.js";
import { columnChanges, grantsToMapped, linkStep } from "./link-step.js";
import { lookupRemote, type RemoteCatalog, sameColumns } from "./remote-catalog.js";

/**
 * Phase 3 of a postgres_fdw link: IMPORT FOREIGN SCHEMA into the local schema, then keep it in
 * step with the remote tables: a table whose columns changed is dropped and imported again,
 * a table gone from the remote schema is dropped.
 */
export function planFdwImport(
  link: MeshLink,
  have: ObservedDatabaseContent,
  remote: RemoteCatalog,
  prune: boolean,
): { steps: Step[]; problems: Problem[] } {
  const steps: Step[] = [];
  const problems: Problem[] = [];
  const imp = link.import;
  if (!imp) return { steps, problems };
  const summary = `import ${imp.schema} from ${link.to.node}/${link.to.database} into ${imp.into}`;

  const wanted: ObservedRelation[] = [];
  if (imp.tables) {
    for (const table of imp.tables) {
      const found = lookupRemote(link, "import", remote, imp.schema, table);
      if (found.kind === "problem") problems.push(found.problem);
      else if (found.kind === "deferred")
        return { steps: [linkStep(link, summary, [], true)], problems };
      else wanted.push(found.relation);
    }
  } else {
    if (!remote.content || remote.pending)
      return { steps: [linkStep(link, summary, [], true)], problems };
    for (const r of remote.content.relations.values()) if (r.schema === imp.schema) wanted.push(r);
    if (!wanted.length) {
      problems.push({
        node: link.from.node,
        message: `links[${link.index}]: remote schema ${imp.schema} in ${link.to.node}/${link.to.database} has no tables to import`,
        hint: "create the tables there first, or fix import.schema",
      });
    }
  }

  const local = new Map(
    [...have.relations.values()]
      .filter((r) => r.schema === imp.into && r.kind === "f" && r.server === link.server)
      .map((r) => [r.name, r]),
  );
  const toImport: string[] = [];
  const sql: string[] = [];
  const notes: string[] = [];
  const grants: string[] = [];
  for (const r of wanted) {
    const l = local.get(r.name);
    const other = have.relations.get(`${imp.into}.${r.name}`);
    if (!l && other) {
      problems.push({
        node: link.from.node,
        message: `links[${link.index}]: ${imp.into}.${r.name} exists in ${link.from.node}/${link.from.database} and is not a foreign table of server ${link.server}`,
        hint: "rename or drop it, or choose another import.into schema",
      });
    } else if (!l) {
      toImport.push(r.name);
      notes.push(`+${r.name}`);
    } else if (!sameColumns(l.columns, r.columns)) {
      if (!isManaged(l.comment)) {
        problems.push({
          node: link.from.node,
          message: `links[${link.index}]: ${imp.into}.${r.name} differs from the remote table and was not imported by dbmesh`,
          hint: "drop it so apply can import it again",
        });
        continue;
      }
      sql.push(dropForeignTable(imp.into, r.name));
      toImport.push(r.name);
      notes.push(`${r.name} changed (${columnChanges(l.columns, r.columns)})`);
    } else {
      grants.push(...grantsToMapped(link, imp.into, r.name, l.grants));
    }
  }
  // Foreign tables no longer wanted (gone from the remote schema, or left out of
  // import.tables) are dropped only with --prune, and only those dbmesh imported.
  const keep = new Set(wanted.map((r) => r.name));
  for (const [name, l] of local) {
    if (!keep.has(name) && prune && isManaged(l.comment)) {
      sql.push(dropForeignTable(imp.into, name));
      notes.push(`-${name} (--prune)`);
    }
  }
  if (toImport.length) {
    sql.push(importForeignSchema(imp.schema, toImport.sort(), link.server, imp.into));
    for (const name of toImport) {
      sql.push(commentOnRelation("FOREIGN TABLE", imp.into, name));
      grants.push(...grantsToMapped(link, imp.into, name));
    }
  }
  sql.push(...grants);
  if (sql.length) {
    const what = notes.length
      ? `${summary}: ${notes.join(", ")}`
      : `grant select on ${imp.into} tables`;
    steps.push(linkStep(link, what, sql));
  }
  return { steps, problems };
}

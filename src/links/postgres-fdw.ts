import type { Problem, Step } from "../pgadmin/index.js";
import {
  commentOnRelation,
  importForeignSchema,
  type ObservedDatabaseContent,
  type ObservedRelation,
} from "../pgadmin/index.js";
import type { MeshLink } from "../topology/index.js";
import { diffImport } from "./foreign-import.js";
import { grantsToMapped, linkStep } from "./link-step.js";
import { lookupRemote, type RemoteCatalog } from "./remote-catalog.js";

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

  const { toImport, sql, notes, grants } = diffImport(
    link,
    have,
    wanted,
    prune,
    ["SELECT"],
    problems,
  );
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

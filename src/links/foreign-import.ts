import type { ObservedDatabaseContent, Problem } from "../pgadmin/index.js";
import { dropForeignTable, isManaged } from "../pgadmin/index.js";
import type { MeshLink } from "../topology/index.js";
import { columnChanges, grantsToMapped } from "./link-step.js";
import { sameColumns } from "./remote-catalog.js";

/** A table an IMPORT FOREIGN SCHEMA link wants; no columns when it cannot be imported (kept, not pruned). */
export interface WantedTable {
  readonly name: string;
  readonly columns: readonly { name: string; type: string; notNull: boolean }[] | undefined;
}

export interface ImportDiff {
  /** Tables to import: new ones, and changed ones whose DROP is in `sql`. */
  readonly toImport: string[];
  readonly sql: string[];
  readonly notes: string[];
  /** GRANTs missing on foreign tables that stay as they are. */
  readonly grants: string[];
}

/**
 * The link's foreign tables in import.into compared with the wanted ones: a table whose
 * columns changed is dropped and imported again, one no longer wanted is dropped with --prune
 * only, and only what dbmesh imported is ever dropped. `engine` names the other side in
 * messages when it is not PostgreSQL ("MariaDB").
 */
export function diffImport(
  link: MeshLink,
  have: ObservedDatabaseContent,
  wanted: readonly WantedTable[],
  prune: boolean,
  privileges: readonly string[],
  problems: Problem[],
  engine?: string,
): ImportDiff {
  const into = link.import!.into;
  const local = new Map(
    [...have.relations.values()]
      .filter((r) => r.schema === into && r.kind === "f" && r.server === link.server)
      .map((r) => [r.name, r]),
  );
  const problem = (message: string, hint: string) =>
    problems.push({ node: link.from.node, message: `links[${link.index}]: ${message}`, hint });
  const diff: ImportDiff = { toImport: [], sql: [], notes: [], grants: [] };
  for (const t of wanted) {
    if (!t.columns) continue;
    const l = local.get(t.name);
    if (!l && have.relations.has(`${into}.${t.name}`)) {
      problem(
        `${into}.${t.name} exists in ${link.from.node}/${link.from.database} and is not a foreign table of server ${link.server}`,
        "rename or drop it, or choose another import.into schema",
      );
    } else if (!l) {
      diff.toImport.push(t.name);
      diff.notes.push(`+${t.name}`);
    } else if (!sameColumns(l.columns, t.columns)) {
      if (!isManaged(l.comment)) {
        problem(
          `${into}.${t.name} differs from the ${engine ?? "remote"} table and was not imported by dbmesh`,
          "drop it so apply can import it again",
        );
        continue;
      }
      diff.sql.push(dropForeignTable(into, t.name));
      diff.toImport.push(t.name);
      diff.notes.push(
        `${t.name} changed${engine ? ` on ${engine}` : ""} (${columnChanges(l.columns, t.columns)})`,
      );
    } else {
      diff.grants.push(...grantsToMapped(link, into, t.name, l.grants, privileges));
    }
  }
  const keep = new Set(wanted.map((t) => t.name));
  for (const [name, l] of local) {
    if (!keep.has(name) && prune && isManaged(l.comment)) {
      diff.sql.push(dropForeignTable(into, name));
      diff.notes.push(`-${name} (--prune)`);
    }
  }
  return diff;
}

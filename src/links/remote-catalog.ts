import type { ObservedDatabaseContent, ObservedRelation, Problem } from "../pgadmin/index.js";
import type { MeshLink } from "../topology/index.js";

/** What is known of a link's remote database when planning. */
export interface RemoteCatalog {
  /** Relations of the exposed schemas; undefined when the database cannot be read yet. */
  readonly content: ObservedDatabaseContent | undefined;
  /** Earlier steps of this apply will change the remote tables (database or seeds pending). */
  readonly pending: boolean;
}

export type Lookup =
  | { readonly kind: "found"; readonly relation: ObservedRelation }
  | { readonly kind: "deferred" }
  | { readonly kind: "problem"; readonly problem: Problem };

/** A remote table, or a problem naming it and the tables that do exist. */
export function lookupRemote(
  link: MeshLink,
  what: "import" | "views" | "copies",
  remote: RemoteCatalog,
  schema: string,
  table: string,
): Lookup {
  const where = `${link.to.node}/${link.to.database}`;
  if (!remote.content) return { kind: "deferred" };
  const relation = remote.content.relations.get(`${schema}.${table}`);
  if (relation) return { kind: "found", relation };
  if (remote.pending) return { kind: "deferred" };
  const others = [...remote.content.relations.values()]
    .filter((r) => r.schema === schema)
    .map((r) => r.name)
    .sort();
  return {
    kind: "problem",
    problem: {
      node: link.from.node,
      message: `links[${link.index}] ${what}: remote table ${schema}.${table} does not exist in ${where}`,
      hint: others.length
        ? `tables in ${schema} there: ${others.join(", ")}`
        : `schema ${schema} has no tables there; create the table or fix the name`,
    },
  };
}

/** Same columns (name, type, NOT NULL) in the same order. */
export function sameColumns(
  a: readonly { name: string; type: string; notNull: boolean }[],
  b: readonly { name: string; type: string; notNull: boolean }[],
  compareNotNull = true,
): boolean {
  return (
    a.length === b.length &&
    a.every((c, i) => {
      const d = b[i]!;
      return c.name === d.name && c.type === d.type && (!compareNotNull || c.notNull === d.notNull);
    })
  );
}

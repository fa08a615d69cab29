import type { Step } from "../pgadmin/index.js";
import { grantOnTable, setRole } from "../pgadmin/index.js";
import type { MeshLink } from "../topology/index.js";

/** A phase-3 step on the link's local database, run as the link's owner. */
export function linkStep(link: MeshLink, summary: string, sql: string[], deferred = false): Step {
  return {
    node: link.from.node,
    database: link.from.database,
    phase: 3,
    summary,
    sql: deferred
      ? [
          `-- columns are read from ${link.to.node}/${link.to.database} when apply reaches this step`,
        ]
      : [setRole(link.owner), ...sql],
    transaction: true,
    deferred,
  };
}

/** GRANTs on a table to every mapped role but the owner, of the privileges it does not hold yet. */
export function grantsToMapped(
  link: MeshLink,
  schema: string,
  name: string,
  have: readonly { grantee: string; privilege: string }[] = [],
  privileges: readonly string[] = ["SELECT"],
): string[] {
  return link.as
    .filter((m) => m.local !== link.owner)
    .flatMap((m) => {
      const missing = privileges.filter(
        (p) => !have.some((g) => g.grantee === m.local && g.privilege === p),
      );
      return missing.length ? [grantOnTable(schema, name, m.local, missing)] : [];
    });
}

/** "+a, -b, ~c" for columns added, dropped and changed between two lists. */
export function columnChanges(
  before: readonly { name: string; type: string }[],
  after: readonly { name: string; type: string }[],
): string {
  const old = new Map(before.map((c) => [c.name, c.type]));
  const now = new Map(after.map((c) => [c.name, c.type]));
  const out = [
    ...after.filter((c) => !old.has(c.name)).map((c) => `+${c.name}`),
    ...before.filter((c) => !now.has(c.name)).map((c) => `-${c.name}`),
    ...after.filter((c) => old.has(c.name) && old.get(c.name) !== c.type).map((c) => `~${c.name}`),
  ];
  return out.length ? out.join(", ") : "column order or NOT NULL";
}

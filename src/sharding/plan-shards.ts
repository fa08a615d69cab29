// Phase 2 on a shard node: shard tables, their bounds check and columns kept as the file says.
import type { ObservedDatabaseContent, Problem, Step } from "../pgadmin/index.js";
import { createSchema, ident, isManaged, qualified } from "../pgadmin/index.js";
import type { ColumnDef, Shard, Topology } from "../topology/index.js";
import { ownerOf } from "./database-owner.js";
import type { BoundsProbe, ObservedSharding } from "./observe-sharding.js";
import { type Shaped, shapes } from "./shaped.js";
import {
  addColumns,
  alterOwner,
  commentOn,
  createShardTable,
  replaceCheck,
  shardCheck,
} from "./sharding-sql.js";

type Result = { steps: Step[]; problems: Problem[] };

/** Phase 2 on a shard node's database: each shard table with its bounds check, marked, owned. */
export function planShardTables(
  t: Topology,
  node: string,
  db: string,
  have: ObservedDatabaseContent,
  observed: ObservedSharding | undefined,
): Result {
  const steps: Step[] = [];
  const problems: Problem[] = [];
  const owner = ownerOf(t, node, db);
  const newSchemas = new Set<string>();
  for (const x of shapes(t)) {
    const { s } = x;
    for (const sh of s.shards) {
      if (sh.node !== node || sh.database !== db || sh.local) continue;
      const schema = s.table.schema;
      const found = have.relations.get(`${schema}.${sh.name}`);
      if (found) {
        if (!isManaged(found.comment) || found.kind !== "r")
          problems.push({
            node,
            message: `sharded.${s.name}: ${schema}.${sh.name} exists in ${node}/${db} and was not made by dbmesh as a shard table`,
            hint: "rename or drop it so apply can create the shard table",
          });
        else {
          planBoundsChange(x, sh, node, db, observed, steps, problems);
          // A column declared since: added here too (a refused change is reported by the coordinator).
          const change = columnChange(x, found.columns, "");
          if (typeof change !== "string" && change.length)
            steps.push({
              node,
              database: db,
              phase: 2,
              summary: `add column ${change.map((c) => c.name).join(", ")} to shard ${schema}.${sh.name} of ${s.name}`,
              sql: [addColumns(schema, sh.name, change)],
              transaction: true,
            });
        }
        continue;
      }
      const sql: string[] = [];
      if (!have.schemas.has(schema) && !newSchemas.has(schema) && owner) {
        newSchemas.add(schema);
        sql.push(createSchema(schema, owner));
      }
      const check = shardCheck(x.key, sh.bounds, x.placement);
      sql.push(
        ...createShardTable(schema, sh.name, x.columns, x.constraints, check),
        commentOn("TABLE", schema, sh.name),
      );
      if (owner) sql.push(alterOwner("TABLE", schema, sh.name, owner));
      steps.push({
        node,
        database: db,
        phase: 2,
        summary: `create shard table ${schema}.${sh.name} of ${s.name}${check ? ` (CHECK ${check})` : " (hash: no CHECK, the coordinator routes)"}`,
        sql,
        transaction: true,
        shapesTables: true,
      });
    }
  }
  return { steps, problems };
}

/**
 * A shard whose bounds changed in the file (a list value added beside a default shard, a range
 * moved): its check is replaced, validated against its rows, unless rows would fall outside
 * it. Those are refused with their keys: apply never hides a row by moving a bound over it.
 */
function planBoundsChange(
  x: Shaped,
  sh: Shard,
  node: string,
  db: string,
  observed: ObservedSharding | undefined,
  steps: Step[],
  problems: Problem[],
): void {
  const check = shardCheck(x.key, sh.bounds, x.placement);
  const name = `${x.s.table.schema}.${sh.name}`;
  if (!check || !observed || observed.bounds.get(name) === check) return;
  const outside = observed.outside.get(name);
  if (outside?.length) {
    problems.push({
      node,
      message: `sharded.${x.s.name}: ${name} on ${node}/${db} holds rows with ${x.key} ${outside.slice(0, 5).join(", ")}${outside.length > 5 ? ", …" : ""}, outside the bounds the file declares for it now (${check})`,
      hint: "move those rows to where the file places them (or put the file back) before apply changes the bounds",
    });
    return;
  }
  steps.push({
    node,
    database: db,
    phase: 2,
    summary: `change the bounds of shard ${name} of ${x.s.name} to ${check}`,
    sql: replaceCheck(x.s.table.schema, sh.name, check),
    transaction: true,
  });
}

/**
 * Columns declared in the file that the table lacks: apply adds them to the parent (its
 * partitions follow) and to every shard table. A column the table has and the file does not
 * is refused rather than dropped (its data would go), and so is any change to a following
 * table, whose view and insert trigger list the columns.
 */
export function columnChange(
  x: Shaped,
  have: readonly { name: string }[],
  where: string,
): ColumnDef[] | string {
  const names = new Set(have.map((c) => c.name));
  const declared = new Set(x.columns.map((c) => c.name));
  const added = x.columns.filter((c) => !names.has(c.name));
  const dropped = have.filter((c) => !declared.has(c.name)).map((c) => c.name);
  if (dropped.length)
    return `sharded.${x.s.name}: ${where} has column ${dropped.join(", ")}, which the file no longer declares; apply does not drop columns (their data would be lost)`;
  if (added.length && x.route)
    return `sharded.${x.s.name}: column ${added.map((c) => c.name).join(", ")} is declared but ${where} lacks it; adding columns to a following table is not yet supported`;
  return added;
}

export function columnChangeHint(x: Shaped): string {
  return x.route
    ? "declare the columns as they are, or recreate the table"
    : "declare the column again, or drop it by hand on the coordinator (ALTER TABLE … DROP COLUMN drops it from every partition) and on each shard node";
}

/** The shard tables of (node, db) whose bounds check observeSharding compares with the file. */
export function boundsProbes(t: Topology, node: string, db: string): BoundsProbe[] {
  return shapes(t).flatMap((x) =>
    x.shards.flatMap((sh) => {
      const check = shardCheck(x.key, sh.bounds, x.placement);
      if (sh.node !== node || sh.database !== db || sh.local || !check) return [];
      return [
        {
          table: `${x.s.table.schema}.${sh.name}`,
          qualified: qualified(x.s.table.schema, sh.name),
          key: ident(x.key),
          check,
        },
      ];
    }),
  );
}

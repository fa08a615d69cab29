// Phase 2 on a coordinator: shard servers and mappings, settings, the partitioned parents and
// their partitions, and the view and trigger in front of a following table.
import type { ObservedDatabaseContent, Problem, Step } from "../pgadmin/index.js";
import {
  createSchema,
  grantServerUsage,
  isManaged,
  mappingChange,
  serverChanges,
} from "../pgadmin/index.js";
import { type ColumnDef, secretValue, type Topology } from "../topology/index.js";
import { ownerOf } from "./database-owner.js";
import type { ObservedSharding } from "./observe-sharding.js";
import { isShardingCoordinator } from "./plan-sharding.js";
import { columnChange, columnChangeHint } from "./plan-shards.js";
import { converts, shapes, shardHandle } from "./shaped.js";
import { serverTarget, shardServerOptions, shardServers } from "./shard-servers.js";
import {
  addColumns,
  alterOwner,
  commentOn,
  convertTable,
  createFollowRoute,
  createForeignPartition,
  createLocalPartition,
  createParent,
  createSequence,
  type FollowRoute,
  guardDefaultShard,
  keptName,
  partitionMethod,
  routeTriggerName,
  setDatabaseOption,
  stagingName,
} from "./sharding-sql.js";

type Result = { steps: Step[]; problems: Problem[] };

/** Settings of a coordinator database: joins and aggregates per partition, pushed to shards. */
// https://www.postgresql.org/docs/17/runtime-config-query.html#GUC-ENABLE-PARTITIONWISE-JOIN
export const coordinatorSettings: Record<string, string> = {
  enable_partitionwise_join: "on",
  enable_partitionwise_aggregate: "on",
};

/**
 * Phase 2 on a coordinator database: a foreign server and user mapping per shard node, the
 * partition-wise settings, then per table its sequence, partitioned parent and partitions.
 * Creating a foreign partition reads nothing remote, so this does not wait for the shards.
 */
export function planCoordinator(
  t: Topology,
  node: string,
  db: string,
  have: ObservedDatabaseContent,
  observed: ObservedSharding | undefined,
): Result {
  const steps: Step[] = [];
  const problems: Problem[] = [];
  if (!isShardingCoordinator(t, node, db)) return { steps, problems };
  const owner = ownerOf(t, node, db);
  if (!owner) return { steps, problems };
  const step = (summary: string, sql: string[], secret = false) =>
    steps.push({ node, database: db, phase: 2, summary, sql, transaction: true, secret });

  const servers = shardServers(t, node, db);
  for (const [name, end] of servers) {
    const options = shardServerOptions(t, end);
    const server = have.servers.get(name);
    const at = server && serverTarget(t, server.options);
    if (server && (at?.node !== end.node || at.database !== end.database)) {
      const now = at
        ? `${at.node}/${at.database}`
        : `${server.options.host}:${server.options.port}`;
      problems.push({
        node,
        message: `sharded.${end.table}: shard ${end.shard.name} is on ${now} (server ${name}), but the file places it on ${end.node}/${end.database}; its rows have not moved`,
        hint: `move them with \`dbmesh shard move ${end.table} ${shardHandle(end.shard)} --to ${end.node}\`, or put the file back`,
      });
      continue;
    }
    const { change, otherFdw } = serverChanges(
      server,
      name,
      "postgres_fdw",
      options,
      `create postgres_fdw server ${name} → ${end.node}/${end.database} for shard ${end.shard.name}`,
      [grantServerUsage(name, owner)],
    );
    if (otherFdw) {
      problems.push({
        node,
        message: `foreign server ${name} in ${node}/${db} uses ${otherFdw}, but the shards on ${end.node} need postgres_fdw`,
        hint: "drop or rename that server",
      });
      continue;
    }
    if (change) step(change.summary, change.sql);
    const remoteOwner = ownerOf(t, end.node, end.database);
    const role = remoteOwner ? t.roles.get(remoteOwner) : undefined;
    if (!remoteOwner || !role) continue;
    const want = { user: remoteOwner, password: secretValue(t, role.password) };
    const mapping = mappingChange(server, name, owner, want, `${remoteOwner}@${end.node}`);
    if (mapping) step(mapping.summary, mapping.sql, mapping.secret);
  }

  const settings = Object.entries(coordinatorSettings).filter(
    ([k, v]) => observed?.settings.get(k) !== v,
  );
  if (settings.length)
    step(
      `set ${settings.map(([k, v]) => `${k}=${v}`).join(", ")} for database ${db}`,
      settings.map(([k, v]) => setDatabaseOption(db, k, v)),
    );

  for (const x of shapes(t)) {
    const { s } = x;
    if (s.coordinator.node !== node || s.coordinator.database !== db) continue;
    const schema = s.table.schema;
    const table = x.partitioned;
    // The parent carries the columns as written; a unique index or foreign key there would
    // have to cover the foreign partitions, which PostgreSQL refuses.
    const perShard = x.columns.filter((c) => /\b(primary\s+key|unique|references)\b/i.test(c.type));
    if (perShard.length) {
      problems.push({
        node,
        message: `sharded.${s.name}: column ${perShard.map((c) => c.name).join(", ")} has PRIMARY KEY, UNIQUE or REFERENCES, which a partitioned table with foreign partitions cannot enforce`,
        hint: "write it as a table constraint in columns: (e.g. PRIMARY KEY (id)): each shard enforces it for its rows",
      });
      continue;
    }
    // table: naming the table itself converts it: its partitioned replacement is built beside
    // it under another name (phase 2), then filled and swapped in (phase 3).
    const existing = have.relations.get(`${schema}.${table}`);
    const converting = converts(s) && existing?.kind === "r" && !isManaged(existing.comment);
    const parentName = converting ? stagingName(table) : table;
    const parent = have.relations.get(`${schema}.${parentName}`);
    if (parent && (parent.kind !== "p" || !isManaged(parent.comment))) {
      problems.push({
        node,
        message: `sharded.${s.name}: ${schema}.${parentName} exists in ${node}/${db} and is not a partitioned table made by dbmesh`,
        hint: `rename or drop it, or declare table: ${schema}.${table} to convert it (its rows move to the shards)`,
      });
      continue;
    }
    if (parent) {
      const change = columnChange(x, parent.columns, `${schema}.${table} in ${node}/${db}`);
      if (typeof change === "string") {
        problems.push({ node, message: change, hint: columnChangeHint(x) });
        continue;
      }
      if (change.length)
        step(
          `add column ${change.map((c) => c.name).join(", ")} to ${s.name} (its partitions follow)`,
          [addColumns(schema, parentName, change)],
        );
    }
    if (!parent) {
      const sql: string[] = [];
      if (!have.schemas.has(schema)) sql.push(createSchema(schema, owner));
      const seq = x.sequence;
      if (seq && !observed?.sequences.has(`${schema}.${seq}`))
        sql.push(
          createSequence(schema, seq),
          commentOn("SEQUENCE", schema, seq),
          alterOwner("SEQUENCE", schema, seq, owner),
        );
      sql.push(
        createParent(
          schema,
          parentName,
          x.columns,
          x.key,
          partitionMethod(x.placement),
          x.idColumn && seq ? { column: x.idColumn, sequence: seq } : undefined,
        ),
        commentOn("TABLE", schema, parentName),
        alterOwner("TABLE", schema, parentName, owner),
      );
      step(
        `create ${x.route || converting ? `${schema}.${parentName} for ` : ""}${s.name}: partitioned by ${partitionMethod(x.placement).toLowerCase()} (${x.key})${seq ? `, ids from ${seq}` : ""}`,
        sql,
      );
    }
    for (const sh of s.shards) {
      const found = have.relations.get(`${schema}.${sh.name}`);
      if (found) {
        if (!isManaged(found.comment))
          problems.push({
            node,
            message: `sharded.${s.name}: ${schema}.${sh.name} exists in ${node}/${db} and was not made by dbmesh`,
            hint: "rename or drop it so apply can create the partition",
          });
        continue;
      }
      if (sh.local) {
        step(`create local partition ${schema}.${sh.name} of ${s.name}`, [
          createLocalPartition(schema, sh.name, parentName, sh.bounds, x.constraints),
          commentOn("TABLE", schema, sh.name),
          alterOwner("TABLE", schema, sh.name, owner),
        ]);
      } else {
        const server = x.servers[s.shards.indexOf(sh)] ?? "";
        // A new list value beside an existing default shard: that shard must not hold its rows.
        const fallback = s.shards.find((d) => d.bounds.kind === "default");
        const guard =
          sh.bounds.kind === "list" &&
          fallback &&
          !fallback.local &&
          have.relations.has(`${schema}.${fallback.name}`)
            ? guardDefaultShard(s.name, schema, fallback.name, x.key, sh.bounds.values, owner)
            : [];
        step(
          `create foreign partition ${schema}.${sh.name} of ${s.name} → ${sh.node}/${sh.database}${guard.length ? ` (once ${fallback?.name} holds none of its rows)` : ""}`,
          [
            ...guard,
            createForeignPartition(schema, sh.name, parentName, sh.bounds, server),
            commentOn("FOREIGN TABLE", schema, sh.name),
            alterOwner("FOREIGN TABLE", schema, sh.name, owner),
          ],
        );
      }
    }
    if (converting)
      steps.push({
        node,
        database: db,
        phase: 3,
        summary: `convert ${schema}.${table} into ${s.name}: its rows move to the shards; the table is kept as ${keptName(table)}`,
        sql: convertTable(
          schema,
          table,
          x.columns.map((c) => c.name),
          owner,
          x.idColumn && x.sequence ? { column: x.idColumn, sequence: x.sequence } : undefined,
        ),
        transaction: true,
      });
    if (x.route) planRoute(x.route, x.columns, have, observed, owner, step, problems, node, s.name);
  }
  return { steps, problems };
}

/** The view in front of a following table's partitioned table and its INSTEAD OF INSERT trigger. */
function planRoute(
  r: FollowRoute,
  columns: readonly ColumnDef[],
  have: ObservedDatabaseContent,
  observed: ObservedSharding | undefined,
  owner: string,
  step: (summary: string, sql: string[]) => void,
  problems: Problem[],
  node: string,
  name: string,
): void {
  const view = have.relations.get(`${r.schema}.${r.view}`);
  if (view && (view.kind !== "v" || !isManaged(view.comment))) {
    problems.push({
      node,
      message: `sharded.${name}: ${r.schema}.${r.view} exists and is not the view dbmesh puts in front of ${r.schema}.${r.routed}`,
      hint: "rename or drop it (converting an existing table is not yet supported)",
    });
    return;
  }
  const trigger = `${r.schema}.${r.view}.${routeTriggerName(r.view)}`;
  if (view && observed?.triggers.has(trigger)) return;
  const sql = createFollowRoute(
    r,
    columns.map((c) => c.name),
    owner,
  );
  if (view) {
    // The view is there but its trigger is not: put the function and trigger back.
    step(
      `create trigger ${routeTriggerName(r.view)} routing inserts into ${name} by ${r.through}`,
      sql.slice(1, 5),
    );
    return;
  }
  step(
    `create view ${r.schema}.${r.view} over ${r.routed}, inserts routed by ${r.through} → ${r.parent}.${r.key}`,
    [...sql, commentOn("VIEW", r.schema, r.view), alterOwner("VIEW", r.schema, r.view, owner)],
  );
}

import type { ObservedDatabaseContent, Problem, Step } from "../pgadmin/index.js";
import {
  createSchema,
  grantServerUsage,
  ident,
  isManaged,
  mappingChange,
  qualified,
  serverChanges,
} from "../pgadmin/index.js";
import {
  type ColumnDef,
  type DistributedTable,
  type MeshShardedTable,
  type Shard,
  type ShardPlacement,
  secretValue,
  type Topology,
} from "../topology/index.js";
import { ownerOf } from "./database-owner.js";
import type { BoundsProbe, ObservedSharding } from "./observe-sharding.js";
import { hasReferences, isBuildableReference, referenceSchemas } from "./plan-reference.js";
import {
  addColumns,
  alterOwner,
  commentOn,
  createFollowRoute,
  createForeignPartition,
  createLocalPartition,
  createParent,
  createSequence,
  createShardTable,
  type FollowRoute,
  guardDefaultShard,
  partitionMethod,
  replaceCheck,
  routedName,
  routeTriggerName,
  setDatabaseOption,
  shardCheck,
} from "./sharding-sql.js";

type Result = { steps: Step[]; problems: Problem[] };

/** A distributed table whose columns are declared in the file: what apply builds today. */
type Buildable = DistributedTable & { source: { kind: "columns" } };

function buildable(s: MeshShardedTable): s is Buildable {
  return s.kind === "distributed" && s.source.kind === "columns";
}

/**
 * What apply builds for one sharded table, whatever its kind: the partitioned table (its
 * name and columns), its shards, and for a following table the view and trigger in front.
 */
interface Shaped {
  readonly s: MeshShardedTable;
  readonly partitioned: string;
  readonly columns: readonly ColumnDef[];
  readonly constraints: readonly string[];
  readonly key: string;
  readonly placement: ShardPlacement;
  readonly shards: readonly Shard[];
  /** The foreign server of each remote shard, by position in shards (undefined: local). */
  readonly servers: readonly (string | undefined)[];
  readonly sequence: string | undefined;
  readonly idColumn: string | undefined;
  readonly route: FollowRoute | undefined;
}

/**
 * A following table apply builds: columns declared, parent a distributed table with declared
 * columns. Its shard i has the parent's shard i bounds (list, range, or the same hash modulus
 * and remainder), so it lands on the same node.
 */
function followParent(t: Topology, s: MeshShardedTable): Buildable | undefined {
  if (s.kind !== "follows" || s.source.kind !== "columns") return undefined;
  const p = t.sharded.find((x) => x.name === s.follows);
  return p && buildable(p) ? p : undefined;
}

function shape(t: Topology, s: MeshShardedTable): Shaped | undefined {
  const p = buildable(s) ? undefined : followParent(t, s);
  if (s.kind === "reference" || s.source.kind !== "columns" || (!buildable(s) && !p))
    return undefined;
  // A following table's shard i is on the node of its parent's shard i: same server.
  const root = p ?? s;
  const common = {
    s,
    constraints: s.source.constraints,
    key: s.key,
    placement: s.placement,
    shards: s.shards,
    servers: root.shards.map((sh) => (sh.local ? undefined : shardServerName(sh.name))),
    sequence: s.id?.sequence,
    idColumn: s.id?.column,
  };
  if (!p || s.kind !== "follows")
    return { ...common, partitioned: s.table.table, columns: s.source.columns, route: undefined };
  // The parent's key, denormalized: declared by the user or added with the parent's type.
  const keyType = p.source.columns.find((c) => c.name === p.key)?.type ?? "text";
  const columns = s.source.columns.some((c) => c.name === s.key)
    ? s.source.columns
    : [
        ...s.source.columns,
        { name: s.key, type: keyType.replace(/\bprimary\s+key\b|\bunique\b/gi, "").trim() },
      ];
  return {
    ...common,
    partitioned: routedName(s.table.table),
    columns,
    route: {
      schema: s.table.schema,
      view: s.table.table,
      routed: routedName(s.table.table),
      through: s.through,
      parentSchema: p.table.schema,
      parent: p.table.table,
      references: s.references,
      key: s.key,
      idDefault:
        s.id && common.sequence ? { column: s.id.column, sequence: common.sequence } : undefined,
    },
  };
}

function shapes(t: Topology): Shaped[] {
  return t.sharded.map((s) => shape(t, s)).filter((x): x is Shaped => x !== undefined);
}

/** One table apply builds, as status and doctor see it: where its rows live and how. */
export interface ShardLayout {
  /** Its key under sharded:. */
  readonly name: string;
  readonly schema: string;
  /** The partitioned table on the coordinator (a following table's is behind its view). */
  readonly partitioned: string;
  readonly key: string;
  readonly placement: ShardPlacement;
  readonly coordinator: { readonly node: string; readonly database: string };
  readonly shards: readonly Shard[];
}

export function shardLayouts(t: Topology): ShardLayout[] {
  return shapes(t).map((x) => ({
    name: x.s.name,
    schema: x.s.table.schema,
    partitioned: x.partitioned,
    key: x.key,
    placement: x.placement,
    coordinator: x.s.coordinator,
    shards: x.shards,
  }));
}

/** One shard of a distributed table and the shards of its following tables at its position. */
export interface ShardGroup {
  /** The distributed table (key under sharded:) and the shard named on the command line. */
  readonly table: string;
  readonly shard: Shard;
  readonly server: string | undefined;
  readonly coordinator: { readonly node: string; readonly database: string };
  /** Every table whose rows move with it: the table itself, then its following tables. */
  readonly members: readonly {
    readonly name: string;
    readonly schema: string;
    readonly shard: string;
    readonly columns: readonly ColumnDef[];
  }[];
}

/**
 * The shard of `table` that `handle` names (its list value, or its name with or without the
 * table's prefix), with the co-located shards that move with it; a reason when there is none.
 */
export function shardGroup(t: Topology, table: string, handle: string): ShardGroup | string {
  const all = shapes(t);
  const root = all.find((x) => x.s.name === table);
  if (!root) {
    const names = all.filter((x) => x.s.kind === "distributed").map((x) => x.s.name);
    return `no distributed table ${table} that apply builds; tables: ${names.join(", ") || "none"}`;
  }
  if (root.s.kind !== "distributed")
    return `${table} follows ${root.s.kind === "follows" ? root.s.follows : "another table"}: move the shard of that table, its rows come along`;
  const i = root.shards.findIndex((sh) => shardHandle(sh) === handle || sh.name === handle);
  if (i < 0)
    return `${table} has no shard ${handle}; its shards: ${root.shards.map((sh) => shardHandle(sh)).join(", ")}`;
  const followers = all.filter((x) => x.s.kind === "follows" && x.s.follows === table);
  return {
    table,
    shard: root.shards[i]!,
    server: root.servers[i],
    coordinator: root.s.coordinator,
    members: [root, ...followers].map((x) => ({
      name: x.s.name,
      schema: x.s.table.schema,
      shard: x.shards[i]!.name,
      columns: x.columns,
    })),
  };
}

/** Sharded tables apply cannot build yet: one problem each, on the coordinator's node. */
export function unsupportedSharding(t: Topology): Problem[] {
  return t.sharded
    .filter((s) => !shape(t, s) && !isBuildableReference(s))
    .map((s) => ({
      node: s.coordinator.node,
      message: `sharded.${s.name}: ${
        s.kind === "follows"
          ? "following tables without columns:"
          : "columns from an existing table (table:)"
      } are not yet supported by apply; the table is left as it is`,
      hint: "declare its columns with columns:, or remove it from sharded: for now",
    }));
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

/**
 * A remote shard's foreign server: one per shard of a distributed table, shared by the shards of
 * its following tables at the same position. Co-located shards on one server let postgres_fdw
 * push their join down whole; a server per shard (not per node) lets each shard be scanned on
 * its own connection (async Append runs one request per connection at a time), and lets `shard
 * move` repoint one shard by changing its server's address, which takes no lock on the table.
 */
export function shardServerName(shard: string): string {
  let name = `shard_${shard}`;
  while (Buffer.byteLength(name) > 63) name = [...name].slice(0, -1).join("");
  return name;
}

/** A foreign server of a coordinator database, and the shard it reaches. */
export interface ShardServer {
  readonly node: string;
  readonly database: string;
  /** The distributed table (key under sharded:) and shard it was made for. */
  readonly table: string;
  readonly shard: Shard;
}

/** The foreign servers a coordinator database needs: one per remote shard of its tables. */
export function shardServers(t: Topology, node: string, db: string): Map<string, ShardServer> {
  const out = new Map<string, ShardServer>();
  for (const x of shapes(t)) {
    if (x.s.coordinator.node !== node || x.s.coordinator.database !== db) continue;
    x.shards.forEach((sh, i) => {
      const name = x.servers[i];
      if (name && !out.has(name))
        out.set(name, { node: sh.node, database: sh.database, table: x.s.name, shard: sh });
    });
  }
  return out;
}

/**
 * The node and database a shard server points at now, by its options; undefined when they name
 * no declared node. A server whose address differs from its shard's declared node has had its
 * shard moved in the file but not its rows: apply leaves it alone and says so.
 */
export function serverTarget(
  t: Topology,
  options: Readonly<Record<string, string>>,
): { node: string; database: string } | undefined {
  const n = [...t.nodes.values()].find(
    (m) => m.host === options.host && String(m.port) === options.port,
  );
  return n && options.dbname ? { node: n.name, database: options.dbname } : undefined;
}

/** What `dbmesh shard move` takes to name a shard: its list value, default, or its name. */
export function shardHandle(sh: Shard): string {
  if (sh.bounds.kind === "list" && sh.bounds.values.length === 1) return sh.bounds.values[0]!;
  return sh.bounds.kind === "default" ? "default" : sh.name;
}

// postgres_fdw options for shards: https://www.postgresql.org/docs/17/postgres-fdw.html
// - async_capable: an Append over foreign partitions scans every shard at once instead of one
//   after the other (#POSTGRES-FDW-OPTIONS-ASYNCHRONOUS-EXECUTION).
// - fetch_size 10000: aggregates that cannot be pushed down pull whole shards; 100 rows per
//   round trip (the default) would make that latency-bound.
// - batch_size 1000: inserts routed to a foreign partition go 1000 rows per round trip
//   (default 1) (#POSTGRES-FDW-OPTIONS-REMOTE-EXECUTION).
// - use_remote_estimate false: pruning works on the partition bounds, locally, so it needs no
//   estimates; remote EXPLAINs would cost a round trip per shard for every planned query.
//   ANALYZE on the coordinator gathers local statistics for the foreign partitions instead,
//   sampling on the remote side (analyze_sampling 'auto', #POSTGRES-FDW-OPTIONS-COST-ESTIMATION).
// - extensions: left unset; only built-in operators and functions are shipped, which is what
//   the declared column types need. A shard using an extension's types would list it here.
const shardServerTuning: Record<string, string> = {
  async_capable: "true",
  fetch_size: "10000",
  batch_size: "1000",
  use_remote_estimate: "false",
  analyze_sampling: "auto",
};

/** A shard server's options: where the shard's node is, and the tuning above. */
export function shardServerOptions(
  t: Topology,
  end: { node: string; database: string },
): Record<string, string> {
  const to = t.nodes.get(end.node);
  return {
    host: to?.host ?? "127.0.0.1",
    port: String(to?.port ?? 5432),
    dbname: end.database,
    ...shardServerTuning,
  };
}

/** Settings of a coordinator database: joins and aggregates per partition, pushed to shards. */
// https://www.postgresql.org/docs/17/runtime-config-query.html#GUC-ENABLE-PARTITIONWISE-JOIN
export const coordinatorSettings: Record<string, string> = {
  enable_partitionwise_join: "on",
  enable_partitionwise_aggregate: "on",
};

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
function columnChange(
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

function columnChangeHint(x: Shaped): string {
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
    const parent = have.relations.get(`${schema}.${table}`);
    if (parent && (parent.kind !== "p" || !isManaged(parent.comment))) {
      problems.push({
        node,
        message: `sharded.${s.name}: ${schema}.${table} exists in ${node}/${db} and is not a partitioned table made by dbmesh`,
        hint: "rename or drop it (converting an existing table is not yet supported)",
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
          [addColumns(schema, table, change)],
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
          table,
          x.columns,
          x.key,
          partitionMethod(x.placement),
          x.idColumn && seq ? { column: x.idColumn, sequence: seq } : undefined,
        ),
        commentOn("TABLE", schema, table),
        alterOwner("TABLE", schema, table, owner),
      );
      step(
        `create ${x.route ? `${schema}.${table} for ` : ""}${s.name}: partitioned by ${partitionMethod(x.placement).toLowerCase()} (${x.key})${seq ? `, ids from ${seq}` : ""}`,
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
          createLocalPartition(schema, sh.name, table, sh.bounds, x.constraints),
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
            createForeignPartition(schema, sh.name, table, sh.bounds, server),
            commentOn("FOREIGN TABLE", schema, sh.name),
            alterOwner("FOREIGN TABLE", schema, sh.name, owner),
          ],
        );
      }
    }
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

import type {
  ColumnDef,
  DistributedTable,
  MeshShardedTable,
  Shard,
  ShardPlacement,
  Topology,
} from "../topology/index.js";
import { type FollowRoute, routedName } from "./sharding-sql.js";

/** A distributed table whose columns are declared in the file: what apply builds today. */
export type Buildable = DistributedTable & { source: { kind: "columns" } };

export function buildable(s: MeshShardedTable): s is Buildable {
  return s.kind === "distributed" && s.source.kind === "columns";
}

/**
 * What apply builds for one sharded table, whatever its kind: the partitioned table (its
 * name and columns), its shards, and for a following table the view and trigger in front.
 */
export interface Shaped {
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

/** A distributed or following table whose `table:` is its own existing table. */
export function converts(s: MeshShardedTable): boolean {
  const from = s.source.kind === "columns" ? s.source.from : s.source.table;
  return s.kind !== "reference" && from?.schema === s.table.schema && from.table === s.table.table;
}

export function shape(t: Topology, s: MeshShardedTable): Shaped | undefined {
  const p = buildable(s) ? undefined : followParent(t, s);
  if (s.kind === "reference" || s.source.kind !== "columns" || (!buildable(s) && !p))
    return undefined;
  // A following table cannot be converted from an existing one (unsupportedSharding says so).
  if (converts(s) && s.kind === "follows") return undefined;
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

const shaped = new WeakMap<Topology, readonly Shaped[]>();

/** Every table apply builds: worked out once per topology, which every planner asks again. */
export function shapes(t: Topology): readonly Shaped[] {
  let all = shaped.get(t);
  if (!all) {
    all = Object.freeze(
      t.sharded.map((s) => shape(t, s)).filter((x): x is Shaped => x !== undefined),
    );
    shaped.set(t, all);
  }
  return all;
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

/** What `dbmesh shard move` takes to name a shard: its list value, default, or its name. */
export function shardHandle(sh: Shard): string {
  if (sh.bounds.kind === "list" && sh.bounds.values.length === 1) return sh.bounds.values[0]!;
  return sh.bounds.kind === "default" ? "default" : sh.name;
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

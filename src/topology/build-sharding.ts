import { parseColumnList } from "./column-list.js";
import type {
  ColumnSource,
  DistributedTable,
  Endpoint,
  FollowingTable,
  MeshDatabase,
  MeshRole,
  MeshShardedTable,
  ReferenceTable,
  Shard,
  ShardPlacement,
  TableRef,
} from "./model.js";
import type { ShardedTableFile } from "./sharding-schema.js";

/** Which of the three shapes an entry of `sharded:` is: follows wins, then reference. */
function shardedKind(s: ShardedTableFile): MeshShardedTable["kind"] {
  if (s.follows !== undefined) return "follows";
  return s.reference === true ? "reference" : "distributed";
}

/**
 * Builds `sharded:` into frozen tables with every shard resolved. It never throws: a
 * reference that does not resolve yields an empty placement or shard list, and
 * validate-sharding.ts reports it with its position.
 */
export function buildSharded(
  entries: Readonly<Record<string, ShardedTableFile>>,
  databases: readonly MeshDatabase[],
  roles: readonly MeshRole[] = [],
): MeshShardedTable[] {
  const endpoint = (s: string | undefined): Endpoint => {
    const [node = "", db = ""] = (s ?? "").split("/");
    return Object.freeze({ node, database: databaseOn(databases, node, db) ?? db });
  };
  const built = new Map<string, MeshShardedTable>();

  for (const [name, s] of Object.entries(entries)) {
    if (shardedKind(s) !== "distributed") continue;
    const table = tableRef(s.name ?? name);
    const coordinator = endpoint(s.coordinator);
    const placement = placementOf(s);
    // The shard database has the coordinator's database name unless database: names one;
    // database: may be a key under databases: or a name, as in node/database elsewhere.
    const shardDb = (node: string) =>
      s.database === undefined
        ? coordinator.database
        : (databaseOn(databases, node, s.database) ?? s.database);
    const t: DistributedTable = {
      kind: "distributed",
      name,
      table,
      coordinator,
      source: sourceOf(s, table),
      key: s.key ?? "",
      placement,
      id: idOf(s, table),
      shards: shardsOf(table.table, placement, coordinator, shardDb),
    };
    built.set(name, freeze(t));
  }

  for (const [name, s] of Object.entries(entries)) {
    if (shardedKind(s) !== "follows") continue;
    const parent = built.get(s.follows ?? "");
    const table = tableRef(s.name ?? name);
    const p = parent?.kind === "distributed" ? parent : undefined;
    const placement: ShardPlacement = p?.placement ?? emptyPlacement;
    const coordinator = p?.coordinator ?? Object.freeze({ node: "", database: "" });
    const t: FollowingTable = {
      kind: "follows",
      name,
      table,
      coordinator,
      source: sourceOf(s, table),
      follows: s.follows ?? "",
      through: s.through ?? "",
      references: p?.id?.column ?? "id",
      key: p?.key ?? "",
      placement,
      id: idOf(s, table),
      // Same nodes, databases and bounds as the parent's shards, under this table's name.
      shards: shardsOf(
        table.table,
        placement,
        coordinator,
        (node) => p?.shards.find((x) => x.node === node)?.database ?? coordinator.database,
      ),
    };
    built.set(name, freeze(t));
  }

  for (const [name, s] of Object.entries(entries)) {
    if (shardedKind(s) !== "reference") continue;
    const table = tableRef(s.name ?? name);
    const coordinator = endpoint(s.coordinator);
    const copies = new Map<string, Shard>();
    for (const d of built.values()) {
      if (d.kind !== "distributed" || !sameEndpoint(d.coordinator, coordinator)) continue;
      for (const x of d.shards) {
        // The coordinator has the table already: it is the source of the copies.
        if (x.local || sameEndpoint(x, coordinator)) continue;
        copies.set(
          `${x.node}/${x.database}`,
          Object.freeze({
            name: table.table,
            node: x.node,
            database: x.database,
            bounds: Object.freeze({ kind: "copy" as const }),
            local: false,
          }),
        );
      }
    }
    // The one role that can replicate from the coordinator, unless named (validation says
    // which when there are none or several).
    const fit = roles.filter((r) => r.replication && r.nodes.includes(coordinator.node));
    const t: ReferenceTable = {
      kind: "reference",
      name,
      table,
      coordinator,
      source: sourceOf(s, table),
      shards: Object.freeze([...copies.values()]),
      replicateAs: s.replicateAs ?? (fit.length === 1 ? fit[0]!.name : ""),
    };
    built.set(name, freeze(t));
  }

  return Object.keys(entries).map((k) => built.get(k)!);
}

const emptyPlacement: ShardPlacement = Object.freeze({
  kind: "list" as const,
  values: Object.freeze([]),
  default: undefined,
});

/** The placement declared first among list, hash and range (validation reports extras). */
function placementOf(s: ShardedTableFile): ShardPlacement {
  if (s.list) {
    return Object.freeze({
      kind: "list" as const,
      values: Object.freeze(
        Object.entries(s.list).map(([value, node]) => Object.freeze({ value, node })),
      ),
      default: s.default,
    });
  }
  if (s.hash) {
    return Object.freeze({
      kind: "hash" as const,
      shards: s.hash.shards,
      nodes: Object.freeze([...s.hash.nodes]),
    });
  }
  if (s.range) {
    // A range without from: starts where the previous one ends (MINVALUE for the first), so
    // contiguous ranges are written with to: alone; a range without to: runs to MAXVALUE.
    const ranges = s.range.map((r, i, all) =>
      Object.freeze({
        from: r.from ?? (i === 0 ? null : (all[i - 1]!.to ?? null)),
        to: r.to ?? null,
        node: r.node,
      }),
    );
    return Object.freeze({ kind: "range" as const, ranges: Object.freeze(ranges) });
  }
  return emptyPlacement;
}

function shardsOf(
  table: string,
  placement: ShardPlacement,
  coordinator: Endpoint,
  databaseOf: (node: string) => string,
): readonly Shard[] {
  const used = new Set<string>();
  const shard = (suffix: string, node: string, bounds: Shard["bounds"]): Shard => {
    let name = withSuffix(table, suffix);
    for (let i = 2; used.has(name); i++) name = withSuffix(table, `${suffix}_${i}`);
    used.add(name);
    const database = databaseOf(node);
    return Object.freeze({
      name,
      node,
      database,
      bounds: Object.freeze(bounds),
      local: node === coordinator.node && database === coordinator.database,
    });
  };
  const shards: Shard[] = [];
  switch (placement.kind) {
    case "list":
      for (const v of placement.values) {
        shards.push(shard(slug(v.value), v.node, { kind: "list", values: [v.value] }));
      }
      if (placement.default !== undefined) {
        shards.push(shard("default", placement.default, { kind: "default" }));
      }
      break;
    case "hash":
      for (let r = 0; r < placement.shards; r++) {
        const node = placement.nodes[r % placement.nodes.length] ?? "";
        shards.push(
          shard(`p${r}`, node, { kind: "hash", modulus: placement.shards, remainder: r }),
        );
      }
      break;
    case "range":
      placement.ranges.forEach((r, i) => {
        shards.push(shard(`p${i}`, r.node, { kind: "range", from: r.from, to: r.to }));
      });
      break;
  }
  return Object.freeze(shards);
}

function sourceOf(s: ShardedTableFile, own: TableRef): ColumnSource {
  if (s.columns !== undefined) {
    const parsed = parseColumnList(s.columns);
    return Object.freeze({
      kind: "columns" as const,
      text: s.columns,
      columns: Object.freeze(parsed.ok ? parsed.columns.map((c) => Object.freeze(c)) : []),
      constraints: Object.freeze(parsed.ok ? parsed.constraints : []),
    });
  }
  // A reference table without columns: or table: is the coordinator's table of its own name.
  return Object.freeze({ kind: "table" as const, table: s.table ? tableRef(s.table) : own });
}

function idOf(s: ShardedTableFile, table: TableRef): DistributedTable["id"] {
  if (!s.id) return undefined;
  return Object.freeze({
    column: s.id.column,
    sequence: s.id.sequence ? withSuffix(table.table, `${s.id.column}_seq`) : undefined,
  });
}

/** `schema.table` or `table` (in public). */
export function tableRef(s: string): TableRef {
  const dot = s.indexOf(".");
  return Object.freeze(
    dot < 0 ? { schema: "public", table: s } : { schema: s.slice(0, dot), table: s.slice(dot + 1) },
  );
}

/** The name on the server of the database `db` (a key or a name under databases:) on `node`. */
export function databaseOn(
  databases: readonly MeshDatabase[],
  node: string,
  db: string,
): string | undefined {
  return (
    databases.find((d) => d.node === node && d.name === db) ??
    databases.find((d) => d.node === node && d.key === db)
  )?.name;
}

function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  return a.node === b.node && a.database === b.database;
}

/** A key value as part of a table name: lower-case letters, digits and underscores. */
function slug(value: string): string {
  return value.toLowerCase().replace(/[^a-z0-9_]+/g, "_") || "empty";
}

/** `table_suffix` within 63 bytes, shortening the table part (PostgreSQL truncates names). */
function withSuffix(table: string, suffix: string): string {
  let head = table;
  while (Buffer.byteLength(`${head}_${suffix}`) > 63 && head.length > 0) {
    head = [...head].slice(0, -1).join("");
  }
  return `${head}_${suffix}`.slice(0, 63);
}

function freeze<T extends MeshShardedTable>(t: T): T {
  return Object.freeze(t);
}

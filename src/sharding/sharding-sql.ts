// SQL for distributed tables: shard tables, partitioned parents, partitions, sequences.
// Declarative partitioning: https://www.postgresql.org/docs/17/ddl-partitioning.html
// Foreign partitions: https://www.postgresql.org/docs/17/sql-createforeigntable.html
import { ident, literal, managedMarker, qualified } from "../pgadmin/index.js";
import type { ColumnDef, RangeBound, ShardBounds, ShardPlacement } from "../topology/index.js";

/** `"name" type…` for each declared column; the type text is the file's, verbatim. */
function columnsSql(columns: readonly ColumnDef[]): string[] {
  return columns.map((c) => `${ident(c.name)} ${c.type}`);
}

function rangeValue(b: RangeBound): string {
  return typeof b === "number" ? String(b) : literal(b as string);
}

function inList(values: readonly string[]): string {
  return values.map(literal).join(", ");
}

/**
 * The CHECK that keeps a shard's rows within its bounds, or undefined for hash shards:
 * PostgreSQL's hash partitioning (satisfies_hash_partition) needs the partitioned parent's
 * oid, which exists only on the coordinator, and its seeded extended hash is not hashtext(),
 * so any expression written here would disagree with the routing. The coordinator's partition
 * bound routes hash rows; a shard node holds only what it is sent.
 */
export function shardCheck(
  key: string,
  bounds: ShardBounds,
  placement: ShardPlacement,
): string | undefined {
  const k = ident(key);
  switch (bounds.kind) {
    case "list":
      return `${k} IN (${inList(bounds.values)})`;
    case "default": {
      const all = placement.kind === "list" ? placement.values.map((v) => v.value) : [];
      return all.length ? `${k} NOT IN (${inList(all)})` : undefined;
    }
    case "range": {
      const parts: string[] = [];
      if (bounds.from !== null) parts.push(`${k} >= ${rangeValue(bounds.from)}`);
      if (bounds.to !== null) parts.push(`${k} < ${rangeValue(bounds.to)}`);
      return parts.length ? parts.join(" AND ") : undefined;
    }
    default:
      return undefined;
  }
}

/** The constraint name of a shard's bounds check. */
export function checkName(shard: string): string {
  return `${shard}_bounds`;
}

/** The shard table on a shard node: the columns, the table constraints, the bounds check. */
export function createShardTable(
  schema: string,
  name: string,
  columns: readonly ColumnDef[],
  constraints: readonly string[],
  check: string | undefined,
): string {
  const parts = [...columnsSql(columns), ...constraints];
  if (check) parts.push(`CONSTRAINT ${ident(checkName(name))} CHECK (${check})`);
  return `CREATE TABLE ${qualified(schema, name)} (${parts.join(", ")})`;
}

/**
 * The partitioned parent on the coordinator. Table constraints stay on the shards: a unique
 * index on a parent with foreign partitions cannot be built (an index on a foreign table is
 * refused), and each shard enforces its own.
 */
export function createParent(
  schema: string,
  name: string,
  columns: readonly ColumnDef[],
  key: string,
  method: "LIST" | "HASH" | "RANGE",
  idDefault: { column: string; sequence: string } | undefined,
): string {
  const cols = columns.map((c) =>
    idDefault && c.name === idDefault.column
      ? `${ident(c.name)} ${c.type} DEFAULT nextval(${literal(qualified(schema, idDefault.sequence))}::regclass)`
      : `${ident(c.name)} ${c.type}`,
  );
  return `CREATE TABLE ${qualified(schema, name)} (${cols.join(", ")}) PARTITION BY ${method} (${ident(key)})`;
}

export function partitionMethod(p: ShardPlacement): "LIST" | "HASH" | "RANGE" {
  return p.kind === "list" ? "LIST" : p.kind === "hash" ? "HASH" : "RANGE";
}

/** FOR VALUES … or DEFAULT. https://www.postgresql.org/docs/17/sql-createtable.html#SQL-CREATETABLE-PARTITION */
export function partitionBound(bounds: ShardBounds): string {
  switch (bounds.kind) {
    case "list":
      return `FOR VALUES IN (${inList(bounds.values)})`;
    case "default":
      return "DEFAULT";
    case "hash":
      return `FOR VALUES WITH (MODULUS ${bounds.modulus}, REMAINDER ${bounds.remainder})`;
    case "range": {
      const from = bounds.from === null ? "MINVALUE" : rangeValue(bounds.from);
      const to = bounds.to === null ? "MAXVALUE" : rangeValue(bounds.to);
      return `FOR VALUES FROM (${from}) TO (${to})`;
    }
    case "copy":
      throw new Error("a reference table's copy is not a partition");
  }
}

/** A shard on the coordinator: a plain partition with the table constraints the shards have. */
export function createLocalPartition(
  schema: string,
  name: string,
  parent: string,
  bounds: ShardBounds,
  constraints: readonly string[] = [],
): string {
  const own = constraints.length ? ` (${constraints.join(", ")})` : "";
  return `CREATE TABLE ${qualified(schema, name)} PARTITION OF ${qualified(schema, parent)}${own} ${partitionBound(bounds)}`;
}

export function createForeignPartition(
  schema: string,
  name: string,
  parent: string,
  bounds: ShardBounds,
  server: string,
): string {
  return `CREATE FOREIGN TABLE ${qualified(schema, name)} PARTITION OF ${qualified(schema, parent)} ${partitionBound(bounds)} SERVER ${ident(server)} OPTIONS (schema_name ${literal(schema)}, table_name ${literal(name)})`;
}

export function createSequence(schema: string, name: string): string {
  return `CREATE SEQUENCE ${qualified(schema, name)}`;
}

export function alterOwner(
  kind: "TABLE" | "FOREIGN TABLE" | "SEQUENCE",
  schema: string,
  name: string,
  owner: string,
): string {
  return `ALTER ${kind} ${qualified(schema, name)} OWNER TO ${ident(owner)}`;
}

export function commentOn(
  kind: "TABLE" | "FOREIGN TABLE" | "SEQUENCE",
  schema: string,
  name: string,
): string {
  return `COMMENT ON ${kind} ${qualified(schema, name)} IS ${literal(managedMarker)}`;
}

export function setDatabaseOption(database: string, setting: string, value: string): string {
  return `ALTER DATABASE ${ident(database)} SET ${ident(setting)} = ${literal(value)}`;
}

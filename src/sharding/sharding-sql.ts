// SQL for distributed tables: shard tables, partitioned parents, partitions, sequences.
// Declarative partitioning: https://www.postgresql.org/docs/17/ddl-partitioning.html
// Foreign partitions: https://www.postgresql.org/docs/17/sql-createforeigntable.html
import { ident, literal, qualified, shardingMarker } from "../pgadmin/index.js";
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

/** ADD COLUMN for each column, type text as declared. */
export function addColumns(schema: string, table: string, columns: readonly ColumnDef[]): string {
  return `ALTER TABLE ${qualified(schema, table)} ${columnsSql(columns)
    .map((c) => `ADD COLUMN ${c}`)
    .join(", ")}`;
}

/** The constraint name of a shard's bounds check. */
function checkName(shard: string): string {
  return `${shard}_bounds`;
}

/**
 * The bounds check's comment is the check as dbmesh wrote it: PostgreSQL stores the
 * expression normalized, so the file's text is compared with this, not with the catalog.
 */
export function commentOnCheck(schema: string, shard: string, check: string): string {
  return `COMMENT ON CONSTRAINT ${ident(checkName(shard))} ON ${qualified(schema, shard)} IS ${literal(check)}`;
}

/** A shard's bounds changed in the file: the new check, validated against its rows. */
export function replaceCheck(schema: string, shard: string, check: string): string[] {
  const c = ident(checkName(shard));
  return [
    `ALTER TABLE ${qualified(schema, shard)} DROP CONSTRAINT IF EXISTS ${c}, ADD CONSTRAINT ${c} CHECK (${check})`,
    commentOnCheck(schema, shard, check),
  ];
}

/**
 * Before a list shard is created beside an existing default shard: the default shard must
 * hold no row of the new values, or they would stay there, hidden (PostgreSQL does not scan a
 * foreign default partition for rows the new partition takes). Reads the default shard through
 * its foreign partition, so it runs as the owner, whose user mapping that is.
 */
export function guardDefaultShard(
  table: string,
  schema: string,
  defaultPartition: string,
  key: string,
  values: readonly string[],
  owner: string,
): string[] {
  const message = `sharded.${table}: the default shard ${defaultPartition} holds rows with ${key} %, which the file now gives a shard of their own; creating it would hide them`;
  const hint = `move them out of ${defaultPartition} first (copy and delete them on its node, then insert them again through the coordinator once the shard exists)`;
  const body = `
DECLARE
  keys text;
BEGIN
  SELECT string_agg(k, ', ') INTO keys FROM (
    SELECT DISTINCT ${ident(key)}::text AS k FROM ONLY ${qualified(schema, defaultPartition)}
     WHERE ${ident(key)} IN (${inList(values)}) LIMIT 6) x;
  IF keys IS NOT NULL THEN
    RAISE EXCEPTION ${literal(message)}, keys USING ERRCODE = '23514', HINT = ${literal(hint)};
  END IF;
END`;
  return [`SET LOCAL ROLE ${ident(owner)}`, `DO ${dollar(body)}`, "RESET ROLE"];
}

/** The shard table on a shard node: the columns, the table constraints, the bounds check. */
export function createShardTable(
  schema: string,
  name: string,
  columns: readonly ColumnDef[],
  constraints: readonly string[],
  check: string | undefined,
): string[] {
  const parts = [...columnsSql(columns), ...constraints];
  if (check) parts.push(`CONSTRAINT ${ident(checkName(name))} CHECK (${check})`);
  const create = `CREATE TABLE ${qualified(schema, name)} (${parts.join(", ")})`;
  return check ? [create, commentOnCheck(schema, name, check)] : [create];
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

/** A foreign table (not a partition) over a shard table, with the declared columns. */
export function createShardForeignTable(
  schema: string,
  name: string,
  columns: readonly ColumnDef[],
  server: string,
  remote: string,
): string {
  return `CREATE FOREIGN TABLE ${qualified(schema, name)} (${columnsSql(columns).join(", ")}) SERVER ${ident(server)} OPTIONS (schema_name ${literal(schema)}, table_name ${literal(remote)})`;
}

export function createSequence(schema: string, name: string): string {
  return `CREATE SEQUENCE ${qualified(schema, name)}`;
}

export function alterOwner(
  kind: "TABLE" | "FOREIGN TABLE" | "SEQUENCE" | "VIEW",
  schema: string,
  name: string,
  owner: string,
): string {
  return `ALTER ${kind} ${qualified(schema, name)} OWNER TO ${ident(owner)}`;
}

export function commentOn(
  kind: "TABLE" | "FOREIGN TABLE" | "SEQUENCE" | "VIEW",
  schema: string,
  name: string,
): string {
  return `COMMENT ON ${kind} ${qualified(schema, name)} IS ${literal(shardingMarker)}`;
}

export function setDatabaseOption(database: string, setting: string, value: string): string {
  return `ALTER DATABASE ${ident(database)} SET ${ident(setting)} = ${literal(value)}`;
}

/** Where a converted table's partitioned replacement is built before the swap. */
export function stagingName(table: string): string {
  return `${table}_dbmesh_new`.slice(0, 63);
}

/** What a converted table is renamed to once its rows are on the shards: kept, not dropped. */
export function keptName(table: string): string {
  return `${table}_before_dbmesh`.slice(0, 63);
}

/**
 * Converting an existing table: its rows go into the partitioned table built beside it (so to
 * their shards, through the foreign partitions, as the owner whose user mappings those are),
 * the id sequence continues after the largest id, and the two swap names. One transaction:
 * writes to the table wait for it (EXCLUSIVE lets reads go on); a row whose key has no shard
 * fails it whole, and the table is as it was.
 */
export function convertTable(
  schema: string,
  table: string,
  columns: readonly string[],
  owner: string,
  id: { column: string; sequence: string } | undefined,
): string[] {
  const t = qualified(schema, table);
  const cols = columns.map(ident).join(", ");
  return [
    `LOCK TABLE ${t} IN EXCLUSIVE MODE`,
    `SET LOCAL ROLE ${ident(owner)}`,
    `INSERT INTO ${qualified(schema, stagingName(table))} (${cols}) SELECT ${cols} FROM ONLY ${t}`,
    "RESET ROLE",
    ...(id
      ? [
          `SELECT setval(${literal(qualified(schema, id.sequence))}, coalesce((SELECT max(${ident(id.column)}) FROM ONLY ${t}), 0) + 1, false)`,
        ]
      : []),
    `ALTER TABLE ${t} RENAME TO ${ident(keptName(table))}`,
    `ALTER TABLE ${qualified(schema, stagingName(table))} RENAME TO ${ident(table)}`,
  ];
}

/** The partitioned table behind a following table's view. */
export function routedName(table: string): string {
  return `${table}_routed`;
}

/** The INSTEAD OF INSERT trigger of a following table's view, and its function. */
export function routeTriggerName(table: string): string {
  return `${table}_route`;
}

export interface FollowRoute {
  readonly schema: string;
  /** The user-facing view. */
  readonly view: string;
  /** The partitioned table it shows. */
  readonly routed: string;
  /** This table's column holding the referenced row's id. */
  readonly through: string;
  /** The parent (user-facing) table, its id column and its key column. */
  readonly parentSchema: string;
  readonly parent: string;
  readonly references: string;
  readonly key: string;
  /** The id column's default, set on the view too so the trigger sees it in NEW. */
  readonly idDefault: { column: string; sequence: string } | undefined;
}

/**
 * A following table's rows must reach the shard of the row they reference, but the user
 * inserts only `through` (the tutorial's `lend` gives `booksample_id`, not `location`). The
 * partitioned table is partitioned by the parent's key, carried here as a denormalized column;
 * something must fill it before routing. A BEFORE INSERT trigger on the partitioned table
 * cannot: PostgreSQL picks the partition from the row as given (a row without its key has no
 * partition and fails right there), then runs that partition's BEFORE ROW triggers, and one
 * that changes the key so the row belongs elsewhere fails ("moving row to another partition
 * during a BEFORE FOR EACH ROW trigger is not supported"). So the user-facing name is a
 * simple view over the partitioned table: SELECT, UPDATE and DELETE stay auto-updatable (and
 * the planner prunes and pushes down through it), and an INSTEAD OF INSERT trigger looks the
 * key up in the parent, fills it and inserts into the partitioned table, where normal routing
 * applies. It returns NEW so INSERT … RETURNING and the row count work.
 */
export function createFollowRoute(
  r: FollowRoute,
  columns: readonly string[],
  owner: string,
): string[] {
  const view = qualified(r.schema, r.view);
  const routed = qualified(r.schema, r.routed);
  const fn = qualified(r.schema, routeTriggerName(r.view));
  const parent = qualified(r.parentSchema, r.parent);
  const key = ident(r.key);
  const through = ident(r.through);
  const missing = `${r.view}: ${r.through} % has no row in ${r.parent} (${r.references} = %)`;
  const cols = columns.map(ident).join(", ");
  const vals = columns.map((c) => `NEW.${ident(c)}`).join(", ");
  const body = `
DECLARE
  k ${parent}.${key}%TYPE;
BEGIN
  SELECT p.${key} INTO k FROM ${parent} p WHERE p.${ident(r.references)} = NEW.${through};
  IF NOT FOUND THEN
    RAISE EXCEPTION ${literal(missing)}, NEW.${through}, NEW.${through}
      USING ERRCODE = '23503', TABLE = ${literal(r.view)}, COLUMN = ${literal(r.through)};
  END IF;
  NEW.${key} := k;
  INSERT INTO ${routed} (${cols}) VALUES (${vals});
  RETURN NEW;
END`;
  const sql = [
    `CREATE VIEW ${view} AS SELECT ${cols} FROM ${routed}`,
    `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp AS ${dollar(body)}`,
    `COMMENT ON FUNCTION ${fn}() IS ${literal(shardingMarker)}`,
    `ALTER FUNCTION ${fn}() OWNER TO ${ident(owner)}`,
    `CREATE TRIGGER ${ident(routeTriggerName(r.view))} INSTEAD OF INSERT ON ${view} FOR EACH ROW EXECUTE FUNCTION ${fn}()`,
  ];
  if (r.idDefault)
    sql.push(
      `ALTER VIEW ${view} ALTER COLUMN ${ident(r.idDefault.column)} SET DEFAULT nextval(${literal(qualified(r.schema, r.idDefault.sequence))}::regclass)`,
    );
  return sql;
}

/**
 * What keeps a moved shard's old tables from taking writes: a trigger on each that fails every
 * INSERT, UPDATE, DELETE and TRUNCATE with serialization_failure (40001, which clients retry),
 * saying where the shard went. A session whose transaction reached the old node before the
 * move keeps its connection there until the transaction ends; this turns its write into a
 * retry instead of a row stored where nothing reads. Creating a trigger takes SHARE ROW
 * EXCLUSIVE, which readers' ACCESS SHARE does not conflict with.
 */
export function fenceMovedShard(
  schema: string,
  fn: string,
  tables: readonly string[],
  movedTo: string,
): string[] {
  const f = qualified(schema, fn);
  const body = `
BEGIN
  RAISE EXCEPTION USING ERRCODE = '40001',
    MESSAGE = format('%s.%s has moved to %s', TG_TABLE_SCHEMA, TG_TABLE_NAME, ${literal(movedTo)}),
    HINT = 'retry the transaction: the coordinator reads and writes the new node now';
END`;
  return [
    `CREATE OR REPLACE FUNCTION ${f}() RETURNS trigger LANGUAGE plpgsql AS ${dollar(body)}`,
    ...tables.flatMap((t) => [
      `CREATE TRIGGER dbmesh_moved BEFORE INSERT OR UPDATE OR DELETE ON ${qualified(schema, t)} FOR EACH ROW EXECUTE FUNCTION ${f}()`,
      `CREATE TRIGGER dbmesh_moved_truncate BEFORE TRUNCATE ON ${qualified(schema, t)} FOR EACH STATEMENT EXECUTE FUNCTION ${f}()`,
    ]),
  ];
}

// Reference tables: a publication on the coordinator, a subscription in each shard database.
// https://www.postgresql.org/docs/17/logical-replication.html

/** Logical replication sends UPDATE and DELETE by the replica identity: the whole row without a key. */
export function replicaIdentityFull(schema: string, table: string): string {
  return `ALTER TABLE ${qualified(schema, table)} REPLICA IDENTITY FULL`;
}

export function createPublication(name: string, tables: readonly string[]): string {
  return `CREATE PUBLICATION ${ident(name)} FOR TABLE ${tables.join(", ")}`;
}

export function addToPublication(name: string, tables: readonly string[]): string {
  return `ALTER PUBLICATION ${ident(name)} ADD TABLE ${tables.join(", ")}`;
}

export function dropFromPublication(name: string, tables: readonly [string, string][]): string {
  return `ALTER PUBLICATION ${ident(name)} DROP TABLE ${tables.map(([s, t]) => qualified(s, t)).join(", ")}`;
}

/** Drops the subscription and, on the publisher, its slot. */
export function dropSubscription(name: string): string {
  return `DROP SUBSCRIPTION ${ident(name)}`;
}

/**
 * The slot a subscription streams from, made on the publisher beforehand so that CREATE
 * SUBSCRIPTION (create_slot = false) can run in a transaction, with statement logging off for
 * its password. pg_create_logical_replication_slot refuses a transaction that has written, so
 * it is a step of its own.
 */
export function createLogicalSlot(name: string): string {
  return `SELECT pg_create_logical_replication_slot(${literal(name)}, 'pgoutput')`;
}

export function createSubscription(
  name: string,
  conninfo: string,
  publication: string,
  slot: string,
): string {
  return `CREATE SUBSCRIPTION ${ident(name)} CONNECTION ${literal(conninfo)} PUBLICATION ${ident(publication)} WITH (create_slot = false, slot_name = ${literal(slot)}, copy_data = true)`;
}

/** Starts replicating (and copying) the tables added to the publication since. */
export function refreshSubscription(name: string): string {
  return `ALTER SUBSCRIPTION ${ident(name)} REFRESH PUBLICATION`;
}

function dollar(body: string): string {
  let tag = "$route$";
  while (body.includes(tag)) tag = `$route${tag.length}$`;
  return `${tag}${body}${tag}`;
}

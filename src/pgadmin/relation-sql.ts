import { managedMarker } from "./marker.js";
import { ident, literal, qualified } from "./quote.js";

export interface ColumnDef {
  readonly name: string;
  readonly type: string;
  readonly notNull: boolean;
}

/** `"a" integer NOT NULL, "b" text` */
export function columnDefs(columns: readonly ColumnDef[], withNotNull = true): string {
  return columns
    .map((c) => `${ident(c.name)} ${c.type}${withNotNull && c.notNull ? " NOT NULL" : ""}`)
    .join(", ");
}

export function columnList(columns: readonly ColumnDef[]): string {
  return columns.map((c) => ident(c.name)).join(", ");
}

/**
 * A view over a dblink query, so users select from it with no column definition list.
 * The remote query's text is itself quoted as a literal.
 */
export function createDblinkView(
  schema: string,
  view: string,
  server: string,
  remoteSchema: string,
  remoteTable: string,
  columns: readonly ColumnDef[],
): string {
  return `CREATE VIEW ${qualified(schema, view)} AS SELECT * FROM ${dblinkSource(server, remoteSchema, remoteTable, columns)}`;
}

export function dropView(schema: string, view: string): string {
  return `DROP VIEW IF EXISTS ${qualified(schema, view)}`;
}

export function createTable(
  schema: string,
  table: string,
  columns: readonly ColumnDef[],
  primaryKey: readonly string[],
): string {
  const pk = primaryKey.length ? `, PRIMARY KEY (${primaryKey.map(ident).join(", ")})` : "";
  return `CREATE TABLE ${qualified(schema, table)} (${columnDefs(columns)}${pk})`;
}

export function dropTable(schema: string, table: string): string {
  return `DROP TABLE IF EXISTS ${qualified(schema, table)}`;
}

export function truncateTable(schema: string, table: string): string {
  return `TRUNCATE ${qualified(schema, table)}`;
}

export function createForeignTable(
  schema: string,
  table: string,
  columns: readonly ColumnDef[],
  server: string,
  remoteSchema: string,
  remoteTable: string,
): string {
  return `CREATE FOREIGN TABLE ${qualified(schema, table)} (${columnDefs(columns, false)}) SERVER ${ident(server)} OPTIONS (schema_name ${literal(remoteSchema)}, table_name ${literal(remoteTable)})`;
}

export function commentOnRelation(
  kind: "VIEW" | "TABLE" | "FOREIGN TABLE",
  schema: string,
  name: string,
  text = managedMarker,
): string {
  return `COMMENT ON ${kind} ${qualified(schema, name)} IS ${literal(text)}`;
}

export function grantSelect(schema: string, name: string, role: string): string {
  return grantOnTable(schema, name, role, ["SELECT"]);
}

/** `GRANT SELECT, INSERT ON "s"."t" TO "r"`: privileges from a fixed list, never user text. */
export function grantOnTable(
  schema: string,
  name: string,
  role: string,
  privileges: readonly string[],
): string {
  return `GRANT ${privileges.join(", ")} ON ${qualified(schema, name)} TO ${ident(role)}`;
}

export function grantSchemaUsage(schema: string, role: string): string {
  return `GRANT USAGE ON SCHEMA ${ident(schema)} TO ${ident(role)}`;
}

export function insertSelect(
  schema: string,
  table: string,
  columns: readonly ColumnDef[],
  from: string,
): string {
  return `INSERT INTO ${qualified(schema, table)} (${columnList(columns)}) SELECT ${columnList(columns)} FROM ${from}`;
}

export function dblinkSource(
  server: string,
  remoteSchema: string,
  remoteTable: string,
  columns: readonly ColumnDef[],
): string {
  const remote = `SELECT ${columnList(columns)} FROM ${qualified(remoteSchema, remoteTable)}`;
  return `dblink(${literal(server)}, ${literal(remote)}) AS t(${columnDefs(columns, false)})`;
}

export function setRole(role: string): string {
  return `SET LOCAL ROLE ${ident(role)}`;
}

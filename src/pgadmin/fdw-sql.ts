import { managedMarker } from "./marker.js";
import { ident, literal, qualified } from "./quote.js";

export type Options = Readonly<Record<string, string>>;

function optionList(o: Options): string {
  return Object.entries(o)
    .map(([k, v]) => `${ident(k)} ${literal(v)}`)
    .join(", ");
}

/** `OPTIONS (SET a 'x', ADD b 'y', DROP c)` turning `current` into `desired`, or null if equal. */
export function alterOptions(current: Options, desired: Options): string | null {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(desired)) {
    if (!(k in current)) parts.push(`ADD ${ident(k)} ${literal(v)}`);
    else if (current[k] !== v) parts.push(`SET ${ident(k)} ${literal(v)}`);
  }
  for (const k of Object.keys(current)) if (!(k in desired)) parts.push(`DROP ${ident(k)}`);
  return parts.length ? `OPTIONS (${parts.join(", ")})` : null;
}

export function createServer(name: string, fdw: string, options: Options): string {
  return `CREATE SERVER ${ident(name)} FOREIGN DATA WRAPPER ${ident(fdw)} OPTIONS (${optionList(options)})`;
}

export function alterServer(name: string, options: string): string {
  return `ALTER SERVER ${ident(name)} ${options}`;
}

export function commentOnServer(name: string): string {
  return `COMMENT ON SERVER ${ident(name)} IS ${literal(managedMarker)}`;
}

export function dropServer(name: string): string {
  return `DROP SERVER IF EXISTS ${ident(name)} CASCADE`;
}

export function createUserMapping(user: string, server: string, options: Options): string {
  return `CREATE USER MAPPING FOR ${ident(user)} SERVER ${ident(server)} OPTIONS (${optionList(options)})`;
}

export function alterUserMapping(user: string, server: string, options: string): string {
  return `ALTER USER MAPPING FOR ${ident(user)} SERVER ${ident(server)} ${options}`;
}

export function dropUserMapping(user: string, server: string): string {
  return `DROP USER MAPPING IF EXISTS FOR ${ident(user)} SERVER ${ident(server)}`;
}

export function grantServerUsage(server: string, role: string): string {
  return `GRANT USAGE ON FOREIGN SERVER ${ident(server)} TO ${ident(role)}`;
}

export function importForeignSchema(
  remoteSchema: string,
  tables: readonly string[],
  server: string,
  into: string,
  options: Options = {},
): string {
  const limit = tables.length ? ` LIMIT TO (${tables.map(ident).join(", ")})` : "";
  const opts = Object.keys(options).length ? ` OPTIONS (${optionList(options)})` : "";
  return `IMPORT FOREIGN SCHEMA ${ident(remoteSchema)}${limit} FROM SERVER ${ident(server)} INTO ${ident(into)}${opts}`;
}

export function dropForeignTable(schema: string, table: string): string {
  return `DROP FOREIGN TABLE IF EXISTS ${qualified(schema, table)}`;
}

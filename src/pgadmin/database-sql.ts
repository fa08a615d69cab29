import { managedMarker, seedsSetting } from "./marker.js";
import { ident, literal } from "./quote.js";

export function createDatabase(name: string, owner: string): string {
  return `CREATE DATABASE ${ident(name)} OWNER ${ident(owner)} ENCODING 'UTF8' TEMPLATE template0`;
}

export function alterDatabaseOwner(name: string, owner: string): string {
  return `ALTER DATABASE ${ident(name)} OWNER TO ${ident(owner)}`;
}

export function commentOnDatabase(name: string): string {
  return `COMMENT ON DATABASE ${ident(name)} IS ${literal(managedMarker)}`;
}

/**
 * Records the seed files run in a database as a database-level setting: transactional, kept
 * apart from the comment a user may edit. https://www.postgresql.org/docs/17/sql-alterdatabase.html
 */
export function recordSeeds(name: string, seeds: readonly string[]): string {
  return `ALTER DATABASE ${ident(name)} SET ${seedsSetting} = ${literal(JSON.stringify(seeds))}`;
}

export function dropDatabase(name: string): string {
  return `DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`;
}

export function createSchema(name: string, owner: string): string {
  return `CREATE SCHEMA IF NOT EXISTS ${ident(name)} AUTHORIZATION ${ident(owner)}`;
}

export function createExtension(name: string): string {
  return `CREATE EXTENSION IF NOT EXISTS ${ident(name)}`;
}

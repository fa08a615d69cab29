import { account, grantDatabase, ident, literal, nativePasswordHash, qualified } from "./quote.js";

// Statements dbmesh runs on MariaDB nodes, built only from the quoting functions in quote.ts.

/** dbmesh's bookkeeping on a MariaDB node: what it created, and the seed files it ran. */
export const BOOKKEEPING_DATABASE = "dbmesh";
/** The database admin sessions connect to for server-level work (MariaDB's system database). */
export const SYSTEM_DATABASE = "mysql";
export const DEFAULT_CHARSET = "utf8mb4";
const DEFAULT_COLLATION = "utf8mb4_unicode_ci";

const created = qualified(BOOKKEEPING_DATABASE, "created");
const seeds = qualified(BOOKKEEPING_DATABASE, "seeds");

/**
 * MariaDB has no comments on accounts, so what dbmesh created is recorded in a table of its
 * own: `--prune` and a shrinking `from:` list remove only those.
 */
export function createBookkeeping(): string[] {
  return [
    `CREATE DATABASE IF NOT EXISTS ${ident(BOOKKEEPING_DATABASE)} CHARACTER SET ${DEFAULT_CHARSET} COLLATE ${DEFAULT_COLLATION}`,
    `CREATE TABLE IF NOT EXISTS ${created} (kind varchar(16) NOT NULL, name varchar(255) NOT NULL, host varchar(255) NOT NULL DEFAULT '', PRIMARY KEY (kind, name, host)) ENGINE=InnoDB`,
    `CREATE TABLE IF NOT EXISTS ${seeds} (db varchar(64) NOT NULL, file varchar(512) NOT NULL, ran_at timestamp NOT NULL DEFAULT current_timestamp, PRIMARY KEY (db, file)) ENGINE=InnoDB`,
  ];
}

export type CreatedKind = "account" | "database";

export function recordCreated(kind: CreatedKind, name: string, host = ""): string {
  return `INSERT IGNORE INTO ${created} (kind, name, host) VALUES (${literal(kind)}, ${literal(name)}, ${literal(host)})`;
}

export function forgetCreated(kind: CreatedKind, name: string, host = ""): string {
  return `DELETE FROM ${created} WHERE kind = ${literal(kind)} AND name = ${literal(name)} AND host = ${literal(host)}`;
}

export function recordSeed(database: string, file: string): string {
  return `INSERT IGNORE INTO ${seeds} (db, file) VALUES (${literal(database)}, ${literal(file)})`;
}

export interface UserSpec {
  readonly user: string;
  readonly host: string;
  readonly password: string;
  /** -1 (or 0): no limit. */
  readonly connectionLimit: number;
}

/**
 * The password travels as its mysql_native_password hash, never as text.
 * https://mariadb.com/kb/en/create-user/#identified-by-password-password_hash
 */
export function createUser(u: UserSpec): string {
  return `CREATE USER ${account(u.user, u.host)} IDENTIFIED BY PASSWORD ${literal(nativePasswordHash(u.password))} WITH MAX_USER_CONNECTIONS ${limit(u)}`;
}

export function alterUser(u: UserSpec, password: boolean): string {
  const pw = password ? ` IDENTIFIED BY PASSWORD ${literal(nativePasswordHash(u.password))}` : "";
  return `ALTER USER ${account(u.user, u.host)}${pw} WITH MAX_USER_CONNECTIONS ${limit(u)}`;
}

function limit(u: UserSpec): number {
  return Math.max(0, u.connectionLimit);
}

export function dropUser(user: string, host: string): string {
  return `DROP USER IF EXISTS ${account(user, host)}`;
}

export function createDatabase(name: string): string {
  return `CREATE DATABASE IF NOT EXISTS ${ident(name)} CHARACTER SET ${DEFAULT_CHARSET} COLLATE ${DEFAULT_COLLATION}`;
}

export function alterDatabaseCharset(name: string): string {
  return `ALTER DATABASE ${ident(name)} CHARACTER SET ${DEFAULT_CHARSET} COLLATE ${DEFAULT_COLLATION}`;
}

export function dropDatabase(name: string): string {
  return `DROP DATABASE IF EXISTS ${ident(name)}`;
}

/** What a database's owner gets: every database-level privilege, on that database only. */
export function grantAll(database: string, user: string, host: string): string {
  return `GRANT ALL PRIVILEGES ON ${grantDatabase(database)}.* TO ${account(user, host)}`;
}

export function revokeAll(database: string, user: string, host: string): string {
  return `REVOKE ALL PRIVILEGES ON ${grantDatabase(database)}.* FROM ${account(user, host)}`;
}

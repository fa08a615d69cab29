import { serialize } from "../protocol/index.js";

/**
 * A named prepared statement as the servers know it. Clients name statements as they like; on
 * the servers each distinct (text, parameter types) is one statement under a router-wide name,
 * so a server connection prepares it once whichever client runs it next.
 */
export interface PreparedStatement {
  /** Router-wide id, from 1; never reused, so a server connection's ids stay unambiguous. */
  readonly id: number;
  readonly sql: string;
  /** The server-side name as a NUL-terminated String, ready to splice into Bind/Describe. */
  readonly serverName: Buffer;
  /** Parse ('P') of the statement under its server-side name. */
  readonly parse: Buffer;
}

/** Distinct statements the registry keeps by default before forgetting the least recently used. */
const DEFAULT_REGISTRY_SIZE = 10_000;

/**
 * Statements named on each server connection at most, by default: as PgBouncer's
 * max_prepared_statements, the least recently used beyond it are deallocated on the server.
 */
export const DEFAULT_MAX_PREPARED_STATEMENTS = 200;

/** The server-side name of statement `id`. */
export function serverStatementName(id: number): string {
  return `dbmesh_${id}`;
}

/**
 * SQL deallocating statements `ids` on a server connection: one simple Query between units of
 * work (DEALLOCATE is allowed there, in or out of a transaction block).
 * https://www.postgresql.org/docs/17/sql-deallocate.html
 */
export function deallocateSql(ids: Iterable<number>): string {
  let sql = "";
  // The names are dbmesh_<digits>: quoted as identifiers all the same.
  for (const id of ids) sql += `${sql === "" ? "" : "; "}DEALLOCATE "${serverStatementName(id)}"`;
  return sql;
}

/**
 * The statements clients prepared, by text and parameter types, least recently used first.
 * Beyond `capacity` the oldest is forgotten: a client still holding it keeps using it, a client
 * preparing the same text again gets a new id (and the servers prepare it under the new name).
 */
export class StatementRegistry {
  private readonly byKey = new Map<string, PreparedStatement>();
  private lastId = 0;

  constructor(private readonly capacity = DEFAULT_REGISTRY_SIZE) {}

  get size(): number {
    return this.byKey.size;
  }

  get(sql: string, paramTypes: readonly number[]): PreparedStatement {
    const key = paramTypes.length === 0 ? sql : `${paramTypes.join(",")}\0${sql}`;
    const byKey = this.byKey;
    let s = byKey.get(key);
    if (s !== undefined) {
      // Most recently used last (Map keeps insertion order).
      byKey.delete(key);
      byKey.set(key, s);
      return s;
    }
    const id = ++this.lastId;
    const name = serverStatementName(id);
    s = Object.freeze({
      id,
      sql,
      serverName: Buffer.from(`${name}\0`),
      parse: serialize.parse(name, sql, paramTypes),
    });
    byKey.set(key, s);
    if (byKey.size > this.capacity) byKey.delete(byKey.keys().next().value!);
    return s;
  }
}

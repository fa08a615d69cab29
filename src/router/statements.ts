import { serialize } from "../protocol/index.js";

/**
 * A named prepared statement as the servers know it. Clients name statements as they like; on
 * the servers each distinct (text, parameter types) is one statement under a router-wide name,
 * so a server connection prepares it once whichever client runs it next.
 */
export interface PreparedStatement {
  /** Router-wide id, from 1. */
  readonly id: number;
  readonly sql: string;
  /** The server-side name as a NUL-terminated String, ready to splice into Bind/Describe. */
  readonly serverName: Buffer;
  /** Parse ('P') of the statement under its server-side name. */
  readonly parse: Buffer;
}

/** Every statement any client prepared, by text and parameter types. */
export class StatementRegistry {
  private readonly byKey = new Map<string, PreparedStatement>();

  get size(): number {
    return this.byKey.size;
  }

  get(sql: string, paramTypes: readonly number[]): PreparedStatement {
    const key = paramTypes.length === 0 ? sql : `${paramTypes.join(",")}\0${sql}`;
    let s = this.byKey.get(key);
    if (s === undefined) {
      const id = this.byKey.size + 1;
      const name = `dbmesh_${id}`;
      s = Object.freeze({
        id,
        sql,
        serverName: Buffer.from(`${name}\0`),
        parse: serialize.parse(name, sql, paramTypes),
      });
      this.byKey.set(key, s);
    }
    return s;
  }
}

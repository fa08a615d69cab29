import mysql from "mysql2/promise";
import { connectError, statementError } from "./mariadb-error.js";

export interface MariadbTarget {
  readonly node: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** The default database of the session; none when undefined. */
  readonly database?: string | undefined;
}

/** One result of `raw`: rows as arrays of text (NULL as null), or a statement's affected rows. */
export interface MariadbResult {
  readonly command: string;
  readonly rowCount: number | null;
  readonly columns: string[];
  readonly rows: (string | null)[][];
}

/** One connection to one node. Every query counts as a round trip. */
export interface MariadbSession {
  readonly node: string;
  readonly database: string | undefined;
  /** One statement with `?` placeholders; rows as objects. */
  query<R extends object = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  /** One or more statements; every value as text, rows as arrays (as the mariadb client shows them). */
  raw(sql: string): Promise<MariadbResult[]>;
  /** Closes the connection (sessions from `MariadbConnections` are closed by it instead). */
  end(): Promise<void>;
}

/**
 * utf8mb4 both ways, so any Unicode text survives; backslash escapes on for this session, as
 * `literal` assumes (a server's global sql_mode may say NO_BACKSLASH_ESCAPES).
 * https://mariadb.com/kb/en/sql-mode/#no_backslash_escapes
 */
const sessionSetup =
  "SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci, SESSION sql_mode = REPLACE(@@SESSION.sql_mode, 'NO_BACKSLASH_ESCAPES', '')";

/**
 * A single connection as any account, for admin work, checks and tests. Several statements
 * may be sent at once (seed files, `dbmesh sql`).
 */
export async function connectMariadb(
  t: MariadbTarget,
  opts: { timeoutMs?: number; onQuery?: () => void } = {},
): Promise<MariadbSession> {
  let c: mysql.Connection;
  try {
    c = await mysql.createConnection({
      host: t.host,
      port: t.port,
      user: t.user,
      password: t.password,
      ...(t.database === undefined ? {} : { database: t.database }),
      charset: "utf8mb4_unicode_ci",
      multipleStatements: true,
      connectTimeout: opts.timeoutMs ?? 5000,
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
    });
  } catch (e) {
    throw connectError(e, t);
  }
  c.on("error", () => {});
  const count = opts.onQuery ?? (() => {});
  try {
    await c.query(sessionSetup);
  } catch (e) {
    await c.end().catch(() => {});
    throw statementError(e, t.node, t.database, sessionSetup);
  }
  return {
    node: t.node,
    database: t.database,
    query: async <R extends object>(sql: string, params?: unknown[]) => {
      count();
      try {
        const [rows] = await c.query(sql, params);
        return (Array.isArray(rows) ? rows : []) as R[];
      } catch (e) {
        throw statementError(e, t.node, t.database, sql);
      }
    },
    raw: async (sql: string) => {
      count();
      try {
        const [results, fields] = await c.query({
          sql,
          rowsAsArray: true,
          // The text the server sent, as the mariadb client prints it (DECIMAL 1.50, DATE
          // 2024-01-01), not a JavaScript number or Date.
          typeCast: (field) => field.string(),
        });
        return resultsOf(results, fields);
      } catch (e) {
        throw statementError(e, t.node, t.database, sql);
      }
    },
    end: () => c.end().catch(() => {}),
  };
}

type Fields = mysql.FieldPacket[] | (mysql.FieldPacket[] | undefined | null)[] | undefined;

/** mysql2 returns one result bare, and several (multipleStatements) as a list of results. */
function resultsOf(results: unknown, fields: Fields): MariadbResult[] {
  const several =
    Array.isArray(fields) &&
    fields.length > 0 &&
    (fields[0] === null || fields[0] === undefined || Array.isArray(fields[0]));
  if (!several) return [one(results, fields as mysql.FieldPacket[] | undefined)];
  return (results as unknown[]).map((r, i) =>
    one(r, (fields as (mysql.FieldPacket[] | undefined)[])[i] ?? undefined),
  );
}

function one(result: unknown, fields: mysql.FieldPacket[] | undefined): MariadbResult {
  if (Array.isArray(result) && fields) {
    return {
      command: "SELECT",
      rowCount: result.length,
      columns: fields.map((f) => f.name),
      rows: (result as unknown[][]).map((r) => r.map(text)),
    };
  }
  const header = result as { affectedRows?: number };
  return { command: "OK", rowCount: header.affectedRows ?? null, columns: [], rows: [] };
}

function text(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (Buffer.isBuffer(v)) return v.toString("utf8");
  return String(v);
}

/**
 * Opens admin sessions on demand and keeps one per node/database for the life of a command,
 * as the PostgreSQL side does. `roundTrips` counts statements sent.
 */
export class MariadbConnections {
  roundTrips = 0;
  private readonly open = new Map<string, Promise<MariadbSession>>();

  constructor(
    private readonly target: (node: string, database: string | undefined) => Promise<MariadbTarget>,
    private readonly connectTimeoutMs = 5000,
  ) {}

  session(node: string, database?: string): Promise<MariadbSession> {
    const key = `${node}\0${database ?? ""}`;
    let s = this.open.get(key);
    if (!s) {
      s = this.target(node, database).then((t) => {
        this.roundTrips++;
        return connectMariadb(t, {
          timeoutMs: this.connectTimeoutMs,
          onQuery: () => this.roundTrips++,
        });
      });
      this.open.set(key, s);
      s.catch(() => this.open.delete(key));
    }
    return s;
  }

  /** Forgets a connection (after a failure), so the next session reconnects. */
  async drop(node: string, database?: string): Promise<void> {
    const key = `${node}\0${database ?? ""}`;
    const s = this.open.get(key);
    this.open.delete(key);
    await s?.then((x) => x.end()).catch(() => {});
  }

  async closeAll(): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    await Promise.all(all.map((p) => p.then((s) => s.end()).catch(() => {})));
  }
}

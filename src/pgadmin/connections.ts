import pg from "pg";
import { connectError, statementError } from "./pgadmin-error.js";

export interface ConnectTarget {
  readonly node: string;
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password: string;
}

/** One admin connection to one database of one node. Every query counts as a round trip. */
export interface Session {
  readonly node: string;
  readonly database: string;
  query<R extends object = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  /** One or more statements; every value as PostgreSQL's text, rows as arrays (as psql shows them). */
  raw(sql: string): Promise<RawResult[]>;
}

export interface RawResult {
  readonly command: string;
  readonly rowCount: number | null;
  readonly columns: string[];
  readonly rows: unknown[][];
}

const textTypes = { getTypeParser: () => (v: string) => v };

/**
 * Opens admin connections on demand and keeps one per node/database for the life of a command.
 * `roundTrips` counts statements sent, for benchmarks.
 */
export class Connections {
  roundTrips = 0;
  private readonly open = new Map<string, Promise<pg.Client>>();

  constructor(
    private readonly target: (node: string, database: string) => Promise<ConnectTarget>,
    private readonly connectTimeoutMs = 5000,
  ) {}

  async session(node: string, database: string): Promise<Session> {
    const key = `${node}\0${database}`;
    let client = this.open.get(key);
    if (!client) {
      client = this.connect(node, database);
      this.open.set(key, client);
      client.catch(() => this.open.delete(key));
    }
    const c = await client;
    return {
      node,
      database,
      query: async <R extends object>(sql: string, params?: unknown[]) => {
        this.roundTrips++;
        try {
          return (await c.query<R>(sql, params)).rows;
        } catch (e) {
          throw statementError(e, node, database, sql);
        }
      },
      raw: async (sql: string) => {
        this.roundTrips++;
        try {
          const r: unknown = await c.query({
            text: sql,
            rowMode: "array",
            types: textTypes,
          } as pg.QueryConfig);
          const list = (Array.isArray(r) ? r : [r]) as pg.QueryArrayResult[];
          return list.map((x) => ({
            command: x.command,
            rowCount: x.rowCount,
            columns: (x.fields ?? []).map((f) => f.name),
            rows: x.rows ?? [],
          }));
        } catch (e) {
          throw statementError(e, node, database, sql);
        }
      },
    };
  }

  /** Forgets a connection (after a failure), so the next session reconnects. */
  async drop(node: string, database: string): Promise<void> {
    const key = `${node}\0${database}`;
    const client = this.open.get(key);
    this.open.delete(key);
    await client?.then((c) => c.end()).catch(() => {});
  }

  async closeAll(): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    await Promise.all(all.map((p) => p.then((c) => c.end()).catch(() => {})));
  }

  private async connect(node: string, database: string): Promise<pg.Client> {
    const t = await this.target(node, database);
    this.roundTrips++;
    return connectAs(t, this.connectTimeoutMs);
  }
}

/** A single connection as any role, for checks (doctor) and tests. Caller must end() it. */
export async function connectAs(t: ConnectTarget, timeoutMs = 5000): Promise<pg.Client> {
  const client = new pg.Client({
    host: t.host,
    port: t.port,
    database: t.database,
    user: t.user,
    password: t.password,
    application_name: "dbmesh",
    connectionTimeoutMillis: timeoutMs,
  });
  client.on("error", () => {});
  try {
    await client.connect();
    return client;
  } catch (e) {
    await client.end().catch(() => {});
    throw connectError(e, t);
  }
}

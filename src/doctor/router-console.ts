// The running router as status and doctor see it from outside: a TCP connect to router.listen,
// its admin console (database "dbmesh", PgBouncer-like SHOW commands) and its metrics endpoint.
// Doctor does not import the router: the console speaks the wire protocol, so node-postgres will do.
import { request } from "node:http";
import pg from "pg";
import { secretValue, type Topology } from "../topology/index.js";
import { tcpConnect } from "./reachability.js";

/** The admin console's database name (the router reserves it). */
export const ROUTER_CONSOLE_DATABASE = "dbmesh";

/** A role the console accepts, with its password. */
export interface ConsoleLogin {
  readonly user: string;
  readonly password: string;
}

/** One row of SHOW POOLS joined with SHOW STATS (every value as the console sends it). */
export interface RouterPool {
  readonly database: string;
  readonly user: string;
  readonly node: string;
  readonly clActive: number;
  readonly clWaiting: number;
  readonly svActive: number;
  readonly svIdle: number;
  readonly svTotal: number;
  readonly poolSize: number;
  readonly mode: string;
  readonly lends: number;
  readonly waits: number;
  readonly waitMs: number;
  readonly timeouts: number;
  readonly connectFailures: number;
}

/** What status reports of the router. */
export interface RouterProbe {
  readonly listen: string;
  readonly state: "listening" | "down";
  readonly mode: string;
  readonly metrics: string | null;
  /** Clients by state (SHOW CLIENTS), without the console connection asking. */
  readonly clients: Record<string, number> | null;
  /** Server connections by state (SHOW SERVERS). */
  readonly servers: Record<string, number> | null;
  readonly pools: RouterPool[] | null;
  readonly error: string | null;
}

/**
 * The console login: a role named like a node's admin user when one is declared, else the
 * first declared role whose password can be read (the console accepts any declared role).
 */
export function consoleLogin(t: Topology): ConsoleLogin | undefined {
  const roles = [...t.roles.values()];
  const admins = new Set([...t.nodes.values()].map((n) => n.admin.user));
  const ordered = [...roles.filter((r) => admins.has(r.name)), ...roles];
  for (const role of ordered) {
    try {
      return { user: role.name, password: secretValue(t, role.password) };
    } catch {
      // An unset environment variable or unreadable file: try the next role.
    }
  }
  return undefined;
}

/** A client of the router at router.listen (plain TCP; the router accepts it with or without TLS). */
export async function connectRouter(
  t: Topology,
  database: string,
  login: ConsoleLogin,
  timeoutMs = 5000,
): Promise<pg.Client> {
  const r = t.router!;
  const client = new pg.Client({
    host: r.host,
    port: r.port,
    database,
    user: login.user,
    password: login.password,
    application_name: "dbmesh",
    connectionTimeoutMillis: timeoutMs,
  });
  client.on("error", () => {});
  try {
    await client.connect();
    return client;
  } catch (e) {
    await client.end().catch(() => {});
    throw e;
  }
}

/** Rows of one SHOW command on the console, by column name, every value as text. */
export async function showOnConsole(
  client: pg.Client,
  what: "pools" | "stats" | "clients" | "servers",
): Promise<Record<string, string | null>[]> {
  const r = await client.query({
    text: `SHOW ${what.toUpperCase()}`,
    types: { getTypeParser: () => (v: string) => v },
  } as pg.QueryConfig);
  return r.rows as Record<string, string | null>[];
}

/** GET http://host:port/path: status code and body. */
export function httpGet(
  host: string,
  port: number,
  path: string,
  timeoutMs = 3000,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, method: "GET", timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        body += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.on("timeout", () =>
      req.destroy(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })),
    );
    req.on("error", reject);
    req.end();
  });
}

function countBy(rows: Record<string, string | null>[], column: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const row of rows) {
    const k = row[column] ?? "";
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

/** The router of `t` (which has a router section): listening or not, and its console's view. */
export async function probeRouter(t: Topology): Promise<RouterProbe> {
  const r = t.router!;
  const base = {
    listen: `${r.host}:${r.port}`,
    mode: r.mode,
    metrics: r.metrics ? `${r.metrics.host}:${r.metrics.port}` : null,
  };
  try {
    await tcpConnect(r.host, r.port);
  } catch (e) {
    const code = (e as { code?: string }).code ?? (e as Error).message;
    return {
      ...base,
      state: "down",
      clients: null,
      servers: null,
      pools: null,
      error: `nothing listens on ${base.listen} (${code}): start it with dbmesh serve -f ${t.file}`,
    };
  }
  const login = consoleLogin(t);
  if (login === undefined) {
    return {
      ...base,
      state: "listening",
      clients: null,
      servers: null,
      pools: null,
      error: "no declared role with a readable password to log in to the admin console",
    };
  }
  let client: pg.Client | undefined;
  try {
    client = await connectRouter(t, ROUTER_CONSOLE_DATABASE, login);
    const pools = await showOnConsole(client, "pools");
    const stats = await showOnConsole(client, "stats");
    const clients = await showOnConsole(client, "clients");
    const servers = await showOnConsole(client, "servers");
    const key = (row: Record<string, string | null>) => `${row.database}\0${row.user}\0${row.node}`;
    const statsBy = new Map(stats.map((s) => [key(s), s]));
    const n = (v: string | null | undefined) => Number(v ?? 0);
    // The console session asking is one idle admin client: not counted.
    const byState = countBy(
      clients.filter(
        (c) => c.database !== ROUTER_CONSOLE_DATABASE || c.application_name !== "dbmesh",
      ),
      "state",
    );
    return {
      ...base,
      state: "listening",
      clients: byState,
      servers: countBy(servers, "state"),
      pools: pools.map((p) => {
        const s = statsBy.get(key(p));
        return {
          database: p.database ?? "",
          user: p.user ?? "",
          node: p.node ?? "",
          clActive: n(p.cl_active),
          clWaiting: n(p.cl_waiting),
          svActive: n(p.sv_active),
          svIdle: n(p.sv_idle),
          svTotal: n(p.sv_total),
          poolSize: n(p.pool_size),
          mode: p.pool_mode ?? "",
          lends: n(s?.total_lends),
          waits: n(s?.total_waits),
          waitMs: n(s?.total_wait_ms),
          timeouts: n(s?.total_timeouts),
          connectFailures: n(s?.total_connect_failures),
        };
      }),
      error: null,
    };
  } catch (e) {
    return {
      ...base,
      state: "listening",
      clients: null,
      servers: null,
      pools: null,
      error: `admin console (database ${ROUTER_CONSOLE_DATABASE} as ${login.user}): ${(e as Error).message}`,
    };
  } finally {
    await client?.end().catch(() => {});
  }
}

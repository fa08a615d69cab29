// The admin console: clients that connect to the database `dbmesh` talk to the router itself.
// Simple-protocol SHOW commands answer like PgBouncer's, every column as text. It is read-only
// statistics (no passwords, no statement text), so any declared role may log in to it; anything
// but SHOW gets 0A000, and nothing it accepts changes the router.
import type { ClientSession } from "./client-session.js";
import { errorMessage, type RouterError, routerErrors } from "./errors.js";
import type { Pool } from "./pool.js";
import type { Routing } from "./route.js";
import type { RouterConfig } from "./router-config.js";
import { commandComplete, dataRow, rowDescription } from "./wire.js";

/** What the console reads from the running router. */
export interface AdminView {
  readonly config: RouterConfig;
  readonly routing?: Routing | undefined;
  pools(): Iterable<Pool>;
  clients(): Iterable<ClientSession>;
}

type Table = { columns: readonly string[]; rows: (string | null)[][] };

const commands: Record<string, (view: AdminView) => Table> = {
  pools: (view) => ({
    columns: [
      "database",
      "user",
      "node",
      "cl_active",
      "cl_waiting",
      "sv_active",
      "sv_idle",
      "sv_total",
      "pool_size",
      "pool_mode",
    ],
    rows: [...view.pools()].map((p) => {
      let active = 0;
      for (const c of view.clients()) if (c.serverPool === p) active++;
      return [
        p.database,
        p.role,
        p.node,
        String(active),
        String(p.waiting),
        String(p.active),
        String(p.idle.length),
        String(p.all.size),
        String(view.config.poolSize),
        view.config.mode,
      ];
    }),
  }),
  servers: (view) => {
    const users = new Map<unknown, ClientSession>();
    for (const c of view.clients()) if (c.server) users.set(c.server, c);
    const rows: (string | null)[][] = [];
    for (const p of view.pools()) {
      for (const s of p.all) {
        const client = users.get(s);
        const state =
          s.state === "connecting"
            ? "login"
            : client
              ? "active"
              : s.state === "ready"
                ? "idle"
                : s.state;
        rows.push([
          p.role,
          p.database,
          p.node,
          state,
          s.target.host,
          String(s.target.port),
          new Date(s.createdAt).toISOString(),
          String(s.pid),
          client ? String(client.id) : null,
          String(s.prepared.size),
        ]);
      }
    }
    return {
      columns: [
        "user",
        "database",
        "node",
        "state",
        "addr",
        "port",
        "connect_time",
        "remote_pid",
        "client",
        "prepared_statements",
      ],
      rows,
    };
  },
  clients: (view) => ({
    columns: [
      "id",
      "user",
      "database",
      "state",
      "addr",
      "port",
      "connect_time",
      "application_name",
      "node",
      "remote_pid",
      "route",
      "pinned",
    ],
    rows: [...view.clients()].map((c) => [
      String(c.id),
      c.user,
      c.databaseKey,
      c.waitingPool || c.waitingForReplay
        ? "waiting"
        : c.server
          ? "active"
          : c.state === "ready" || c.state === "admin"
            ? "idle"
            : c.state,
      c.address,
      String(c.port),
      new Date(c.connectedAt).toISOString(),
      c.applicationName,
      c.server?.target.node ?? null,
      c.server ? String(c.server.pid) : null,
      c.route,
      c.pinnedReason ?? null,
    ]),
  }),
  nodes: (view) => ({
    columns: ["node", "role", "state", "lag_bytes", "replay_lsn", "capacity", "detail"],
    rows: (view.routing?.nodes?.() ?? []).map((n) => [
      n.node,
      n.role,
      n.state,
      n.lagBytes === null ? null : String(n.lagBytes),
      n.replayLsn,
      String(n.capacity),
      n.detail,
    ]),
  }),
  stats: (view) => ({
    columns: [
      "database",
      "user",
      "node",
      "total_lends",
      "total_waits",
      "total_wait_ms",
      "total_timeouts",
      "total_connect_failures",
    ],
    rows: [...view.pools()].map((p) => [
      p.database,
      p.role,
      p.node,
      String(p.stats.lends),
      String(p.stats.waits),
      String(p.stats.waitMs),
      String(p.stats.timeouts),
      String(p.stats.connectFailures),
    ]),
  }),
};

/**
 * The messages answering one Query on the console (without the ReadyForQuery); `failed` hears
 * of the error sent instead of an answer.
 */
export function adminAnswer(
  view: AdminView,
  sql: string,
  failed?: (e: RouterError) => void,
): Buffer[] {
  const m = /^\s*show\s+(\w+)\s*;?\s*$/i.exec(sql);
  const command = m && commands[m[1]!.toLowerCase()];
  if (!command) {
    const text = sql.trim();
    const e = /^show\b/i.test(text)
      ? routerErrors.adminSyntax(text)
      : routerErrors.adminReadOnly(text);
    failed?.(e);
    return [errorMessage(e)];
  }
  const { columns, rows } = command(view);
  return [rowDescription(columns), ...rows.map(dataRow), commandComplete("SHOW")];
}

/** ParameterStatus values the console reports at login. */
export const adminParameters: ReadonlyMap<string, string> = new Map([
  ["server_version", "17.0 (dbmesh router)"],
  ["server_encoding", "UTF8"],
  ["client_encoding", "UTF8"],
  ["DateStyle", "ISO, MDY"],
  ["integer_datetimes", "on"],
  ["standard_conforming_strings", "on"],
  ["TimeZone", "UTC"],
  ["application_name", ""],
]);

// Prometheus metrics over HTTP: GET /metrics in the text exposition format 0.0.4, GET /health.
// https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { parserReplacements } from "./classify/parser.js";
import type { ClientSession } from "./client-session.js";
import type { Pool } from "./pool.js";
import type { RouterConfig } from "./router-config.js";
import type { Histogram, RouterStats } from "./stats.js";

/** What the metrics endpoint reads from the running router. */
export interface MetricsView {
  readonly config: RouterConfig;
  readonly stats: RouterStats;
  pools(): Iterable<Pool>;
  clients(): Iterable<ClientSession>;
}

export interface MetricsServer {
  /** The bound address (the port is the real one when 0 was asked for). */
  readonly address: { readonly host: string; readonly port: number };
  close(): Promise<void>;
}

/** Why the metrics endpoint did not start, with the address and what to do. */
export class MetricsListenError extends Error {
  readonly kind = "metrics-listen";
  constructor(
    readonly host: string,
    readonly port: number,
    readonly code: string,
    readonly hint: string,
  ) {
    super(`cannot serve metrics on ${host}:${port}: ${code}`);
  }
}

const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Serves GET /metrics and GET /health on `address` (router.metrics). */
export function startMetrics(
  view: MetricsView,
  address: { readonly host: string; readonly port: number },
): Promise<MetricsServer> {
  const { host, port } = address;
  const server = createServer((req, res) => answer(view, req, res));
  // A scrape is one short request; idle keep-alive sockets must not hold up stop().
  server.keepAliveTimeout = 5_000;
  return new Promise((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) => {
      const code = e.code ?? e.message;
      reject(
        new MetricsListenError(
          host,
          port,
          code === "EADDRINUSE" ? "the address is already in use" : code,
          code === "EADDRINUSE"
            ? `stop what listens on ${host}:${port} (a dbmesh serve already running?) or change router.metrics in the topology file`
            : `check router.metrics (${host}:${port}) in the topology file`,
        ),
      );
    });
    server.listen({ host, port }, () => {
      server.removeAllListeners("error");
      server.on("error", () => {});
      const bound = server.address();
      resolve({
        address:
          typeof bound === "object" && bound ? { host: bound.address, port: bound.port } : address,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

function answer(view: MetricsView, req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? "/").split("?")[0];
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" }).end("GET only\n");
    return;
  }
  if (path === "/health") {
    res.writeHead(200, { "content-type": "text/plain" }).end(req.method === "HEAD" ? "" : "ok");
    return;
  }
  if (path !== "/metrics") {
    res.writeHead(404, { "content-type": "text/plain" }).end("try /metrics or /health\n");
    return;
  }
  let body: string;
  try {
    body = renderMetrics(view);
  } catch (e) {
    res.writeHead(500, { "content-type": "text/plain" }).end(`${(e as Error).message}\n`);
    return;
  }
  res.writeHead(200, { "content-type": METRICS_CONTENT_TYPE });
  res.end(req.method === "HEAD" ? "" : body);
}

type Labels = Readonly<Record<string, string>>;

/** Metric families in the order they were declared, each with its samples. */
class Exposition {
  private readonly families = new Map<string, { head: string; lines: string[] }>();

  family(name: string, type: "counter" | "gauge" | "histogram", help: string): void {
    this.families.set(name, {
      head: `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`,
      lines: [],
    });
  }

  /** One sample of `family`; `suffix` for histogram series (_bucket, _sum, _count). */
  sample(family: string, labels: Labels, value: number, suffix = ""): void {
    const f = this.families.get(family);
    if (f === undefined) throw new Error(`metric ${family} was not declared`);
    f.lines.push(`${family}${suffix}${formatLabels(labels)} ${formatValue(value)}\n`);
  }

  histogram(family: string, labels: Labels, h: Histogram): void {
    let cumulative = 0;
    for (let i = 0; i < h.counts.length; i++) {
      cumulative += h.counts[i]!;
      const le = i < h.bounds.length ? formatValue(h.bounds[i]!) : "+Inf";
      this.sample(family, { ...labels, le }, cumulative, "_bucket");
    }
    this.sample(family, labels, h.sum, "_sum");
    this.sample(family, labels, h.count, "_count");
  }

  toString(): string {
    let out = "";
    for (const f of this.families.values()) out += f.head + f.lines.join("");
    return out;
  }
}

/** A label value: backslash, double quote and line feed escaped. */
function escapeLabelValue(v: string): string {
  return v.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
}

function escapeHelp(v: string): string {
  return v.replace(/[\\\n]/g, (c) => (c === "\n" ? "\\n" : "\\\\"));
}

function formatLabels(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

/** "X/Y" (two hex halves of a 64-bit LSN) as a number of bytes; NaN when malformed. */
export function lsnBytes(lsn: string): number {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(lsn);
  return m ? Number.parseInt(m[1]!, 16) * 2 ** 32 + Number.parseInt(m[2]!, 16) : Number.NaN;
}

function clientState(c: ClientSession): string {
  if (c.waitingPool) return "waiting";
  if (c.server) return "active";
  if (c.state === "ready" || c.state === "admin") return "idle";
  return c.state === "closed" ? "closed" : "login";
}

/** The whole exposition for one scrape. */
export function renderMetrics(view: MetricsView): string {
  const x = new Exposition();
  const { stats, config } = view;
  const pools = [...view.pools()];

  x.family(
    "dbmesh_router_client_connections",
    "gauge",
    "Client connections by database, role and state (active: has a server connection; waiting: queued in a pool; idle; login)",
  );
  const clients = new Map<string, { labels: Labels; n: number }>();
  let clientIn = stats.closedClientBytes.received;
  let clientOut = stats.closedClientBytes.sent;
  for (const c of view.clients()) {
    clientIn += c.socket.bytesRead;
    clientOut += c.socket.bytesWritten;
    const labels = { database: c.databaseKey, role: c.user, state: clientState(c) };
    const key = `${labels.database}\0${labels.role}\0${labels.state}`;
    const entry = clients.get(key);
    if (entry) entry.n++;
    else clients.set(key, { labels, n: 1 });
  }
  for (const { labels, n } of clients.values()) {
    x.sample("dbmesh_router_client_connections", labels, n);
  }

  x.family(
    "dbmesh_router_server_connections",
    "gauge",
    "Server connections by node, database, role and state (active: lent to a client; idle; login)",
  );
  let serverIn = stats.closedServerBytes.received;
  let serverOut = stats.closedServerBytes.sent;
  for (const p of pools) {
    const base = { node: p.node, database: p.database, role: p.role };
    const active = p.active;
    const idle = p.idle.length;
    x.sample("dbmesh_router_server_connections", { ...base, state: "active" }, active);
    x.sample("dbmesh_router_server_connections", { ...base, state: "idle" }, idle);
    x.sample(
      "dbmesh_router_server_connections",
      { ...base, state: "login" },
      p.all.size - active - idle,
    );
    for (const s of p.all) {
      serverIn += s.socket.bytesRead;
      serverOut += s.socket.bytesWritten;
    }
  }

  x.family("dbmesh_router_pool_size", "gauge", "Largest number of server connections per pool");
  x.family("dbmesh_router_pool_lends_total", "counter", "Server connections lent to clients");
  x.family(
    "dbmesh_router_queue_waits_total",
    "counter",
    "Clients that queued for a server connection",
  );
  x.family(
    "dbmesh_router_queue_wait_seconds",
    "histogram",
    "Seconds a queued client waited for a server connection (or until it timed out or left)",
  );
  x.family(
    "dbmesh_router_pool_timeouts_total",
    "counter",
    "Clients whose queue wait reached router.queueTimeout (pool exhausted, 53300)",
  );
  x.family(
    "dbmesh_router_server_connect_failures_total",
    "counter",
    "Server logins that failed (node down or login refused)",
  );
  for (const p of pools) {
    const labels = { node: p.node, database: p.database, role: p.role };
    x.sample("dbmesh_router_pool_size", labels, config.poolSize);
    x.sample("dbmesh_router_pool_lends_total", labels, p.stats.lends);
    x.sample("dbmesh_router_queue_waits_total", labels, p.stats.waits);
    x.histogram("dbmesh_router_queue_wait_seconds", labels, p.waitSeconds);
    x.sample("dbmesh_router_pool_timeouts_total", labels, p.stats.timeouts);
    x.sample("dbmesh_router_server_connect_failures_total", labels, p.stats.connectFailures);
  }

  x.family(
    "dbmesh_router_queries_total",
    "counter",
    "Units of work (Query messages and Syncs) answered, by route (primary or standby) and node",
  );
  x.family(
    "dbmesh_router_transactions_total",
    "counter",
    "Units of work that ended outside a transaction block (a commit, a rollback or an implicit transaction), by route and node",
  );
  for (const [node, byRoute] of stats.units) {
    for (const route of ["primary", "standby"] as const) {
      const c = byRoute[route];
      if (c.units === 0 && c.transactions === 0) continue;
      x.sample("dbmesh_router_queries_total", { route, node }, c.units);
      x.sample("dbmesh_router_transactions_total", { route, node }, c.transactions);
    }
  }

  x.family(
    "dbmesh_router_errors_total",
    "counter",
    "ErrorResponses clients received, by source (server: forwarded from a node; router: the router's own) and SQLSTATE class",
  );
  for (const [key, n] of stats.errors) {
    const [source = "", cls = ""] = key.split(" ");
    x.sample("dbmesh_router_errors_total", { source, class: cls }, n);
  }

  x.family(
    "dbmesh_router_cancel_requests_total",
    "counter",
    "CancelRequests from clients, by result (forwarded to the node running the query, or ignored: unknown key or nothing running)",
  );
  x.sample("dbmesh_router_cancel_requests_total", { result: "forwarded" }, stats.cancels.forwarded);
  x.sample("dbmesh_router_cancel_requests_total", { result: "ignored" }, stats.cancels.ignored);

  x.family("dbmesh_router_client_bytes_total", "counter", "Bytes on client connections");
  x.sample("dbmesh_router_client_bytes_total", { direction: "received" }, clientIn);
  x.sample("dbmesh_router_client_bytes_total", { direction: "sent" }, clientOut);
  x.family("dbmesh_router_server_bytes_total", "counter", "Bytes on server connections");
  x.sample("dbmesh_router_server_bytes_total", { direction: "received" }, serverIn);
  x.sample("dbmesh_router_server_bytes_total", { direction: "sent" }, serverOut);

  x.family(
    "dbmesh_router_parser_replacements_total",
    "counter",
    "SQL parser instances replaced after an abnormal failure inside the parser",
  );
  x.sample("dbmesh_router_parser_replacements_total", {}, parserReplacements());

  const health = stats.nodeHealth?.();
  if (health !== undefined) {
    x.family(
      "dbmesh_router_node_state",
      "gauge",
      "1 for the state the health checker last saw each node in",
    );
    x.family("dbmesh_router_node_lag_bytes", "gauge", "Replay lag behind the primary in bytes");
    x.family(
      "dbmesh_router_node_replay_lsn_bytes",
      "gauge",
      "Last replayed WAL position (the current one on a primary), as a byte offset",
    );
    for (const h of health) {
      const node = h.node;
      x.sample("dbmesh_router_node_state", { node, state: h.state }, 1);
      if (h.lagBytes !== null) x.sample("dbmesh_router_node_lag_bytes", { node }, h.lagBytes);
      if (h.replayLsn !== null) {
        const at = lsnBytes(h.replayLsn);
        if (!Number.isNaN(at)) x.sample("dbmesh_router_node_replay_lsn_bytes", { node }, at);
      }
    }
  }
  return x.toString();
}

import type { Server } from "node:net";
import { createSecureContext, type SecureContext } from "node:tls";
import { adminAnswer, adminParameters } from "./admin-console.js";
import { sendCancel } from "./cancel-request.js";
import { ClientSession } from "./client-session.js";
import { routerErrors } from "./errors.js";
import { listen } from "./listener.js";
import { type MetricsServer, startMetrics } from "./metrics.js";
import { Pool } from "./pool.js";
import type { Routing } from "./route.js";
import type { RoutedDatabase, RouterConfig } from "./router-config.js";
import { DEFAULT_MAX_PREPARED_STATEMENTS, StatementRegistry } from "./statements.js";
import { RouterStats } from "./stats.js";

export interface RouterOptions {
  /** Where each unit of work runs; without one, the group's current primary. */
  readonly routing?: Routing;
  /** Where the router logs (never passwords); stderr by default. */
  readonly log?: (line: string) => void;
  /** Seconds an unused server connection stays open; default 300. */
  readonly serverIdleTimeout?: number;
  /** Where to serve Prometheus metrics (GET /metrics, GET /health): router.metrics in the file. */
  readonly metrics?: { readonly host: string; readonly port: number };
  /**
   * Named statements kept prepared on each server connection (transaction mode); the least
   * recently used beyond it are deallocated when the connection is idle. Default 200.
   */
  readonly maxPreparedStatements?: number;
  /** Distinct statement texts the router keeps names for; default 10000. */
  readonly statementRegistrySize?: number;
  /**
   * Seconds a client may leave a message half sent (no more bytes of it arriving) before it
   * gets 08P01 and is closed; default 60, as PostgreSQL's authentication_timeout.
   */
  readonly messageTimeout?: number;
}

/** The wire-protocol router: a listener, client sessions, and pools of server connections. */
export class Router {
  config: RouterConfig;
  readonly routing: Routing | undefined;
  readonly statements: StatementRegistry;
  /** RouterOptions.maxPreparedStatements. */
  readonly maxPreparedStatements: number;
  /** RouterOptions.messageTimeout, in milliseconds. */
  readonly messageTimeoutMs: number;
  /** Counters for the metrics endpoint; node health comes from the routing's health checks. */
  readonly stats = new RouterStats(() => this.config);
  tlsContext: SecureContext | undefined;
  private readonly sessions = new Set<ClientSession>();
  private readonly byPid = new Map<number, ClientSession>();
  private readonly poolsByKey = new Map<string, Pool>();
  private readonly logLine: (line: string) => void;
  private readonly idleMs: number;
  private listener: Server | undefined;
  private reaper: NodeJS.Timeout | undefined;
  private readonly metricsAddress: RouterOptions["metrics"];
  private metrics: MetricsServer | undefined;
  // Fake backend pids start high so they are not mistaken for the servers' own.
  private pidCounter = 0x40000000 + Math.floor(Math.random() * 0x10000000);

  constructor(config: RouterConfig, options: RouterOptions = {}) {
    this.config = config;
    this.routing = options.routing;
    const nodes = this.routing?.nodes?.bind(this.routing);
    if (nodes) this.stats.nodeHealth = nodes;
    this.logLine = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.idleMs = (options.serverIdleTimeout ?? 300) * 1000;
    this.statements = new StatementRegistry(options.statementRegistrySize);
    this.messageTimeoutMs = (options.messageTimeout ?? 60) * 1000;
    this.maxPreparedStatements = Math.max(
      1,
      options.maxPreparedStatements ?? DEFAULT_MAX_PREPARED_STATEMENTS,
    );
    this.tlsContext = tlsContext(config);
    this.metricsAddress = options.metrics;
  }

  /** Starts listening on router.listen; returns the bound address. */
  async start(): Promise<{ host: string; port: number }> {
    const { host, port } = this.config.listen;
    // Health known before the first client: which node is primary, which are fenced.
    await this.routing?.start?.(this);
    this.listener = await listen(host, port, (socket) => {
      const session = new ClientSession(this, socket);
      this.sessions.add(session);
      this.byPid.set(session.pid, session);
    });
    if (this.metricsAddress) {
      try {
        this.metrics = await startMetrics(this, this.metricsAddress);
      } catch (e) {
        this.listener.close();
        throw e;
      }
    }
    this.reaper = setInterval(
      () => {
        const now = Date.now();
        for (const p of this.poolsByKey.values()) p.reap(now, this.idleMs);
      },
      Math.min(this.idleMs, 10_000),
    );
    this.reaper.unref();
    const address = this.listener.address();
    return typeof address === "object" && address
      ? { host: address.address, port: address.port }
      : { host, port };
  }

  /**
   * A new configuration (SIGHUP, promotion): new logins and new server connections use it;
   * clients stay connected.
   */
  reload(config: RouterConfig): void {
    this.config = config;
    this.tlsContext = tlsContext(config);
    this.routing?.reload?.(config);
    for (const p of this.poolsByKey.values()) {
      p.configure({ size: config.poolSize, queueTimeoutMs: config.queueTimeoutMs });
    }
  }

  /** Stops listening, tells every client the router is shutting down (57P01), closes servers. */
  async stop(): Promise<void> {
    clearInterval(this.reaper);
    const metricsClosed = this.metrics?.close();
    const closed = new Promise<void>((resolve) =>
      this.listener ? this.listener.close(() => resolve()) : resolve(),
    );
    for (const s of [...this.sessions]) s.fatal(routerErrors.adminShutdown());
    for (const p of this.poolsByKey.values()) p.closeAll(routerErrors.adminShutdown());
    await closed;
    await this.routing?.stop?.();
    await metricsClosed;
  }

  /** Where GET /metrics answers, once started with options.metrics. */
  metricsBound(): { readonly host: string; readonly port: number } | undefined {
    return this.metrics?.address;
  }

  log(line: string): void {
    this.logLine(line);
  }

  nextPid(): number {
    this.pidCounter = (this.pidCounter + 1) & 0x7fffffff;
    return this.pidCounter;
  }

  forget(session: ClientSession): void {
    if (this.sessions.delete(session)) this.stats.clientClosed(session.socket);
    if (this.byPid.get(session.pid) === session) this.byPid.delete(session.pid);
  }

  /** The pool of `node` for a database and role, made on first use. */
  pool(node: string, database: RoutedDatabase, role: string): Pool {
    const key = `${node}\0${database.name}\0${role}`;
    let pool = this.poolsByKey.get(key);
    if (pool === undefined) {
      const first = this.config;
      pool = new Pool(
        `${node}/${database.name}/${role}`,
        node,
        database.name,
        role,
        () => {
          // The current address and password; the first ones if a reload removed them.
          const n = this.config.nodes.get(node) ?? first.nodes.get(node)!;
          const r = this.config.roles.get(role) ?? first.roles.get(role)!;
          return {
            node,
            host: n.host,
            port: n.port,
            database: database.name,
            user: role,
            password: r.password,
            tls: this.config.nodeTls,
          };
        },
        { size: first.poolSize, queueTimeoutMs: first.queueTimeoutMs },
        this.stats,
      );
      this.poolsByKey.set(key, pool);
    }
    return pool;
  }

  pools(): Iterable<Pool> {
    return this.poolsByKey.values();
  }

  clients(): Iterable<ClientSession> {
    return this.sessions;
  }

  /**
   * A CancelRequest quoting a client's fake BackendKeyData: forwarded to the server running
   * that client's query, if any. Anything else is ignored, as PostgreSQL does.
   * https://www.postgresql.org/docs/17/protocol-flow.html#PROTOCOL-FLOW-CANCELING-REQUESTS
   */
  cancel(pid: number, key: number): void {
    const session = this.byPid.get(pid);
    const server = session?.server;
    if (!session || session.key !== key || !server || server.pid === 0) {
      this.stats.cancels.ignored++;
      return;
    }
    this.stats.cancels.forwarded++;
    const target = server.target;
    sendCancel(target, server.pid, server.key, (why) =>
      this.log(`cancel request for client ${pid} not sent to node ${target.node}: ${why}`),
    );
  }

  /** The admin console's answer to one Query. */
  admin(sql: string): Buffer[] {
    return adminAnswer(this, sql, (e) => this.stats.recordError(e.code, "router"));
  }

  adminParameters(): ReadonlyMap<string, string> {
    return adminParameters;
  }
}

function tlsContext(config: RouterConfig): SecureContext | undefined {
  return config.tls
    ? createSecureContext({ cert: config.tls.cert, key: config.tls.key })
    : undefined;
}

import { type RouterError, routerErrors } from "./errors.js";
import { type ConnectFailure, ServerConnection, type ServerTarget } from "./server-connection.js";
import { Histogram, QUEUE_WAIT_BUCKETS, type RouterStats } from "./stats.js";

/** A client waiting for a server connection. */
export interface PoolWaiter {
  /** The pool lends it `server` (already logged in, idle). */
  granted(server: ServerConnection): void;
  /** No server connection: the pool's queue timed out or the node refused the login. */
  refused(failure: RouterError | ConnectFailure): void;
  /** Set by the pool while the waiter is queued. */
  waitTimer: NodeJS.Timeout | undefined;
}

export interface PoolSettings {
  readonly size: number;
  readonly queueTimeoutMs: number;
}

/** Counters for SHOW STATS. */
export interface PoolStats {
  /** Server connections lent (transactions in transaction mode, sessions in session mode). */
  lends: number;
  /** Clients that had to queue. */
  waits: number;
  /** Clients whose wait timed out. */
  timeouts: number;
  /** Milliseconds spent waiting, summed. */
  waitMs: number;
  /** Server logins that failed. */
  connectFailures: number;
}

/**
 * The server connections of one node, database and role: at most `size`, lent to one client at
 * a time. Clients that find none free queue in arrival order until one is returned or opened,
 * or until the queue timeout.
 */
export class Pool {
  /** Idle connections; the most recently used is lent first (its caches are warm). */
  readonly idle: ServerConnection[] = [];
  /** Every open or opening connection. */
  readonly all = new Set<ServerConnection>();
  readonly stats: PoolStats = { lends: 0, waits: 0, timeouts: 0, waitMs: 0, connectFailures: 0 };
  /** Seconds each queued client waited, for the metrics endpoint. */
  readonly waitSeconds = new Histogram(QUEUE_WAIT_BUCKETS);
  /** Reported parameters of the first connection, for clients logging in without one. */
  serverParams: ReadonlyMap<string, string> | undefined;
  private readonly waiters: PoolWaiter[] = [];
  private readonly waitStart = new Map<PoolWaiter, number>();
  private opening = 0;
  private closedForGood = false;

  constructor(
    /** "node/database/role", as messages name the pool. */
    readonly name: string,
    readonly node: string,
    readonly database: string,
    readonly role: string,
    /** Where to log in, read at each new connection so reloads apply. */
    private readonly target: () => ServerTarget,
    private settings: PoolSettings,
    /** Router-wide counters: errors clients receive, units of work, bytes of closed servers. */
    private readonly routerStats?: RouterStats,
  ) {}

  get waiting(): number {
    return this.waiters.length;
  }

  get active(): number {
    return this.all.size - this.idle.length - this.opening;
  }

  /** New size and queue timeout (reload); extra connections close as they come back. */
  configure(settings: PoolSettings): void {
    this.settings = settings;
  }

  /** An idle connection, or undefined: then call wait(). */
  take(): ServerConnection | undefined {
    const server = this.idle.pop();
    if (server !== undefined) this.stats.lends++;
    return server;
  }

  /** Queues `waiter`; opens a connection if the pool is below its size. */
  wait(waiter: PoolWaiter): void {
    this.stats.waits++;
    this.waiters.push(waiter);
    this.waitStart.set(waiter, Date.now());
    const ms = this.settings.queueTimeoutMs;
    waiter.waitTimer = setTimeout(() => {
      if (!this.dequeue(waiter)) return;
      this.stats.timeouts++;
      this.routerStats?.recordError("53300", "router");
      waiter.refused(routerErrors.poolTimeout(this.name, ms / 1000, this.settings.size));
    }, ms);
    this.grow();
  }

  /** Removes a waiter that went away; true when it was queued. */
  dequeue(waiter: PoolWaiter): boolean {
    const i = this.waiters.indexOf(waiter);
    if (i === -1) return false;
    this.waiters.splice(i, 1);
    this.stopWaiting(waiter);
    return true;
  }

  /** Takes back a connection that is idle outside a transaction. */
  release(server: ServerConnection): void {
    server.owner = undefined;
    if (server.state !== "ready" || !server.reusable || this.all.size > this.settings.size) {
      server.close();
      this.grow();
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      this.stopWaiting(waiter);
      this.stats.lends++;
      waiter.granted(server);
      return;
    }
    server.idleSince = Date.now();
    this.idle.push(server);
  }

  /** Closes idle connections unused for `idleMs`. */
  reap(now: number, idleMs: number): void {
    while (this.idle.length > 0 && now - this.idle[0]!.idleSince > idleMs) {
      this.idle.shift()!.close();
    }
  }

  /** Closes every connection and refuses the waiters (router stopping). */
  closeAll(reason: RouterError): void {
    this.closedForGood = true;
    for (const w of this.waiters.splice(0)) {
      this.stopWaiting(w);
      w.refused(reason);
    }
    for (const s of [...this.all]) s.close();
    this.idle.length = 0;
  }

  private stopWaiting(waiter: PoolWaiter): void {
    clearTimeout(waiter.waitTimer);
    waiter.waitTimer = undefined;
    const since = this.waitStart.get(waiter);
    if (since !== undefined) {
      const ms = Date.now() - since;
      this.stats.waitMs += ms;
      this.waitSeconds.observe(ms / 1000);
    }
    this.waitStart.delete(waiter);
  }

  /** Opens connections while clients wait and there is room. */
  private grow(): void {
    while (
      !this.closedForGood &&
      this.waiters.length > this.opening &&
      this.all.size < this.settings.size
    ) {
      this.open();
    }
  }

  private open(): void {
    const server = new ServerConnection(this.target(), (s) => this.forget(s), this.routerStats);
    this.all.add(server);
    this.opening++;
    server.open(Math.max(this.settings.queueTimeoutMs, 1000), (failure) => {
      this.opening--;
      if (failure !== undefined) {
        this.stats.connectFailures++;
        // One waiter learns why; the others keep waiting for the next attempt or their timeout.
        const waiter = this.waiters.shift();
        if (waiter !== undefined) {
          this.stopWaiting(waiter);
          this.routerStats?.recordError(
            failure.kind === "server" ? failure.fields.code || "XX000" : "08001",
            failure.kind === "server" ? "server" : "router",
          );
          waiter.refused(failure.kind === "tls" ? routerErrors.nodeTls(failure.message) : failure);
        }
        return;
      }
      this.serverParams ??= new Map(server.params);
      this.release(server);
    });
  }

  private forget(server: ServerConnection): void {
    this.all.delete(server);
    this.routerStats?.serverClosed(server.socket);
    const i = this.idle.indexOf(server);
    if (i !== -1) this.idle.splice(i, 1);
    // Room for another connection if clients wait (a broken one was dropped).
    queueMicrotask(() => this.grow());
  }
}

// The router's health checker: every router.healthInterval seconds each node of each routed
// replication group answers one query over its own connection (as the database owner role).
// From the answers it derives, per group, which node is the primary now, which standbys may
// serve reads (reachable, replaying, within their lag bound) and which nodes are fenced (a
// writable node that is not the group's current primary, or a node of another system).
// Routing reads plain fields of NodeHealth: nothing here runs per message.
import pg from "pg";
import { connectNode } from "./node-tls.js";
import type { NodeReport, RoutingHost } from "./route.js";
import type { RoutedDatabase, RoutedNode, RouterConfig } from "./router-config.js";

/**
 * One round trip. pg_control_system() and the WAL functions are executable by any role.
 * Lag in seconds is the age of the last replayed transaction only while the standby has
 * received WAL it has not replayed: an idle primary sends nothing, and a caught-up standby
 * is not late. https://www.postgresql.org/docs/17/functions-admin.html#FUNCTIONS-RECOVERY-CONTROL
 */
const HEALTH_SQL = `SELECT pg_catalog.pg_is_in_recovery() AS recovery,
  (SELECT system_identifier FROM pg_catalog.pg_control_system())::text AS system,
  CASE WHEN pg_catalog.pg_is_in_recovery()
    THEN (SELECT timeline_id FROM pg_catalog.pg_control_checkpoint())
    ELSE ('x' || substr(pg_catalog.pg_walfile_name(pg_catalog.pg_current_wal_lsn()), 1, 8))::bit(32)::int
  END AS timeline,
  CASE WHEN pg_catalog.pg_is_in_recovery() THEN pg_catalog.pg_last_wal_replay_lsn()
    ELSE pg_catalog.pg_current_wal_lsn() END::text AS lsn,
  CASE WHEN pg_catalog.pg_is_in_recovery()
    AND pg_catalog.pg_last_wal_receive_lsn() > pg_catalog.pg_last_wal_replay_lsn()
    THEN extract(epoch FROM now() - pg_catalog.pg_last_xact_replay_timestamp())::float8
    ELSE 0 END AS lag_seconds`;

/**
 * A standby's replay position alone, for read-your-writes between health checks. NULL once the
 * node left recovery (promoted): its position no longer says what a standby replayed.
 */
const REPLAY_LSN_SQL = `SELECT CASE WHEN pg_catalog.pg_is_in_recovery()
  THEN pg_catalog.pg_last_wal_replay_lsn() END::text`;

/** Milliseconds a read waits for a standby's replay position by default (ReplayWaiter). */
export const DEFAULT_REPLAY_WAIT_MS = 100;

/**
 * A read waiting for standbys to report a replay position at least `minLsn` (the session's
 * last write). `done` is called once: when a standby answers with such a position, or when
 * every standby it waits for answered (or did not within the wait).
 */
export interface ReplayWaiter {
  readonly minLsn: number;
  /** Standbys whose answer is still awaited. */
  pending: number;
  done: (() => void) | undefined;
}

function settle(w: ReplayWaiter, replayed: boolean): void {
  const done = w.done;
  if (done === undefined) return;
  if (replayed || --w.pending === 0) {
    w.done = undefined;
    done();
  }
}

/**
 * On-demand replay position queries of one standby: at most one in flight; readers arriving
 * while it runs wait for the next one, sent as soon as it answers, so that each reader's answer
 * was read after its write committed. Back to back, one at a time, whatever the number of
 * readers: that is the rate limit.
 */
interface ReplayRefresh {
  /** Readers of the query in flight; undefined when none is. */
  waiting: ReplayWaiter[] | undefined;
  /** Readers for the next query. */
  next: ReplayWaiter[];
  /** The query in flight outlived the wait: readers stop waiting for this node until it answers. */
  stalled: boolean;
}

/** What the last check of a node found. Mutated in place; routing reads the fields. */
export interface NodeHealth {
  readonly node: string;
  /** The last check answered. */
  up: boolean;
  /** At least one check finished (answered or failed). */
  checked: boolean;
  inRecovery: boolean;
  systemId: string;
  timeline: number;
  /** Replay LSN on a standby, current LSN on a primary, as bytes; -1 when unknown. */
  lsn: number;
  lsnText: string | null;
  lagBytes: number | null;
  lagSeconds: number;
  /** No traffic at all: writable but not the current primary, or another system identifier. */
  fenced: boolean;
  /** Beyond its maxLag: skipped by reads. */
  lagging: boolean;
  /** Why it is down or fenced. */
  detail: string;
}

/** "16/B374D848" as a number of bytes (exact below 2^53, i.e. 8 PiB of WAL). */
export function lsnNumber(text: string): number {
  const slash = text.indexOf("/");
  return (
    Number.parseInt(text.slice(0, slash), 16) * 0x1_0000_0000 +
    Number.parseInt(text.slice(slash + 1), 16)
  );
}

interface Group {
  /** The declared primary's name: the group's key. */
  readonly name: string;
  members: readonly RoutedNode[];
  /** The database and role the checks log in as. */
  database: RoutedDatabase;
  /** The configuration's primary when last loaded: a change there is a recorded promotion. */
  configured: string;
  /** The primary writes go to now. */
  current: string;
  /** The system identifier of the group, learned from its primary. */
  systemId: string | undefined;
}

export interface HealthOptions {
  readonly log: (line: string) => void;
  /** Milliseconds a check may take before the node counts as down; default 2 × interval, at least 2 s. */
  readonly timeoutMs?: number;
  /**
   * Milliseconds a read waits for a standby's on-demand replay position before it goes to the
   * primary (read-your-writes); default DEFAULT_REPLAY_WAIT_MS.
   */
  readonly replayWaitMs?: number;
}

/** Polls every node of every routed replication group; see the file comment. */
export class HealthChecker {
  private readonly states = new Map<string, NodeHealth>();
  private readonly groups = new Map<string, Group>();
  private readonly clients = new Map<string, { key: string; client: Promise<pg.Client> }>();
  private readonly replays = new Map<string, ReplayRefresh>();
  private config: RouterConfig;
  private host: RoutingHost | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    config: RouterConfig,
    private readonly options: HealthOptions,
  ) {
    this.config = config;
    this.loadGroups(config);
  }

  /** Checks every node once, then every healthInterval. */
  async start(host: RoutingHost): Promise<void> {
    this.host = host;
    await this.check();
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    for (const r of this.replays.values()) {
      for (const w of [...(r.waiting ?? []), ...r.next]) settle(w, false);
      r.waiting = r.waiting && [];
      r.next = [];
    }
    const clients = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(clients.map((c) => c.client.then((x) => x.end()).catch(() => {})));
  }

  /** New configuration: a primary it names differently from before is a recorded promotion. */
  reload(config: RouterConfig): void {
    this.config = config;
    this.loadGroups(config);
    this.checkSoon();
  }

  /** A connection to a node failed: check everything now. */
  checkSoon(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    void this.check().then(() => this.schedule());
  }

  /** The group's primary now. */
  primaryOf(group: string): string | undefined {
    return this.groups.get(group)?.current;
  }

  state(node: string): NodeHealth | undefined {
    return this.states.get(node);
  }

  /**
   * Read-your-writes between health checks: asks standby `node` for its replay position now
   * (coalesced, see ReplayRefresh); `w`, if any, is settled when it answers. False when the node's last
   * query is still unanswered beyond the wait: then the reader does not wait for it.
   */
  refreshReplay(node: RoutedNode, database: RoutedDatabase, w?: ReplayWaiter): boolean {
    let r = this.replays.get(node.name);
    if (r === undefined) {
      r = { waiting: undefined, next: [], stalled: false };
      this.replays.set(node.name, r);
    }
    if (r.stalled || this.stopped) return false;
    if (w === undefined) {
      // Nobody waits: a query already in flight will do.
      if (r.waiting === undefined) this.replayRound(node, database, r, []);
      return true;
    }
    w.pending++;
    if (r.waiting !== undefined) r.next.push(w);
    else this.replayRound(node, database, r, [w]);
    return true;
  }

  private replayRound(
    node: RoutedNode,
    database: RoutedDatabase,
    r: ReplayRefresh,
    waiters: ReplayWaiter[],
  ): void {
    r.waiting = waiters;
    const timer = setTimeout(() => {
      r.stalled = true;
      const late = [...(r.waiting ?? []), ...r.next];
      r.waiting = [];
      r.next = [];
      for (const w of late) settle(w, false);
    }, this.options.replayWaitMs ?? DEFAULT_REPLAY_WAIT_MS);
    timer.unref();
    void this.replayLsn(node, database).then((text) => {
      clearTimeout(timer);
      const s = this.states.get(node.name);
      const lsn = text === undefined ? -1 : lsnNumber(text);
      if (s?.inRecovery && lsn > s.lsn) {
        s.lsn = lsn;
        s.lsnText = text!;
      }
      const answered = r.waiting ?? [];
      r.waiting = undefined;
      r.stalled = false;
      for (const w of answered) settle(w, lsn >= 0 && s !== undefined && s.lsn >= w.minLsn);
      if (r.next.length > 0) {
        const next = r.next;
        r.next = [];
        if (this.stopped) for (const w of next) settle(w, false);
        else this.replayRound(node, database, r, next);
      }
    });
  }

  /** pg_last_wal_replay_lsn() of a standby; undefined when it failed or was promoted. */
  private async replayLsn(node: RoutedNode, database: RoutedDatabase): Promise<string | undefined> {
    try {
      const c = await this.connection(node, database);
      const r = await c.query<[string | null]>({
        name: "dbmesh_replay_lsn",
        text: REPLAY_LSN_SQL,
        rowMode: "array",
      });
      return r.rows[0]?.[0] ?? undefined;
    } catch {
      return undefined;
    }
  }

  report(): NodeReport[] {
    const out: NodeReport[] = [];
    for (const g of this.groups.values()) {
      for (const n of g.members) {
        const s = this.states.get(n.name);
        const primary = n.name === g.current;
        out.push({
          node: n.name,
          role: !s?.up ? (primary ? "primary" : "unknown") : s.inRecovery ? "standby" : "primary",
          state: !s?.checked
            ? "unknown"
            : s.fenced
              ? "fenced"
              : !s.up
                ? "down"
                : s.lagging
                  ? "lagging"
                  : "healthy",
          lagBytes: s?.lagBytes ?? null,
          replayLsn: s?.lsnText ?? null,
          capacity: n.capacity,
          detail: s?.detail ?? "",
        });
      }
    }
    return out;
  }

  private loadGroups(config: RouterConfig): void {
    const seen = new Set<string>();
    for (const d of config.databases.values()) {
      if (seen.has(d.group)) continue;
      seen.add(d.group);
      const before = this.groups.get(d.group);
      if (before === undefined) {
        this.groups.set(d.group, {
          name: d.group,
          members: d.members,
          database: d,
          configured: d.primary.name,
          current: d.primary.name,
          systemId: undefined,
        });
      } else {
        before.members = d.members;
        before.database = d;
        if (before.configured !== d.primary.name) {
          before.configured = d.primary.name;
          this.setPrimary(before, d.primary.name, "recorded promotion");
        }
      }
      for (const n of d.members) {
        if (!this.states.has(n.name)) {
          this.states.set(n.name, {
            node: n.name,
            up: false,
            checked: false,
            inRecovery: false,
            systemId: "",
            timeline: 0,
            lsn: -1,
            lsnText: null,
            lagBytes: null,
            lagSeconds: 0,
            fenced: false,
            lagging: false,
            detail: "",
          });
        }
      }
    }
    for (const g of [...this.groups.keys()]) if (!seen.has(g)) this.groups.delete(g);
  }

  private schedule(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      void this.check().then(() => this.schedule());
    }, this.config.healthIntervalMs);
    this.timer.unref();
  }

  private check(): Promise<void> {
    if (this.running) return this.running;
    this.running = (async () => {
      do {
        this.again = false;
        const checks: Promise<void>[] = [];
        for (const g of this.groups.values()) {
          for (const n of g.members) checks.push(this.checkNode(n, g.database));
        }
        await Promise.all(checks);
        for (const g of this.groups.values()) this.evaluate(g);
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private timeoutMs(): number {
    return this.options.timeoutMs ?? Math.max(2000, 2 * this.config.healthIntervalMs);
  }

  private connection(node: RoutedNode, database: RoutedDatabase): Promise<pg.Client> {
    const role = this.config.roles.get(database.owner);
    const tls = this.config.nodeTls;
    const key = `${node.host}:${node.port}/${database.name}/${database.owner}/${role?.password ?? ""}/${tls.mode}/${tls.ca?.toString("base64") ?? ""}`;
    const had = this.clients.get(node.name);
    if (had && had.key === key) return had.client;
    if (had) void had.client.then((c) => c.end()).catch(() => {});
    const connected = connectNode(node.name, node.host, tls, (ssl) => {
      const client = new pg.Client({
        host: node.host,
        port: node.port,
        database: database.name,
        user: database.owner,
        password: role?.password ?? "",
        application_name: "dbmesh router health",
        connectionTimeoutMillis: this.timeoutMs(),
        query_timeout: this.timeoutMs(),
        ssl,
      });
      client.on("error", () => this.clients.delete(node.name));
      return client;
    });
    this.clients.set(node.name, { key, client: connected });
    return connected;
  }

  private async checkNode(node: RoutedNode, database: RoutedDatabase): Promise<void> {
    const s = this.states.get(node.name)!;
    try {
      const c = await this.connection(node, database);
      const r = await c.query<{
        recovery: boolean;
        system: string;
        timeline: number;
        lsn: string | null;
        lag_seconds: number | null;
      }>(HEALTH_SQL);
      const row = r.rows[0]!;
      if (!s.up && s.checked) this.options.log(`health: node ${node.name} is reachable again`);
      s.up = true;
      s.inRecovery = row.recovery;
      s.systemId = row.system;
      s.timeline = row.timeline;
      s.lsnText = row.lsn;
      s.lsn = row.lsn === null ? -1 : lsnNumber(row.lsn);
      s.lagSeconds = row.lag_seconds ?? 0;
      s.detail = "";
    } catch (e) {
      const entry = this.clients.get(node.name);
      this.clients.delete(node.name);
      if (entry) void entry.client.then((c) => c.end()).catch(() => {});
      const why = (e as Error).message;
      if (s.up || !s.checked) this.options.log(`health: node ${node.name} is down: ${why}`);
      s.up = false;
      s.detail = why;
    }
    s.checked = true;
  }

  /** The group's primary, fencing and lag from its members' last answers. */
  private evaluate(g: Group): void {
    const current = this.states.get(g.current);
    if (g.systemId === undefined && current?.up && !current.inRecovery) {
      g.systemId = current.systemId;
    }
    const sameSystem = (s: NodeHealth) => g.systemId === undefined || s.systemId === g.systemId;
    if (!(current?.up && !current.inRecovery && sameSystem(current))) {
      // The recorded primary is down or in recovery: follow the one writable node of the system.
      const writable = g.members
        .map((n) => this.states.get(n.name)!)
        .filter((s) => s.up && !s.inRecovery && sameSystem(s));
      if (writable.length === 1 && writable[0]!.node !== g.current) {
        this.setPrimary(g, writable[0]!.node, "the only writable node of the group");
      }
    }
    const primary = this.states.get(g.current);
    const primaryLsn = primary?.up && !primary.inRecovery ? primary.lsn : -1;
    for (const n of g.members) {
      const s = this.states.get(n.name)!;
      const wasFenced = s.fenced;
      s.fenced = false;
      if (s.up && !sameSystem(s)) {
        s.fenced = true;
        s.detail = `system identifier ${s.systemId} is not the group's ${g.systemId}`;
      } else if (s.up && !s.inRecovery && n.name !== g.current) {
        s.fenced = true;
        s.detail = `writable, but the primary of group ${g.name} is ${g.current}`;
      }
      if (s.fenced && !wasFenced) {
        this.options.log(`health: node ${n.name} fenced off: ${s.detail}`);
        this.closeConnections(n.name, "fenced");
      } else if (!s.fenced && wasFenced) {
        this.options.log(`health: node ${n.name} is no longer fenced`);
      }
      if (n.name === g.current || !s.up || primaryLsn < 0 || s.lsn < 0) {
        s.lagBytes = null;
        s.lagging = false;
        continue;
      }
      s.lagBytes = Math.max(0, primaryLsn - s.lsn);
      const lagging =
        s.lagBytes > n.maxLag.bytes ||
        (n.maxLag.seconds !== undefined && s.lagSeconds > n.maxLag.seconds);
      if (lagging !== s.lagging) {
        this.options.log(
          lagging
            ? `health: standby ${n.name} lags ${s.lagBytes} bytes / ${s.lagSeconds.toFixed(1)} s, beyond its maxLag: skipped by reads`
            : `health: standby ${n.name} caught up`,
        );
      }
      s.lagging = lagging;
    }
  }

  private setPrimary(g: Group, node: string, why: string): void {
    if (g.current === node) return;
    const old = g.current;
    g.current = node;
    this.options.log(`health: primary of group ${g.name} is now ${node} (was ${old}: ${why})`);
    // Transactions still on the old primary must not commit there: their clients get 08006.
    this.closeConnections(old, "no longer the primary");
  }

  private closeConnections(node: string, why: string): void {
    const host = this.host;
    if (host === undefined) return;
    let n = 0;
    for (const p of host.pools()) {
      if (p.node !== node) continue;
      for (const s of [...p.all]) {
        s.close();
        n++;
      }
    }
    if (n > 0) host.log(`closed ${n} server connections to ${node} (${why})`);
  }
}

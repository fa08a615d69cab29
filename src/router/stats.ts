import type { Socket } from "node:net";

/** Where a unit of work ran: its group's current primary, or a standby. */
export type Route = "primary" | "standby";

/** Who produced an error a client received: a node (forwarded) or the router itself. */
export type ErrorSource = "server" | "router";

/** Units of work on one node by one route. */
export interface UnitCounters {
  /** Query messages and Syncs answered by ReadyForQuery. */
  units: number;
  /** Units that ended outside a transaction block (COMMIT, ROLLBACK, or an implicit transaction). */
  transactions: number;
}

/** What the health checker knows of one node, as the metrics endpoint reports it. */
export interface NodeHealthReport {
  readonly node: string;
  /** e.g. "up", "down", "lagging", "fenced": exported as a label. */
  readonly state: string;
  /** Replay lag behind the primary in bytes; null for the primary or when unknown. */
  readonly lagBytes: number | null;
  /** pg_last_wal_replay_lsn() (or the primary's current LSN), "X/Y"; null when unknown. */
  readonly replayLsn: string | null;
}

/** The health checker's view of every node it watches (HealthChecker.report() fits). */
export type NodeHealthSource = () => Iterable<NodeHealthReport>;

/** Upper bounds (seconds) of the queue-wait histogram buckets; +Inf is implied. */
export const QUEUE_WAIT_BUCKETS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** A cumulative-on-read histogram: counts per bucket, the sum and the count. */
export class Histogram {
  /** Observations per bucket (not cumulative); the last slot is +Inf. */
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

/**
 * Router-wide counters the metrics endpoint exports. Pools keep their own (SHOW STATS); what
 * crosses pools lives here. Live connections are read from the router when scraped; the bytes
 * of closed ones are kept here so the byte counters never go down.
 */
export class RouterStats {
  /** Units of work by node, then route. */
  readonly units = new Map<string, Record<Route, UnitCounters>>();
  /** Errors clients received, by "source class" (class: the SQLSTATE's first two characters). */
  readonly errors = new Map<string, number>();
  /**
   * CancelRequests: forwarded to the node running the client's query, or ignored (unknown key,
   * or nothing running), as PostgreSQL ignores them, without an answer either way.
   */
  readonly cancels = { forwarded: 0, ignored: 0 };
  /** Bytes of client connections that have closed. */
  closedClientBytes = { received: 0, sent: 0 };
  /** Bytes of server connections that have closed. */
  closedServerBytes = { received: 0, sent: 0 };
  /** The health checker's report, read at each scrape when set (the Router sets it). */
  nodeHealth: NodeHealthSource | undefined;

  private seen: RoutedDatabases | undefined;
  private primaries: ReadonlySet<string> = new Set();

  /** `config()`: the running configuration, whose databases name each group's current primary. */
  constructor(private readonly config: () => { readonly databases: RoutedDatabases }) {}

  /** The route of a unit of work that ran on `node`: cheap, recomputed only after a reload. */
  routeOf(node: string): Route {
    const databases = this.config().databases;
    if (databases !== this.seen) {
      this.seen = databases;
      const primaries = new Set<string>();
      for (const d of databases.values()) primaries.add(d.primary.name);
      this.primaries = primaries;
    }
    return this.primaries.has(node) ? "primary" : "standby";
  }

  /** One unit of work answered by `node`; `endsTransaction` when it left no transaction open. */
  recordUnit(route: Route, node: string, endsTransaction: boolean): void {
    let byRoute = this.units.get(node);
    if (byRoute === undefined) {
      byRoute = { primary: { units: 0, transactions: 0 }, standby: { units: 0, transactions: 0 } };
      this.units.set(node, byRoute);
    }
    const c = byRoute[route];
    c.units++;
    if (endsTransaction) c.transactions++;
  }

  /** An ErrorResponse a client received, by its SQLSTATE. */
  recordError(sqlstate: string, source: ErrorSource): void {
    const key = `${source} ${sqlstate.slice(0, 2)}`;
    this.errors.set(key, (this.errors.get(key) ?? 0) + 1);
  }

  /** A client connection closed: its bytes move from the live sockets to the totals. */
  clientClosed(socket: Socket): void {
    this.closedClientBytes.received += socket.bytesRead;
    this.closedClientBytes.sent += socket.bytesWritten;
  }

  /** A server connection closed. */
  serverClosed(socket: Socket): void {
    this.closedServerBytes.received += socket.bytesRead;
    this.closedServerBytes.sent += socket.bytesWritten;
  }
}

type RoutedDatabases = ReadonlyMap<string, { readonly primary: { readonly name: string } }>;

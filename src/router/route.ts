import type { Classification } from "./classify/index.js";
import type { RouterError } from "./errors.js";
import type { Pool } from "./pool.js";
import type { RoutedDatabase, RoutedNode, RouterConfig } from "./router-config.js";

/** What the health checker knows of one node, for SHOW NODES and the metrics endpoint. */
export interface NodeReport {
  readonly node: string;
  /** "primary", "standby", or "unknown" before the first answer. */
  readonly role: string;
  /** "healthy", "down", "fenced" or "lagging". */
  readonly state: string;
  /** Replay lag behind the primary in bytes; null for the primary or when unknown. */
  readonly lagBytes: number | null;
  /** pg_last_wal_replay_lsn() (pg_current_wal_lsn() on the primary), "X/Y"; null when unknown. */
  readonly replayLsn: string | null;
  readonly capacity: number;
  /** Why the node is down or fenced, for the log and SHOW NODES. */
  readonly detail: string;
}

/** What a Routing may do to the running router (close connections to a fenced node). */
export interface RoutingHost {
  readonly config: RouterConfig;
  pools(): Iterable<Pool>;
  log(line: string): void;
}

/**
 * Where units of work run. The session classifies the first statement of each unit of work
 * (a transaction, or one statement outside a transaction), decides read or write from that and
 * its own state (SET dbmesh.route, explicit transaction, pins), then asks for a node. Fail
 * closed: anything not known to be a read goes to the primary. Everything here runs per unit of
 * work and must be cheap: a Map lookup per statement text, health read from plain fields.
 */
export interface Routing {
  /** The classification of a statement text (cached by text). */
  classify(sql: string): Classification;
  /**
   * classify() of the UTF-8 text src[start, end) without decoding it when the cache has it;
   * undefined when it cannot say so (then classify() the decoded text).
   */
  classifyUtf8?(src: Buffer, start: number, end: number): Classification | undefined;
  /** The node writes of `database` go to now, or why there is none (down, fenced, unknown). */
  primary(database: RoutedDatabase): RoutedNode | RouterError;
  /**
   * A node for a read that has replayed the WAL up to `minLsn` (read-your-writes; 0 for any),
   * or undefined when none qualifies: then the read goes to the primary.
   */
  standby(database: RoutedDatabase, minLsn: number): RoutedNode | undefined;
  /**
   * Read-your-writes when standby() found none: asks the standbys that are healthy but last
   * known behind `minLsn` for their replay position now, and calls `done` once one has
   * replayed it or all answered (bounded wait). False when there is nothing to wait for: the
   * read goes to the primary.
   */
  waitForReplay?(database: RoutedDatabase, minLsn: number, done: () => void): boolean;
  /** Called once by Router.start(). */
  start?(host: RoutingHost): Promise<void>;
  /** The configuration changed (SIGHUP, promotion recorded). */
  reload?(config: RouterConfig): void;
  stop?(): Promise<void>;
  /** A server connection to `node` failed: check it now rather than at the next interval. */
  suspect?(node: string): void;
  /** SHOW NODES. */
  nodes?(): NodeReport[];
}

/**
 * A stand-in classifier for tests: isRead is true only for text that certainly neither writes
 * nor needs the primary.
 */
export interface StatementClassifier {
  isRead(sql: string): boolean;
}

const noEffects = Object.freeze([]);

function classification(write: boolean): Classification {
  return Object.freeze({
    write,
    hardWrite: write,
    reason: write ? "write" : "read",
    hint: undefined,
    parsed: true,
    statements: 1,
    functions: noEffects,
    effects: noEffects,
  });
}
const READ = classification(false);
const WRITE = classification(true);

/**
 * Smooth weighted round robin (as nginx) over the nodes `eligible` accepts: capacities 24 and 8
 * give 3:1, interleaved. `current` holds each node's running weight for one database.
 */
export function weightedPick(
  candidates: readonly RoutedNode[],
  current: Map<string, number>,
  eligible: (n: RoutedNode) => boolean,
): RoutedNode | undefined {
  let total = 0;
  let best: RoutedNode | undefined;
  let bestWeight = -Infinity;
  for (const n of candidates) {
    if (!eligible(n)) continue;
    const w = (current.get(n.name) ?? 0) + n.capacity;
    current.set(n.name, w);
    total += n.capacity;
    if (w > bestWeight) {
      bestWeight = w;
      best = n;
    }
  }
  if (best !== undefined) current.set(best.name, bestWeight - total);
  return best;
}

const always = () => true;

/**
 * Reads (as `classifier` says) to the group's standbys in proportion to their capacity, with
 * the primary among them when `readFromPrimary`; everything else to the primary the
 * configuration names. No health checks: for tests and for a fixed topology.
 */
export function readWriteSplit(
  classifier: StatementClassifier,
  options: { readonly readFromPrimary: boolean },
): Routing {
  const current = new Map<string, Map<string, number>>();
  return {
    classify: (sql) => (sql !== "" && classifier.isRead(sql) ? READ : WRITE),
    primary: (db) => db.primary,
    standby: (db) => {
      const candidates = options.readFromPrimary ? db.members : db.standbys;
      if (candidates.length === 0) return undefined;
      let weights = current.get(db.key);
      if (!weights) {
        weights = new Map();
        current.set(db.key, weights);
      }
      return weightedPick(candidates, weights, always);
    },
  };
}

import type { RoutedDatabase, RoutedNode } from "./router-config.js";

/** What a routing decision sees: where the client is connected and what it is about to run. */
export interface RouteRequest {
  readonly database: RoutedDatabase;
  readonly role: string;
  /**
   * SQL of the first statement of the unit of work about to start (a transaction, or one
   * statement outside a transaction): a Query's text, or the text of the statement a Parse or
   * Bind names. "" when the first message carries none (e.g. a lone Sync): route to the primary.
   */
  readonly statement: string;
}

/**
 * Where units of work run. The router calls choose() once per server connection it borrows
 * (per transaction in transaction mode, once per client in session mode) and allows() for each
 * further unit of work a client pipelines on a connection to a node other than the primary; it
 * must be cheap (cache per statement text). Fail closed: anything not known to be a read goes
 * to the primary. Without a Routing, everything goes to the group's current primary.
 */
export interface Routing {
  choose(request: RouteRequest): RoutedNode;
  /** Whether `request` may run on `node` (a standby the client is already using). */
  allows(request: RouteRequest, node: string): boolean;
}

/**
 * What the statement classifier tells the router. isRead is true only for text that certainly
 * neither writes nor needs the primary (plain SELECT without FOR UPDATE, no volatile function,
 * BEGIN READ ONLY…); anything unparsable or unknown is false.
 */
export interface StatementClassifier {
  isRead(sql: string): boolean;
}

/**
 * Reads (as the classifier says) to the group's standbys in proportion to their capacity,
 * with the primary among them when `readFromPrimary`; everything else to the primary. Smooth
 * weighted round robin (as nginx): capacities 24 and 8 give 3:1, interleaved.
 */
export function readWriteSplit(
  classifier: StatementClassifier,
  options: { readonly readFromPrimary: boolean },
): Routing {
  const current = new Map<string, Map<string, number>>();
  const isRead = (sql: string) => sql !== "" && classifier.isRead(sql);
  const choose = (request: RouteRequest): RoutedNode => {
    const db = request.database;
    if (!isRead(request.statement)) return db.primary;
    const candidates = options.readFromPrimary ? [db.primary, ...db.standbys] : db.standbys;
    if (candidates.length === 0) return db.primary;
    if (candidates.length === 1) return candidates[0]!;
    let weights = current.get(db.key);
    if (!weights) {
      weights = new Map();
      current.set(db.key, weights);
    }
    let total = 0;
    let best: RoutedNode | undefined;
    let bestWeight = -Infinity;
    for (const n of candidates) {
      const w = (weights.get(n.name) ?? 0) + n.capacity;
      weights.set(n.name, w);
      total += n.capacity;
      if (w > bestWeight) {
        bestWeight = w;
        best = n;
      }
    }
    weights.set(best!.name, bestWeight - total);
    return best!;
  };
  return {
    choose,
    allows: (request, node) => node === request.database.primary.name || isRead(request.statement),
  };
}

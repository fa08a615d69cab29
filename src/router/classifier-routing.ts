// Routing with the statement classifier and the health checker: reads to healthy standbys by
// capacity (smooth weighted round robin), skipping lagging, fenced and down nodes and, for
// read-your-writes, nodes that have not replayed the session's last write; writes to the
// group's current primary, or a fast 08006 naming it when it is down.
//
// Balancing is SWRR alone, not least-busy: SWRR gives each node exactly its capacity's share
// of units of work (the aim is shares within 10% of the weights), and a slow node
// already pushes back through its own pool's queue. A least-busy tie-break would need every
// candidate's pool on each pick, and SWRR's running weights almost never tie.
import pg from "pg";
import {
  type Classification,
  type Classifier,
  createClassifier,
  oracleFromRows,
  type ProcVolatilityRow,
  VOLATILITY_SQL,
} from "./classify/index.js";
import { type RouterError, routerErrors } from "./errors.js";
import { HealthChecker, type NodeHealth, type ReplayWaiter } from "./health.js";
import { connectNode } from "./node-tls.js";
import { type NodeReport, type Routing, type RoutingHost, weightedPick } from "./route.js";
import type { RoutedDatabase, RoutedNode, RouterConfig } from "./router-config.js";

export interface ClassifierRoutingOptions {
  readonly log: (line: string) => void;
  /** Milliseconds between reloads of function volatility from pg_proc; default 60 s. */
  readonly oracleRefreshMs?: number;
  /** HealthOptions.replayWaitMs; default the config's (router.replayWait). */
  readonly replayWaitMs?: number;
}

export class ClassifierRouting implements Routing {
  readonly health: HealthChecker;
  private config: RouterConfig;
  private readonly weights = new Map<string, Map<string, number>>();
  private oracleTimer: NodeJS.Timeout | undefined;
  private host: RoutingHost | undefined;

  constructor(
    private readonly classifier: Classifier,
    config: RouterConfig,
    private readonly options: ClassifierRoutingOptions,
  ) {
    this.config = config;
    this.health = new HealthChecker(config, {
      log: options.log,
      replayWaitMs: options.replayWaitMs ?? config.replayWaitMs,
    });
  }

  classify(sql: string): Classification {
    return this.classifier.classify(sql);
  }

  classifyUtf8(src: Buffer, start: number, end: number): Classification | undefined {
    return this.classifier.classifyUtf8(src, start, end);
  }

  primary(database: RoutedDatabase): RoutedNode | RouterError {
    const name = this.health.primaryOf(database.group) ?? database.primary.name;
    const s = this.health.state(name);
    if (s?.checked && (!s.up || s.fenced)) {
      return routerErrors.primaryDown(name, database.key, s.detail);
    }
    return this.config.nodes.get(name) ?? database.primary;
  }

  standby(database: RoutedDatabase, minLsn: number): RoutedNode | undefined {
    const primary = this.health.primaryOf(database.group) ?? database.primary.name;
    const fromPrimary = this.config.readFromPrimary;
    let weights = this.weights.get(database.key);
    if (weights === undefined) {
      weights = new Map();
      this.weights.set(database.key, weights);
    }
    let stale = false;
    const picked = weightedPick(database.members, weights, (n) => {
      if (n.name === primary) return fromPrimary;
      const s = this.health.state(n.name);
      if (!readable(s)) return false;
      if (minLsn <= 0 || s.lsn >= minLsn) return true;
      stale = true;
      return false;
    });
    // Picked among fewer nodes than it might have been (the primary under readFromPrimary, or
    // the standbys that replayed the session's last write): the others are asked how far they
    // replayed, without waiting, so that the next reads may go to them. When none was picked
    // the session waits for that answer instead (waitForReplay).
    if (stale && picked !== undefined) {
      for (const n of database.members) {
        const s = this.health.state(n.name);
        if (n.name !== primary && readable(s) && s.lsn < minLsn) {
          this.health.refreshReplay(n, database);
        }
      }
    }
    return picked;
  }

  waitForReplay(database: RoutedDatabase, minLsn: number, done: () => void): boolean {
    if (!(minLsn > 0 && minLsn < Number.POSITIVE_INFINITY)) return false;
    const primary = this.health.primaryOf(database.group) ?? database.primary.name;
    let waiter: ReplayWaiter | undefined;
    for (const n of database.members) {
      if (n.name === primary || !readable(this.health.state(n.name))) continue;
      waiter ??= { minLsn, pending: 0, done };
      this.health.refreshReplay(n, database, waiter);
    }
    return waiter !== undefined && waiter.pending > 0;
  }

  async start(host: RoutingHost): Promise<void> {
    this.host = host;
    await this.health.start(host);
    await this.loadOracle();
    this.oracleTimer = setInterval(
      () => void this.loadOracle(),
      this.options.oracleRefreshMs ?? 60_000,
    );
    this.oracleTimer.unref();
  }

  reload(config: RouterConfig): void {
    this.config = config;
    this.health.reload(config);
    void this.loadOracle();
  }

  async stop(): Promise<void> {
    clearInterval(this.oracleTimer);
    await this.health.stop();
  }

  suspect(_node: string): void {
    this.health.checkSoon();
  }

  nodes(): NodeReport[] {
    return this.health.report();
  }

  /**
   * Function volatility from pg_proc of every routed database (any reachable member: standbys
   * replay the same catalog), merged worst-first. Until it loads, every function is unknown and
   * goes to the primary.
   */
  async loadOracle(): Promise<void> {
    const rows: ProcVolatilityRow[] = [];
    let loaded = 0;
    for (const d of this.config.databases.values()) {
      const role = this.config.roles.get(d.owner);
      const node =
        d.members.find(
          (n) => this.health.state(n.name)?.up && !this.health.state(n.name)?.fenced,
        ) ?? d.primary;
      let c: pg.Client | undefined;
      try {
        c = await connectNode(node.name, node.host, this.config.nodeTls, (ssl) => {
          const client = new pg.Client({
            host: node.host,
            port: node.port,
            database: d.name,
            user: d.owner,
            password: role?.password ?? "",
            application_name: "dbmesh router catalog",
            connectionTimeoutMillis: 5000,
            ssl,
          });
          client.on("error", () => {});
          return client;
        });
        rows.push(...(await c.query<ProcVolatilityRow>(VOLATILITY_SQL)).rows);
        loaded++;
      } catch (e) {
        this.log(`function volatility of database ${d.key} not loaded: ${(e as Error).message}`);
      } finally {
        await c?.end().catch(() => {});
      }
    }
    if (loaded > 0) this.classifier.setOracle(oracleFromRows(rows));
  }

  private log(line: string): void {
    (this.host?.log.bind(this.host) ?? this.options.log)(line);
  }
}

/** The classifier (PostgreSQL's parser loaded) and routing for `config`; start() is Router's. */
export async function classifierRouting(
  config: RouterConfig,
  options: ClassifierRoutingOptions,
): Promise<ClassifierRouting> {
  return new ClassifierRouting(await createClassifier(), config, options);
}

/** A standby that may serve reads: reachable, replaying, not fenced, within its lag bound. */
function readable(s: NodeHealth | undefined): s is NodeHealth {
  return s?.up === true && !s.fenced && !s.lagging && s.inRecovery;
}

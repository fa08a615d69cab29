import { randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import { TLSSocket } from "node:tls";
import {
  FrameParser,
  FrontendCode,
  isProtocolError,
  ProtocolError,
  readParse,
  readQuery,
  readSaslInitialResponse,
  readStartup,
  ScramClient,
  serialize,
} from "../protocol/index.js";
import {
  type Classification,
  type RouteEffect,
  type RouteSetting,
  wantsPrimary,
} from "./classify/index.js";
import { errorMessage, type RouterError, routerErrors, serverErrorMessage } from "./errors.js";
import { lsnNumber } from "./health.js";
import { Outbox } from "./outbox.js";
import type { Pool, PoolWaiter } from "./pool.js";
import type { Router } from "./router.js";
import {
  ADMIN_DATABASE,
  type RoutedDatabase,
  type RoutedNode,
  type RoutedRole,
  type RouterConfig,
} from "./router-config.js";
import { ScramServer } from "./scram-server.js";
import {
  BIND,
  CLOSE,
  CLOSE_SYNTH,
  type ConnectFailure,
  DESCRIBE,
  EXECUTE,
  PARSE,
  PARSE_SILENT,
  PARSE_SYNTH,
  QUERY,
  type ServerConnection,
  type ServerOwner,
  SYNC,
} from "./server-connection.js";
import { deallocateSql, type PreparedStatement } from "./statements.js";
import {
  acceptSsl,
  bindComplete,
  closeComplete,
  commandComplete,
  dataRow,
  negotiateProtocolVersion,
  noData,
  noParameters,
  parseComplete,
  readyIdle,
  refuseEncryption,
  rowDescription,
  sqlLiteral,
} from "./wire.js";

// PostgreSQL's authentication_timeout default.
const LOGIN_TIMEOUT_MS = 60_000;
const ID_SHIFT = 4;
const STATUS_IDLE = 0x49; // I
const STATUS_IN_TRANSACTION = 0x54; // T
const BYTE_S = 0x53; // 'S' in Describe/Close: a statement
/** Startup parameters that are not settings. */
const NOT_SETTINGS = new Set(["user", "database", "options", "replication"]);
/**
 * Reported parameters that describe the server or the login rather than the session, or that a
 * standby and a primary report differently: never carried from client to server.
 */
const NOT_CARRIED = new Set([
  "server_version",
  "server_encoding",
  "integer_datetimes",
  "is_superuser",
  "session_authorization",
  "in_hot_standby",
  "default_transaction_read_only",
  "scram_iterations",
]);

/**
 * Settings the server does not report (search_path, statement_timeout...) that a client set
 * through the router on each server connection, as current_setting() read them back: a client
 * without the setting resets it when it borrows the connection.
 */
const quietOnServer = new WeakMap<ServerConnection, Map<string, string>>();

type State = "startup" | "sasl-initial" | "sasl-final" | "login" | "ready" | "admin" | "closed";

let nextClientId = 1;

/**
 * One client connection: the startup and SCRAM exchange, then its messages forwarded to server
 * connections it borrows from pools (for its whole session, or per transaction).
 */
export class ClientSession implements ServerOwner, PoolWaiter {
  readonly id = nextClientId++;
  socket: Socket;
  out: Outbox;
  /** BackendKeyData the router gives the client; a CancelRequest must quote both. */
  readonly pid: number;
  readonly key: number;
  readonly connectedAt = Date.now();
  readonly address: string;
  readonly port: number;
  state: State = "startup";
  user = "";
  databaseKey = "";
  applicationName = "";
  database: RoutedDatabase | undefined;
  role: RoutedRole | undefined;
  /** The attached server connection, and the pool it came from. */
  server: ServerConnection | undefined;
  serverPool: Pool | undefined;
  /** The pool the client is queued in. */
  waitingPool: Pool | undefined;
  waitTimer: NodeJS.Timeout | undefined;
  /** Units of work (Query or Sync) sent, for SHOW STATS. */
  requests = 0;
  /** SET dbmesh.route: where this session's statements go (a comment hint wins per statement). */
  route: RouteSetting = "auto";
  /** Why the session keeps its server connection (transaction mode), for SHOW CLIENTS. */
  pinnedReason: string | undefined;
  /**
   * Read-your-writes: the primary's WAL position (bytes) after this session's last write; its
   * reads go only to nodes that replayed it. 0: none; Infinity: unknown, reads go to the primary.
   */
  minLsn = 0;
  /**
   * The unit of work in `held` waits for standbys to report their replay position
   * (Routing.waitForReplay) before it is routed.
   */
  private waitingReplay = false;
  /** That wait is over: the held unit goes to a standby that replayed, or to the primary. */
  private replayWaited = false;
  /** The attached connection ran a write since it was lent (or since its WAL was read). */
  private wrote = false;
  /** Settings statements on the attached connection changed: read back before it is returned. */
  private touched: Set<string> | undefined;
  /** RESET ALL or DISCARD ALL ran on the attached connection. */
  private touchedAll = false;
  /** DISCARD ALL or DEALLOCATE ALL dropped the router's statements: close, don't pool, it. */
  private dirty = false;
  /** A BEGIN ran on the attached connection without COMMIT or ROLLBACK yet (pipelining). */
  private inTransaction = false;
  private probing = false;
  /** A unit of work failed before reaching a server: its messages are dropped up to Sync. */
  private discarding = false;
  /** SQL of the last unnamed Parse, for the Bind that runs it. */
  private unnamedSql = "";
  /** The last unnamed Parse was answered by the router (SET/SHOW dbmesh.route), not sent. */
  private unnamedLocal = false;
  /** An extended-protocol unit of SET/SHOW dbmesh.route the router answers, up to its Sync. */
  private localUnit = false;
  /** That unit failed: its messages are dropped up to Sync. */
  private localFailed = false;
  /** What the unnamed portal of that unit runs (its Bind). */
  private localPortal: RouteCommand | undefined;
  /** Unreported settings the client set, as the server read them back; carried like `settings`. */
  private readonly quietSettings = new Map<string, string>();
  /** Lower-case names of the parameters the servers report (their changes arrive by themselves). */
  private reportedNames: Set<string> | undefined;
  /** Settings the client's session has, to be carried to each server connection it uses. */
  private readonly settings = new Map<string, string>();
  /** settingsIdOf(settings); 0 when `settings` changed since. */
  private settingsId = 0;
  private readonly startupSettings = new Map<string, string>();
  private readonly parser: FrameParser;
  private readonly transactionMode: boolean;
  /** Frames received while no server connection is attached (or held back for another node). */
  private held: Buffer[] = [];
  /** Frames go to `held` until the attached connection is released, then to another node. */
  private holding = false;
  /** The next message starts a unit of work (after a Sync or a Query). */
  private atGroupStart = true;
  private readonly statements = new Map<string, PreparedStatement>();
  /**
   * Where each of `statements` was prepared by the client's Parse (null: answered by the
   * router), to tell whether that Parse succeeded when the name is prepared again.
   */
  private readonly preparedOn = new Map<string, ServerConnection | null>();
  private scram: ScramServer | undefined;
  private authFailed = false;
  private loginTimer: NodeJS.Timeout | undefined;
  /** Runs while part of a message is buffered (partialMessage()). */
  private messageTimer: NodeJS.Timeout | undefined;
  private lastPool: Pool | undefined;
  private configSeen: RouterConfig | undefined;
  private pinned = false;

  constructor(
    private readonly router: Router,
    socket: Socket,
  ) {
    this.socket = socket;
    this.out = new Outbox(socket);
    this.address = socket.remoteAddress ?? "";
    this.port = socket.remotePort ?? 0;
    this.pid = router.nextPid();
    this.key = randomBytes(4).readUInt32BE(0);
    const config = router.config;
    this.transactionMode = config.mode === "transaction";
    this.parser = new FrameParser({ startup: true, maxLength: config.maxMessage });
    socket.setNoDelay(true);
    this.listen(socket);
    this.loginTimer = setTimeout(() => this.fatal(routerErrors.loginTimeout()), LOGIN_TIMEOUT_MS);
    this.loginTimer.unref();
  }

  /**
   * Sends `e` and closes the client. `counted`: the errors metric already has it (a lost server
   * connection is counted where it is noticed).
   */
  fatal(e: RouterError, counted = false): void {
    if (this.state === "closed") return;
    if (!counted) this.router.stats.recordError(e.code, "router");
    this.out.push(errorMessage(e));
    this.flushOut();
    this.close(true);
  }

  /** Closes the client; `graceful` lets pending output reach it first. */
  close(graceful = false): void {
    if (this.state === "closed") return;
    this.state = "closed";
    clearTimeout(this.loginTimer);
    clearTimeout(this.messageTimer);
    if (this.waitingPool) {
      this.waitingPool.dequeue(this);
      this.waitingPool = undefined;
    }
    const server = this.server;
    if (server) this.giveBack(server, true);
    this.held.length = 0;
    this.router.forget(this);
    const socket = this.socket;
    if (graceful && !socket.destroyed) {
      socket.end();
      setTimeout(() => socket.destroy(), 5000).unref();
    } else socket.destroy();
  }

  flushOut(): boolean {
    const ok = this.out.flush();
    if (!ok && this.server) this.server.socket.pause();
    return ok;
  }

  // ---- socket and framing ----------------------------------------------------------------

  private listen(socket: Socket): void {
    socket.on("data", this.onData);
    socket.on("error", () => this.close());
    socket.on("close", () => this.close());
    socket.on("end", this.onEnd);
    socket.on("drain", () => {
      const s = this.server?.socket;
      if (s?.isPaused()) s.resume();
    });
  }

  private readonly onData = (chunk: Buffer): void => {
    try {
      this.parser.parse(chunk, this.onMessage);
    } catch (e) {
      this.failed(e);
      return;
    }
    this.server?.flush();
    if (this.out.pending > 0) this.flushOut();
    if (this.parser.buffered > 0) this.partialMessage();
    else if (this.messageTimer !== undefined) {
      clearTimeout(this.messageTimer);
      this.messageTimer = undefined;
    }
  };

  /**
   * Part of a message is buffered: a client that sends no more of it for
   * RouterOptions.messageTimeout gets 08P01 and is closed (login has its own timeout). Each
   * chunk that brings more of it starts the wait again.
   */
  private partialMessage(): void {
    if (this.messageTimer !== undefined) {
      this.messageTimer.refresh();
      return;
    }
    this.messageTimer = setTimeout(() => {
      this.messageTimer = undefined;
      if (this.parser.buffered > 0) {
        this.fatal(routerErrors.protocolViolation("the client stopped in the middle of a message"));
      }
    }, this.router.messageTimeoutMs);
    this.messageTimer.unref();
  }

  /** EOF from the client: inside a message it is a protocol violation, else a goodbye. */
  private readonly onEnd = (): void => {
    if (this.parser.buffered > 0 && this.state !== "closed") {
      this.fatal(routerErrors.protocolViolation("unexpected EOF within message"));
    } else this.close(true);
  };

  private failed(e: unknown): void {
    if (isProtocolError(e)) {
      if (e.code === "54000") this.fatal(routerErrors.messageTooLarge(e.message));
      else if (e.code === "0A000") this.fatal(routerErrors.unsupported(e.message));
      else this.fatal(routerErrors.protocolViolation(e.message));
      return;
    }
    this.router.log(`client ${this.address}:${this.port}: ${(e as Error)?.stack ?? String(e)}`);
    this.close();
  }

  private readonly onMessage = (code: number, body: Buffer, frame: Buffer): void => {
    switch (this.state) {
      case "ready":
        this.readyFrame(code, body, frame);
        return;
      case "startup":
        this.startup(body);
        return;
      case "sasl-initial":
        this.saslInitial(code, body);
        return;
      case "sasl-final":
        this.saslFinal(code, body);
        return;
      case "admin":
        this.adminFrame(code, body);
        return;
      case "login":
        // Messages sent before ReadyForQuery wait for it.
        this.held.push(frame);
        return;
      case "closed":
        return;
    }
  };

  // ---- startup and authentication --------------------------------------------------------

  private startup(body: Buffer): void {
    const request = readStartup(body);
    switch (request.kind) {
      case "ssl": {
        // Nothing may follow an SSLRequest before the answer (CVE-2021-23214).
        if (this.parser.buffered > 0) {
          throw routerErrorToThrow("unencrypted data after SSL request");
        }
        const tls = this.router.tlsContext;
        if (tls === undefined || this.socket instanceof TLSSocket) {
          this.socket.write(refuseEncryption);
          this.parser.expectStartup();
          return;
        }
        this.socket.write(acceptSsl);
        this.parser.expectStartup();
        this.upgrade(tls);
        return;
      }
      case "gss":
        this.socket.write(refuseEncryption);
        this.parser.expectStartup();
        return;
      case "cancel":
        this.router.cancel(request.pid, request.key);
        this.close();
        return;
      case "startup":
        break;
    }
    const params = request.params;
    const unknownOptions = Object.keys(params).filter((k) => k.startsWith("_pq_."));
    if (request.version.minor > 0 || unknownOptions.length > 0) {
      this.out.push(negotiateProtocolVersion(unknownOptions));
    }
    const user = params.user ?? "";
    if (user === "") {
      this.fatal(routerErrors.noUser());
      return;
    }
    if (params.replication !== undefined && params.replication !== "false") {
      this.fatal(routerErrors.unsupported("the router does not pass replication connections"));
      return;
    }
    this.user = user;
    this.databaseKey = params.database || user;
    this.applicationName = params.application_name ?? "";
    for (const [name, value] of Object.entries(params)) {
      if (!NOT_SETTINGS.has(name) && !name.startsWith("_pq_."))
        this.startupSettings.set(name, value);
    }
    for (const [name, value] of parseOptions(params.options ?? "")) {
      this.startupSettings.set(name, value);
    }
    const config = this.router.config;
    const role = config.roles.get(user);
    if (role === undefined) {
      this.fatal(routerErrors.unknownRole(user));
      return;
    }
    if (this.databaseKey !== ADMIN_DATABASE) {
      const database = config.databases.get(this.databaseKey);
      if (database === undefined) {
        this.fatal(routerErrors.unknownDatabase(this.databaseKey, [...config.databases.keys()]));
        return;
      }
      this.database = database;
    }
    this.role = role;
    this.scram = new ScramServer(role.verifier);
    this.out.push(serialize.authenticationSasl([ScramClient.mechanism]));
    this.state = "sasl-initial";
  }

  private upgrade(context: import("node:tls").SecureContext): void {
    const raw = this.socket;
    raw.removeListener("data", this.onData);
    raw.removeListener("end", this.onEnd);
    const tls = new TLSSocket(raw, { isServer: true, secureContext: context });
    this.socket = tls;
    this.out = new Outbox(tls);
    this.listen(tls);
  }

  private saslInitial(code: number, body: Buffer): void {
    if (code !== FrontendCode.SASLInitialResponse) {
      throw routerErrorToThrow(`expected SASL response, got message type ${code}`);
    }
    const { mechanism, data } = readSaslInitialResponse(body);
    if (mechanism !== ScramClient.mechanism || data === null) {
      throw routerErrorToThrow("client selected an invalid SASL authentication mechanism");
    }
    const step = this.scram!.first(data);
    if (!step.ok) throw routerErrorToThrow(step.reason);
    this.out.push(serialize.authenticationSaslContinue(step.data));
    this.state = "sasl-final";
  }

  private saslFinal(code: number, body: Buffer): void {
    if (code !== FrontendCode.SASLResponse) {
      throw routerErrorToThrow(`expected SASL response, got message type ${code}`);
    }
    const step = this.scram!.final(body);
    this.scram = undefined;
    if (!step.ok || this.authFailed) {
      this.authFailed = true;
      this.fatal(routerErrors.authFailed(this.user));
      return;
    }
    this.out.push(serialize.authenticationSaslFinal(step.data));
    this.out.push(serialize.authenticationOk());
    if (this.database === undefined) {
      this.finishLogin(this.router.adminParameters());
      this.state = "admin";
      return;
    }
    // The first server connection tells the server's parameters; later logins reuse them.
    const pool = this.poolFor(this.loginNode());
    if (this.transactionMode && pool.serverParams) {
      this.finishLogin(pool.serverParams);
      return;
    }
    this.state = "login";
    const server = pool.take();
    if (server) this.loginGranted(server, pool);
    else {
      this.waitingPool = pool;
      pool.wait(this);
    }
  }

  private loginGranted(server: ServerConnection, pool: Pool): void {
    this.finishLogin(pool.serverParams ?? server.params);
    if (this.transactionMode) pool.release(server);
    else this.attach(server, pool);
    const held = this.takeHeld();
    for (const frame of held) this.readyFrame(frame[0]!, frame.subarray(5), frame);
    this.server?.flush();
  }

  /** ParameterStatus of each reported setting (the client's own where it set one), then ready. */
  private finishLogin(serverParams: ReadonlyMap<string, string>): void {
    for (const [name, value] of serverParams) {
      const mine = this.startupSettings.get(name);
      const v = NOT_CARRIED.has(name) ? value : (mine ?? value);
      this.out.push(serialize.parameterStatus(name, v));
      if (!NOT_CARRIED.has(name)) this.settings.set(name, v);
    }
    for (const [name, value] of this.startupSettings) {
      if (!serverParams.has(name)) this.settings.set(name, value);
    }
    this.settingsId = 0;
    this.out.push(serialize.backendKeyData(this.pid, this.key));
    this.out.push(readyIdle);
    this.state = "ready";
    clearTimeout(this.loginTimer);
    this.loginTimer = undefined;
    this.flushOut();
  }

  // ---- pools -------------------------------------------------------------------------------

  /** The client's database as the running configuration has it (a reload may move its primary). */
  private current(): RoutedDatabase {
    const config = this.router.config;
    if (config !== this.configSeen) {
      this.configSeen = config;
      this.database = config.databases.get(this.databaseKey) ?? this.database;
    }
    return this.database!;
  }

  /** The node a login borrows from: the primary, or a readable node when the primary is down. */
  private loginNode(): RoutedNode {
    const database = this.current();
    const routing = this.router.routing;
    if (routing === undefined) return database.primary;
    const primary = routing.primary(database);
    if (!("severity" in primary)) return primary;
    return (this.transactionMode && routing.standby(database, 0)) || database.primary;
  }

  private poolFor(node: RoutedNode): Pool {
    const last = this.lastPool;
    if (last !== undefined && last.node === node.name) return last;
    const pool = this.router.pool(node.name, this.current(), this.role!.name);
    this.lastPool = pool;
    return pool;
  }

  granted(server: ServerConnection): void {
    const pool = this.waitingPool!;
    this.waitingPool = undefined;
    if (this.state === "login") {
      this.loginGranted(server, pool);
      return;
    }
    this.attach(server, pool);
    server.flush();
  }

  refused(failure: RouterError | ConnectFailure): void {
    const pool = this.waitingPool;
    this.waitingPool = undefined;
    if (!("severity" in failure) && failure.kind === "socket" && pool) {
      this.router.routing?.suspect?.(pool.node);
    }
    const message = failureMessage(failure, pool?.node ?? "");
    if (this.state === "login" || !this.transactionMode) {
      this.out.push(message);
      this.flushOut();
      this.close(true);
      return;
    }
    // The first unit of work waiting gets the error and its ReadyForQuery; the rest retry.
    this.out.push(message);
    const held = this.held;
    let i = 0;
    let ended = false;
    while (i < held.length && !ended) {
      const code = held[i]![0];
      ended = code === FrontendCode.Sync || code === FrontendCode.Query;
      i++;
    }
    if (ended) this.out.push(readyIdle);
    // Still being sent: the rest of it, up to its Sync, is dropped (as a server does after an
    // error), not run on another connection without its first messages.
    else this.discarding = true;
    held.splice(0, i);
    this.flushOut();
    if (held.length > 0 && !this.waiting()) this.acquireForHeld();
  }

  /**
   * Borrows a server connection for the unit of work `first` starts: returns it when one was
   * free, else queues the client (then `first` must be held).
   */
  private acquire(first: Buffer, c: Classification | undefined): ServerConnection | undefined {
    const database = this.current();
    const routing = this.router.routing;
    let node: RoutedNode | RouterError = database.primary;
    const waited = this.replayWaited;
    this.replayWaited = false;
    if (routing !== undefined) {
      node = routing.primary(database);
      if (this.transactionMode && c !== undefined && !this.needsPrimary(c)) {
        const standby = routing.standby(database, this.minLsn);
        if (standby !== undefined) node = standby;
        else if (
          !waited &&
          this.minLsn > 0 &&
          routing.waitForReplay?.(database, this.minLsn, this.replayed) === true
        ) {
          // The standbys' positions are older than this session's last write: asked for now,
          // the unit waits (held) for their answer rather than going to the primary at once.
          this.waitingReplay = true;
          return undefined;
        }
      }
    }
    if ("severity" in node) {
      this.failUnit(node, first[0]!);
      return undefined;
    }
    const pool = this.poolFor(node);
    const server = pool.take();
    if (server) this.attach(server, pool);
    else {
      this.waitingPool = pool;
      pool.wait(this);
    }
    return server;
  }

  /** The standbys answered (or the wait ended): the held unit of work is routed now. */
  private readonly replayed = (): void => {
    if (!this.waitingReplay || this.state === "closed") return;
    this.waitingReplay = false;
    this.replayWaited = true;
    this.acquireForHeld();
    if (this.out.pending > 0) this.flushOut();
  };

  /** Whether a unit of work that starts with `c` must run on the primary. */
  private needsPrimary(c: Classification): boolean {
    if (c.effects.length !== 0) {
      // What pins the connection must pin one that can also write.
      for (const e of c.effects) if (e.kind === "pin" || e.kind === "prepare") return true;
    }
    return wantsPrimary(c, this.route);
  }

  /** A unit of work that cannot start (no primary): its error, and ReadyForQuery at its end. */
  private failUnit(e: RouterError, code: number): void {
    this.sendError(e);
    if (code === FrontendCode.Query || code === FrontendCode.Sync) this.out.push(readyIdle);
    else this.discarding = true;
  }

  /** Borrows a connection for the first held frame and forwards what it can. */
  private acquireForHeld(): void {
    const held = this.takeHeld();
    for (const frame of held) this.readyFrame(frame[0]!, frame.subarray(5), frame);
    this.server?.flush();
  }

  private attach(server: ServerConnection, pool: Pool): void {
    this.server = server;
    this.serverPool = pool;
    server.owner = this;
    this.holding = false;
    this.atGroupStart = true;
    this.carrySettings(server);
    if (this.held.length === 0) return;
    const held = this.takeHeld();
    for (const frame of held) this.readyFrame(frame[0]!, frame.subarray(5), frame);
  }

  private takeHeld(): Buffer[] {
    const held = this.held;
    this.held = [];
    return held;
  }

  /** Makes the server's settings the client's: one silent query when any differ. */
  private carrySettings(server: ServerConnection): void {
    let sql = "";
    let id = this.settingsId;
    if (id === 0) id = this.settingsId = settingsIdOf(this.settings);
    // Made to hold these very settings before and unchanged since: nothing to compare (a
    // transaction-mode client usually gets a connection last used by one with the same ones).
    if (server.settingsId !== id) {
      for (const [name, value] of this.settings) {
        if (server.params.get(name) === value) continue;
        sql += `${sql === "" ? "SELECT " : ", "}pg_catalog.set_config(${sqlLiteral(name)}, ${sqlLiteral(value)}, false)`;
        server.params.set(name, value);
      }
      server.settingsId = id;
    }
    const had = quietOnServer.get(server);
    if (had !== undefined || this.quietSettings.size > 0) {
      let resets = "";
      for (const [name, value] of this.quietSettings) {
        if (had?.get(name) === value) continue;
        sql += `${sql === "" ? "SELECT " : ", "}pg_catalog.set_config(${sqlLiteral(name)}, ${sqlLiteral(value)}, false)`;
      }
      if (had !== undefined) {
        for (const name of had.keys()) {
          if (!this.quietSettings.has(name)) resets += `; RESET ${gucName(name)}`;
        }
      }
      if (this.quietSettings.size > 0) quietOnServer.set(server, new Map(this.quietSettings));
      else quietOnServer.delete(server);
      sql += resets;
      if (sql.startsWith("; ")) sql = sql.slice(2);
    }
    if (sql !== "") server.sendSilent(sql);
  }

  parameterChanged(name: string, value: string): void {
    if (NOT_CARRIED.has(name) || this.settings.get(name) === value) return;
    this.settings.set(name, value);
    this.settingsId = 0;
  }

  /** Returns the attached connection: reset and pooled when it is clean, else closed. */
  private giveBack(server: ServerConnection, clientGone: boolean): void {
    const pool = this.serverPool!;
    this.server = undefined;
    this.serverPool = undefined;
    server.owner = undefined;
    if (server.socket.isPaused()) server.socket.resume();
    if (this.socket.isPaused() && !clientGone) this.socket.resume();
    this.wrote = false;
    this.touched = undefined;
    this.touchedAll = false;
    this.inTransaction = false;
    const dirty = this.dirty;
    this.dirty = false;
    // A client gone in the middle of an extended-protocol unit leaves what it ran without a Sync
    // in the server's implicit transaction: the next client's Sync or Query would commit it.
    const midUnit = !this.atGroupStart;
    this.atGroupStart = true;
    if (!server.reusable || dirty || midUnit) {
      server.close();
      return;
    }
    if (this.transactionMode) {
      const evict = this.evictions(server);
      if (evict === "") pool.release(server);
      else server.runQuiet(evict, (ok) => (ok ? pool.release(server) : server.close()));
      return;
    }
    // Session mode: the next client must not see this one's settings, statements or locks.
    // Only an idle connection gets here (every request answered, at a unit boundary): the next
    // ReadyForQuery is DISCARD ALL's. One left busy, in a transaction or after an error was
    // closed above: a client gone mid-query would have its answer taken for DISCARD ALL's, and
    // after an error without Sync the server skips DISCARD ALL and never answers.
    server.runQuiet("DISCARD ALL", (ok) => {
      server.prepared.clear();
      server.forgetUnreported();
      if (ok) pool.release(server);
      else server.close();
    });
  }

  /**
   * Keeps the attached server connection for the rest of the session (transaction mode): for
   * what outlives a transaction (LISTEN, temporary tables, session advisory locks, WITH HOLD
   * cursors, SQL-level PREPARE). The classifier's effects call it; nothing unpins.
   */
  pin(reason = "pinned"): void {
    this.pinned = true;
    this.pinnedReason ??= reason;
  }

  serverIdle(server: ServerConnection): void {
    if (!this.transactionMode || this.server !== server || this.probing) return;
    if (this.pinned) {
      // Everything this session runs goes to this connection: nothing to carry or wait for.
      this.wrote = false;
      this.touched = undefined;
      this.touchedAll = false;
      const evict = this.evictions(server);
      if (evict !== "") {
        server.sendSilent(evict);
        server.flush();
      }
      return;
    }
    if (this.wrote || this.touched !== undefined || this.touchedAll) {
      this.probe(server);
      return;
    }
    this.giveBack(server, false);
    if (this.held.length > 0 && !this.waiting()) this.acquireForHeld();
  }

  /**
   * Before a connection goes back: after a write on the primary, its WAL position (the
   * session's next reads need a node that replayed it); after SET or RESET, the values the
   * server ended with (a rolled-back SET is not carried). One hidden query, then the release.
   */
  private probe(server: ServerConnection): void {
    const routing = this.router.routing;
    let lsn = false;
    // Read-your-writes matters only where reads can go to another node than the primary.
    if (this.wrote && routing !== undefined && this.current().standbys.length > 0) {
      const primary = routing.primary(this.current());
      lsn = !("severity" in primary) && primary.name === server.target.node;
    }
    const names: string[] = [];
    if (this.touched !== undefined || this.touchedAll) {
      const reported = this.reported(server);
      const all = new Set(this.touched);
      if (this.touchedAll) {
        for (const n of this.quietSettings.keys()) all.add(n);
        for (const n of quietOnServer.get(server)?.keys() ?? []) all.add(n);
      }
      for (const n of all) if (!reported.has(n)) names.push(n);
    }
    this.wrote = false;
    this.touched = undefined;
    this.touchedAll = false;
    if (!lsn && names.length === 0) {
      this.serverIdle(server);
      return;
    }
    let sql = `SELECT ${lsn ? "pg_catalog.pg_current_wal_lsn()::text" : "NULL"}`;
    for (const n of names) sql += `, pg_catalog.current_setting(${sqlLiteral(n)}, true)`;
    this.probing = true;
    server.probe(sql, (row) => {
      this.probing = false;
      if (lsn) this.minLsn = row?.[0] ? lsnNumber(row[0]) : Number.POSITIVE_INFINITY;
      if (row !== undefined) {
        let onServer = quietOnServer.get(server);
        for (let i = 0; i < names.length; i++) {
          const name = names[i]!;
          const value = row[i + 1];
          if (value === null || value === undefined) {
            this.quietSettings.delete(name);
            onServer?.delete(name);
          } else {
            this.quietSettings.set(name, value);
            if (onServer === undefined) {
              onServer = new Map();
              quietOnServer.set(server, onServer);
            }
            onServer.set(name, value);
          }
        }
      }
      if (this.server === server && server.reusable) this.serverIdle(server);
    });
    server.flush();
  }

  /** Lower-case names of the parameters servers report with ParameterStatus. */
  private reported(server: ServerConnection): Set<string> {
    if (this.reportedNames === undefined) {
      const names = new Set<string>();
      for (const n of (this.serverPool?.serverParams ?? server.params).keys()) {
        names.add(n.toLowerCase());
      }
      this.reportedNames = names;
    }
    return this.reportedNames;
  }

  get releasesWhenIdle(): boolean {
    return this.transactionMode && !this.pinned;
  }

  serverLost(server: ServerConnection, groups: number, errorSent: boolean): void {
    if (this.server !== server) return;
    this.server = undefined;
    this.serverPool = undefined;
    this.probing = false;
    const node = server.target.node;
    this.router.routing?.suspect?.(node);
    if (!this.transactionMode || this.pinned || server.status !== STATUS_IDLE) {
      // The session or the transaction is gone with it: the client must know and reconnect.
      // When the server's own FATAL already reached it, that was the one error.
      if (errorSent) {
        this.flushOut();
        this.close(true);
      } else this.fatal(routerErrors.serverLost(node, true), true);
      return;
    }
    // Units of work outside a transaction: each one sent and unanswered failed, with one error
    // (the server's, if it was forwarded) and its ReadyForQuery. One the client is still sending
    // fails too, and what it sends up to its Sync is dropped, the Sync answered by the router.
    // Nothing in flight (the last unit answered, the router's own probe running): nothing to say;
    // the client's next unit gets a new connection.
    const lost = errorMessage(routerErrors.serverLost(node, false));
    for (let i = 0; i < groups; i++) {
      if (i > 0 || !errorSent) this.out.push(lost);
      this.out.push(readyIdle);
    }
    if (!this.atGroupStart) {
      if (groups > 0 || !errorSent) this.out.push(lost);
      this.discarding = true;
      this.atGroupStart = true;
    }
    this.flushOut();
    if (this.held.length > 0 && !this.waiting()) this.acquireForHeld();
  }

  // ---- the data path -----------------------------------------------------------------------

  private readyFrame(code: number, body: Buffer, frame: Buffer): void {
    if (code === FrontendCode.Terminate) {
      this.close(true);
      return;
    }
    if (this.discarding) {
      // After a unit of work failed in the router, as a server skips to Sync after an error.
      if (code === FrontendCode.Sync) {
        this.discarding = false;
        this.out.push(readyIdle);
        return;
      }
      if (code !== FrontendCode.Query) return;
      this.discarding = false;
    }
    const c = this.classifyMessage(code, body);
    if (this.localUnit) {
      this.localFrame(code, body, c);
      return;
    }
    if (code === FrontendCode.Query) {
      if (c !== undefined && c.effects.length !== 0 && this.answerRoute(c)) return;
    } else if (this.startsLocalUnit(code, body, c)) {
      this.localUnit = true;
      this.localFrame(code, body, c);
      return;
    }
    let server = this.server;
    if (server === undefined && this.held.length === 0 && !this.waiting()) {
      // A unit of work starts: borrow a connection; `frame` waits only if none is free (or
      // until standbys say how far they replayed).
      server = this.acquire(frame, c);
      if (server === undefined && !this.waiting()) return;
    }
    if (server === undefined || this.holding) {
      this.held.push(frame);
      return;
    }
    if (this.transactionMode) this.forward(server, code, body, frame, c);
    else this.track(server, code, frame);
  }

  /**
   * Session mode: a frame goes to the server untouched, with what it expects back recorded, so
   * that the connection is known to be idle (every request answered, at a Sync or Query
   * boundary, outside a transaction) before it is reset and lent to the next client.
   */
  private track(server: ServerConnection, code: number, frame: Buffer): void {
    switch (code) {
      case FrontendCode.Query:
      case FrontendCode.FunctionCall:
        this.sendUnitEnd(server, frame, QUERY);
        return;
      case FrontendCode.Sync:
        this.sendUnitEnd(server, frame, SYNC);
        return;
      case FrontendCode.Parse:
        server.send(frame, PARSE);
        break;
      case FrontendCode.Bind:
        server.send(frame, BIND);
        break;
      case FrontendCode.Execute:
        server.send(frame, EXECUTE);
        break;
      case FrontendCode.Describe:
        server.send(frame, DESCRIBE);
        break;
      case FrontendCode.Close:
        server.send(frame, CLOSE);
        break;
      default:
        server.sendUntracked(frame);
        // Flush belongs to an extended-protocol unit; COPY data to the Query or Execute that
        // started the COPY (outside COPY the server ignores it).
        if (isCopyMessage(code)) return;
    }
    this.atGroupStart = false;
  }

  /** Query, FunctionCall or Sync: answered up to a ReadyForQuery, where a unit of work may end. */
  private sendUnitEnd(server: ServerConnection, frame: Buffer, expect: number): void {
    server.send(frame, expect);
    this.requests++;
    this.atGroupStart = true;
  }

  /**
   * The classification of the statement a message runs or starts (transaction mode with
   * routing): a Query's text, a Parse's, or the statement a Bind runs. One Map lookup on a hit.
   */
  private classifyMessage(code: number, body: Buffer): Classification | undefined {
    const routing = this.router.routing;
    if (routing === undefined || !this.transactionMode) return undefined;
    switch (code) {
      case FrontendCode.Query: {
        // The text and its terminating NUL; anything else is readQuery's to refuse.
        const end = body.length - 1;
        return (
          (end >= 0 && body[end] === 0 ? routing.classifyUtf8?.(body, 0, end) : undefined) ??
          routing.classify(readQuery(body))
        );
      }
      case FrontendCode.Parse: {
        const nameEnd = body.indexOf(0);
        const sqlEnd = body.indexOf(0, nameEnd + 1);
        if (nameEnd < 0 || sqlEnd < 0) return undefined;
        const sql = body.toString("utf8", nameEnd + 1, sqlEnd);
        if (nameEnd === 0) this.unnamedSql = sql;
        return routing.classify(sql);
      }
      case FrontendCode.Bind: {
        const start = body.indexOf(0) + 1;
        const end = body.indexOf(0, start);
        if (start === 0 || end < start) return undefined;
        const sql =
          end === start
            ? this.unnamedSql
            : this.statements.get(body.toString("utf8", start, end))?.sql;
        return sql ? routing.classify(sql) : undefined;
      }
      default:
        return undefined;
    }
  }

  /**
   * SET/RESET/SHOW dbmesh.route, answered by the router. A client that pipelines it behind
   * statements still running has it sent on (the server takes it as a placeholder setting)
   * while the router applies it too.
   */
  private answerRoute(c: Classification): boolean {
    const effect = routeCommand(c);
    if (effect === undefined) return false;
    if (this.busy()) {
      if (effect.kind === "route" && effect.route !== undefined && effect.scope === "session") {
        this.route = effect.route;
      }
      return false;
    }
    if (c.statements > 1) {
      this.sendError(routerErrors.routeNotAlone());
    } else if (effect.kind === "show-route") {
      this.out.push(rowDescription(["dbmesh.route"]));
      this.out.push(dataRow([this.route]));
      this.out.push(commandComplete("SHOW"));
    } else if (effect.route === undefined) {
      this.sendError(routerErrors.invalidRoute(effect.value));
    } else {
      if (effect.scope === "session") this.route = effect.route;
      this.out.push(commandComplete("SET"));
    }
    this.out.push(this.readyNow());
    return true;
  }

  /** Waiting for standbys' replay positions before a unit of work is routed (SHOW CLIENTS). */
  get waitingForReplay(): boolean {
    return this.waitingReplay;
  }

  /** Queued in a pool, or waiting for standbys' replay positions. */
  private waiting(): boolean {
    return this.waitingPool !== undefined || this.waitingReplay;
  }

  /** Something the client sent earlier is queued, waiting for a connection, or unanswered. */
  private busy(): boolean {
    const server = this.server;
    return this.held.length > 0 || this.waiting() || (server !== undefined && server.inFlight > 0);
  }

  /** ReadyForQuery with the attached connection's transaction status (idle without one). */
  private readyNow(): Buffer {
    const status = this.server?.status ?? STATUS_IDLE;
    return status === STATUS_IDLE
      ? readyIdle
      : serialize.readyForQuery(status === STATUS_IN_TRANSACTION ? "T" : "E");
  }

  /**
   * Whether an extended-protocol unit of work that starts with SET/SHOW/RESET dbmesh.route (its
   * Parse, or a Bind of a statement prepared earlier) is answered by the router: when nothing
   * the client sent before is still unanswered, so the router's answers are next in order.
   * Pipelined behind statements still running it goes to the server, as over the simple
   * protocol, and a session SET is applied by the router too. So is a unit that starts with a
   * Describe or Close of a statement the router answered Parse for: no server connection is
   * borrowed for it.
   */
  private startsLocalUnit(code: number, body: Buffer, c: Classification | undefined): boolean {
    if (code === FrontendCode.Describe || code === FrontendCode.Close) {
      return (
        body[0] === BYTE_S &&
        body[1] !== 0 &&
        this.atGroupStart &&
        this.answeredHere(body) &&
        !this.busy()
      );
    }
    if (c === undefined || c.effects.length === 0) return false;
    const command = routeCommand(c);
    if (command === undefined || (code !== FrontendCode.Parse && code !== FrontendCode.Bind)) {
      return false;
    }
    if (this.atGroupStart && !this.busy()) return true;
    if (code === FrontendCode.Bind && command.kind === "route" && command.scope === "session") {
      if (command.route !== undefined) this.route = command.route;
    }
    return false;
  }

  /**
   * One message of an extended-protocol unit of work made of SET/SHOW/RESET dbmesh.route only,
   * answered as a server would: ParseComplete, BindComplete, ParameterDescription, NoData or
   * RowDescription, CommandComplete (after a DataRow for SHOW), CloseComplete; after an error
   * everything up to Sync is dropped; Sync gets ReadyForQuery.
   * https://www.postgresql.org/docs/17/protocol-flow.html#PROTOCOL-FLOW-EXT-QUERY
   */
  private localFrame(code: number, body: Buffer, c: Classification | undefined): void {
    if (code === FrontendCode.Sync) {
      this.localUnit = false;
      this.localFailed = false;
      this.localPortal = undefined;
      this.out.push(this.readyNow());
      return;
    }
    if (this.localFailed) return;
    const command = c === undefined ? undefined : routeCommand(c);
    switch (code) {
      case FrontendCode.Parse:
        if (command === undefined || c!.statements > 1) break;
        if (body[0] === 0) this.unnamedLocal = true;
        else {
          // Known by name like any statement: a later Bind of it pipelined behind running
          // statements prepares it on the server.
          const { name, sql, paramTypes } = readParse(body);
          if (this.existing(name) !== undefined) {
            this.localError(routerErrors.duplicateStatement(name));
            return;
          }
          this.statements.set(name, this.router.statements.get(sql, paramTypes));
          this.preparedOn.set(name, null);
        }
        this.out.push(parseComplete);
        return;
      case FrontendCode.Bind:
        if (command === undefined) break;
        this.localPortal = command;
        this.out.push(bindComplete);
        return;
      case FrontendCode.Describe: {
        const described = body[0] === BYTE_S ? this.routeStatement(body) : this.localPortal;
        if (described === undefined) break;
        if (body[0] === BYTE_S) this.out.push(noParameters);
        this.out.push(described.kind === "show-route" ? rowDescription(["dbmesh.route"]) : noData);
        return;
      }
      case FrontendCode.Execute: {
        const portal = this.localPortal;
        if (portal === undefined) break;
        if (portal.kind === "show-route") {
          this.out.push(dataRow([this.route]));
          this.out.push(commandComplete("SHOW"));
        } else if (portal.route === undefined) {
          this.localError(routerErrors.invalidRoute(portal.value));
        } else {
          if (portal.scope === "session") this.route = portal.route;
          this.out.push(commandComplete("SET"));
        }
        return;
      }
      case FrontendCode.Close:
        if (body[0] === BYTE_S && body[1] !== 0) this.forget(targetName(body));
        this.out.push(closeComplete);
        return;
      case FrontendCode.Flush:
        return;
    }
    this.localError(routerErrors.routeNotAlone());
  }

  /** Whether the statement a Describe or Close ('S', name) names was prepared by the router. */
  private answeredHere(body: Buffer): boolean {
    return this.preparedOn.get(targetName(body)) === null;
  }

  /** An error inside a unit the router answers: the rest of it is dropped up to Sync. */
  private localError(e: RouterError): void {
    this.sendError(e);
    this.localFailed = true;
  }

  /** The SET/SHOW dbmesh.route a Describe or Close of a statement ('S', name) names. */
  private routeStatement(body: Buffer): RouteCommand | undefined {
    const name = targetName(body);
    const sql = name === "" ? this.unnamedSql : this.statements.get(name)?.sql;
    return sql === undefined ? undefined : routeCommand(this.router.routing!.classify(sql));
  }

  /** Queues an ErrorResponse of the router's own for the client, counted in the errors metric. */
  private sendError(e: RouterError): void {
    this.router.stats.recordError(e.code, "router");
    this.out.push(errorMessage(e));
  }

  private touch(name: string): void {
    if (this.touched === undefined) this.touched = new Set();
    this.touched.add(name);
  }

  /** What a statement forwarded on `server` does to the session (transaction mode). */
  private observe(c: Classification, server: ServerConnection): void {
    // A read sent to the primary only by its comment hint wrote nothing (verdict() names it so).
    if (c.write && c.reason !== "hint primary") this.wrote = true;
    const effects = c.effects;
    if (effects.length === 0) return;
    for (const e of effects) {
      switch (e.kind) {
        case "set":
          if (e.scope === "session") this.touch(e.name);
          break;
        case "reset":
          this.touch(e.name);
          break;
        case "reset-all":
          this.touchedAll = true;
          this.route = "auto";
          break;
        case "discard":
          if (e.what === "all") {
            this.touchedAll = true;
            this.route = "auto";
            this.dirty = true;
            server.prepared.clear();
          }
          break;
        case "deallocate":
          if (e.name === undefined) {
            this.dirty = true;
            server.prepared.clear();
          }
          break;
        case "pin":
          this.pin(e.reason);
          break;
        case "prepare":
          // SQL-level prepared statements live on one server connection: keep it.
          this.pin(`PREPARE ${e.name}`);
          break;
        case "begin":
          this.inTransaction = true;
          break;
        case "commit":
        case "rollback":
        case "prepare-transaction":
          this.inTransaction = false;
          break;
        default:
      }
    }
  }

  /** Transaction mode: forwards one frame and records what it expects back. */
  private forward(
    server: ServerConnection,
    code: number,
    body: Buffer,
    frame: Buffer,
    c: Classification | undefined,
  ): void {
    if (isCopyMessage(code)) {
      // Part of the COPY a Query or Execute started, on this connection; nothing comes back
      // for it, and outside COPY the server ignores it: no unit of work starts or ends.
      // https://www.postgresql.org/docs/17/protocol-flow.html#PROTOCOL-COPY
      server.sendUntracked(frame);
      return;
    }
    if (this.atGroupStart && this.router.routing !== undefined && !this.staysOn(server, c)) {
      // A statement this node must not run follows a finished one: it waits for the release.
      this.holding = true;
      this.held.push(frame);
      return;
    }
    switch (code) {
      case FrontendCode.Query:
        if (c !== undefined) this.observe(c, server);
        this.sendUnitEnd(server, frame, QUERY);
        return;
      case FrontendCode.FunctionCall:
        this.wrote = true;
        this.sendUnitEnd(server, frame, QUERY);
        return;
      case FrontendCode.Sync:
        this.sendUnitEnd(server, frame, SYNC);
        return;
      case FrontendCode.Parse:
        if (body[0] === 0) {
          server.send(frame, PARSE);
          this.unnamedLocal = false;
        } else this.parseNamed(server, body);
        break;
      case FrontendCode.Bind: {
        if (c !== undefined) this.observe(c, server);
        const portalEnd = body.indexOf(0);
        if (body[portalEnd + 1] !== 0) this.bindNamed(server, body, frame, portalEnd);
        else {
          if (this.unnamedLocal) {
            // The unnamed statement was SET/SHOW dbmesh.route answered by the router: the
            // server has another one (or none). Its ParseComplete was sent already.
            server.send(serialize.parse("", this.unnamedSql), PARSE_SILENT);
            this.unnamedLocal = false;
          }
          server.send(frame, BIND);
        }
        break;
      }
      case FrontendCode.Execute:
        server.send(frame, EXECUTE);
        break;
      case FrontendCode.Describe:
        if (body[0] === BYTE_S && body[1] !== 0) this.describeNamed(server, body, frame);
        else server.send(frame, DESCRIBE);
        break;
      case FrontendCode.Close:
        if (body[0] === BYTE_S && body[1] !== 0) {
          // Kept on the server for the next client that prepares the same text.
          this.forget(targetName(body));
          server.synthesize(CLOSE_SYNTH);
        } else server.send(frame, CLOSE);
        break;
      default:
        // Flush: nothing comes back for it.
        server.sendUntracked(frame);
    }
    this.atGroupStart = false;
  }

  /**
   * Whether the unit of work a message starts, pipelined behind a finished one, may run on the
   * attached node: anything on the primary, inside a transaction or when pinned (everything goes
   * where the transaction started), else only what needs no primary.
   */
  private staysOn(server: ServerConnection, c: Classification | undefined): boolean {
    if (server.status !== STATUS_IDLE || this.inTransaction || this.pinned) return true;
    const primary = this.router.routing!.primary(this.current());
    if (!("severity" in primary) && server.target.node === primary.name) return true;
    return c !== undefined && !this.needsPrimary(c);
  }

  private parseNamed(server: ServerConnection, body: Buffer): void {
    const { name, sql, paramTypes } = readParse(body);
    const existing = this.existing(name);
    if (existing !== undefined) {
      // PostgreSQL refuses to prepare a name twice (42P05, duplicate_prepared_statement) and
      // skips to Sync. The server says so itself, in order with the rest of the pipeline: it is
      // asked to prepare again the server-side name it has (prepared first if it has not).
      this.ensurePrepared(server, existing);
      server.sendDuplicateParse(existing, name);
      return;
    }
    const statement = this.router.statements.get(sql, paramTypes);
    this.statements.set(name, statement);
    this.preparedOn.set(name, server);
    if (touch(server.prepared, statement.id)) {
      server.synthesize(PARSE_SYNTH);
      return;
    }
    server.send(statement.parse, PARSE | (statement.id << ID_SHIFT));
    server.prepared.add(statement.id);
  }

  /**
   * The client's statement `name` if it exists as PostgreSQL sees it: its Parse succeeded.
   * A Parse that failed (or that an earlier error skipped) was taken off its connection's
   * prepared set. Unknown counts as not existing (the name is replaced, never refused): while
   * the Parse may still be unanswered (a Parse pipelined behind it), or once its connection
   * evicted the statement.
   */
  private existing(name: string): PreparedStatement | undefined {
    const statement = this.statements.get(name);
    if (statement === undefined) return undefined;
    const on = this.preparedOn.get(name);
    if (on === null) return statement;
    if (on === undefined || !on.prepared.has(statement.id)) return undefined;
    return on !== this.server || on.inFlight === 0 ? statement : undefined;
  }

  /** The client closed its statement `name`. */
  private forget(name: string): void {
    this.statements.delete(name);
    this.preparedOn.delete(name);
  }

  /**
   * Prepares `statement` on `server` first if it does not have it (its ParseComplete is
   * swallowed); marks it most recently used there.
   */
  private ensurePrepared(server: ServerConnection, statement: PreparedStatement): void {
    if (touch(server.prepared, statement.id)) return;
    server.send(statement.parse, PARSE_SILENT | (statement.id << ID_SHIFT));
    server.prepared.add(statement.id);
  }

  /**
   * SQL deallocating the least recently used statements of `server` beyond
   * RouterOptions.maxPreparedStatements, taken off its set; "" when it has no more than that.
   */
  private evictions(server: ServerConnection): string {
    const prepared = server.prepared;
    let over = prepared.size - this.router.maxPreparedStatements;
    if (over <= 0) return "";
    const ids: number[] = [];
    for (const id of prepared) {
      if (over-- <= 0) break;
      ids.push(id);
    }
    for (const id of ids) prepared.delete(id);
    return deallocateSql(ids);
  }

  private bindNamed(
    server: ServerConnection,
    body: Buffer,
    frame: Buffer,
    portalEnd: number,
  ): void {
    const nameEnd = body.indexOf(0, portalEnd + 1);
    const statement =
      nameEnd === -1
        ? undefined
        : this.statements.get(body.toString("utf8", portalEnd + 1, nameEnd));
    if (statement === undefined) {
      // Unknown here: the server answers 26000 (invalid_sql_statement_name).
      server.send(frame, BIND);
      return;
    }
    this.ensurePrepared(server, statement);
    // Type byte, length, portal name, then the server-side statement name and the rest.
    const name = statement.serverName;
    const rest = body.length - nameEnd - 1;
    const out = Buffer.allocUnsafe(5 + portalEnd + 1 + name.length + rest);
    out[0] = FrontendCode.Bind;
    out.writeInt32BE(out.length - 1, 1);
    body.copy(out, 5, 0, portalEnd + 1);
    name.copy(out, 5 + portalEnd + 1);
    body.copy(out, 5 + portalEnd + 1 + name.length, nameEnd + 1);
    server.send(out, BIND);
  }

  private describeNamed(server: ServerConnection, body: Buffer, frame: Buffer): void {
    const statement = this.statements.get(targetName(body));
    if (statement === undefined) {
      server.send(frame, DESCRIBE);
      return;
    }
    this.ensurePrepared(server, statement);
    const name = statement.serverName;
    const out = Buffer.allocUnsafe(6 + name.length);
    out[0] = FrontendCode.Describe;
    out.writeInt32BE(out.length - 1, 1);
    out[5] = BYTE_S;
    name.copy(out, 6);
    server.send(out, DESCRIBE);
  }

  // ---- admin console -----------------------------------------------------------------------

  private adminFrame(code: number, body: Buffer): void {
    if (code === FrontendCode.Terminate) {
      this.close(true);
      return;
    }
    if (code === FrontendCode.Query) {
      for (const m of this.router.admin(readQuery(body))) this.out.push(m);
      this.out.push(readyIdle);
      return;
    }
    if (code === FrontendCode.Sync) {
      this.sendError(routerErrors.adminSyntax("the extended query protocol"));
      this.out.push(readyIdle);
    }
    // Other extended-protocol messages are ignored until their Sync, as after an error.
  }
}

/** Ids of the distinct settings clients have, by their names and values in order. */
const settingsIds = new Map<string, number>();
let lastSettingsId = 0;

/**
 * An id for the names and values of `settings`, the same for every session that has the same
 * ones in the same order. Ids are never reused: when the table is cleared (bounded, as clients
 * may set values at will), sessions get new ids and servers compare their settings once more.
 */
function settingsIdOf(settings: ReadonlyMap<string, string>): number {
  let key = "";
  for (const [name, value] of settings) key += `${name}\0${value}\0`;
  let id = settingsIds.get(key);
  if (id === undefined) {
    if (settingsIds.size >= 10_000) settingsIds.clear();
    id = ++lastSettingsId;
    settingsIds.set(key, id);
  }
  return id;
}

/** The settings in a startup `options` value: -c name=value and --name=value. */
function parseOptions(options: string): [string, string][] {
  const out: [string, string][] = [];
  // Words are separated by spaces; a backslash escapes the next character.
  const words = options.match(/(?:\\.|[^\s\\])+/g)?.map((w) => w.replace(/\\(.)/g, "$1")) ?? [];
  for (let i = 0; i < words.length; i++) {
    let w = words[i]!;
    if (w === "-c") w = words[++i] ?? "";
    else if (w.startsWith("-c")) w = w.slice(2);
    else if (w.startsWith("--")) w = w.slice(2);
    else continue;
    const eq = w.indexOf("=");
    if (eq > 0) out.push([w.slice(0, eq).replace(/-/g, "_"), w.slice(eq + 1)]);
  }
  return out;
}

/** SET/RESET dbmesh.route or SHOW dbmesh.route: the router answers them. */
type RouteCommand = RouteEffect | { readonly kind: "show-route" };

function routeCommand(c: Classification): RouteCommand | undefined {
  for (const e of c.effects) if (e.kind === "route" || e.kind === "show-route") return e;
  return undefined;
}

/** The name in a Describe or Close body (its kind byte, the name, its NUL). */
function targetName(body: Buffer): string {
  return body.toString("utf8", 1, body.length - 1);
}

/**
 * Whether a server connection's `prepared` has statement `id`; if so it becomes the most
 * recently used (Sets keep insertion order: re-added, it is last).
 */
function touch(prepared: Set<number>, id: number): boolean {
  if (!prepared.delete(id)) return false;
  prepared.add(id);
  return true;
}

/** CopyData, CopyDone or CopyFail from the client. */
function isCopyMessage(code: number): boolean {
  return (
    code === FrontendCode.CopyData ||
    code === FrontendCode.CopyDone ||
    code === FrontendCode.CopyFail
  );
}

/** A setting's name for RESET: each dotted part quoted as an identifier. */
function gucName(name: string): string {
  return name
    .split(".")
    .map((p) => `"${p.replace(/"/g, '""')}"`)
    .join(".");
}

function failureMessage(failure: RouterError | ConnectFailure, node: string): Buffer {
  if ("severity" in failure) return errorMessage(failure);
  if (failure.kind === "server") return serverErrorMessage(failure.fields);
  return errorMessage(routerErrors.serverUnreachable(node, failure.message));
}

/** A protocol violation thrown from a message handler; the parser's caller answers 08P01. */
function routerErrorToThrow(message: string): Error {
  return new ProtocolError(message);
}

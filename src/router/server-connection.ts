import { createHash } from "node:crypto";
import { connect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import {
  BackendCode,
  type ErrorFields,
  FrameParser,
  isProtocolError,
  readAuthentication,
  readBackendKeyData,
  readDataRow,
  readErrorFields,
  readParameterStatus,
  ScramClient,
  serialize,
} from "../protocol/index.js";
import { type NodeTls, nodeTlsFailures, sslAnswer, tlsOptions } from "./node-tls.js";
import { Outbox } from "./outbox.js";
import { type PreparedStatement, serverStatementName } from "./statements.js";
import type { RouterStats } from "./stats.js";
import { closeComplete, parseComplete } from "./wire.js";

/** Where a server connection logs in: a node, a database on it, a role and its password. */
export interface ServerTarget {
  readonly node: string;
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password: string;
  /** TLS towards the node (router.nodeTls); absent: plain text. */
  readonly tls?: NodeTls;
}

/**
 * Why a server connection could not be opened: the server's own error, a socket failure, or
 * TLS (refused by the node or failed), with a message that names the node and the fix.
 */
export type ConnectFailure =
  | { readonly kind: "server"; readonly fields: ErrorFields }
  | { readonly kind: "socket"; readonly message: string }
  | { readonly kind: "tls"; readonly message: string };

/** The client session a server connection is lent to, as the connection sees it. */
export interface ServerOwner {
  /** The client's outgoing messages. */
  readonly out: Outbox;
  /** The client's socket, paused while the server cannot take more. */
  readonly socket: Socket;
  /** Writes the client's outbox; false when the client's socket buffer is full. */
  flushOut(): boolean;
  /** A reported parameter changed on the server because the client set it. */
  parameterChanged(name: string, value: string): void;
  /**
   * Whether the owner gives the connection back once it is idle outside a transaction with
   * nothing in flight (transaction mode, not pinned): then what the server sends after that
   * ReadyForQuery is not the owner's.
   */
  readonly releasesWhenIdle: boolean;
  /** The server is idle outside a transaction with nothing in flight (end of a read). */
  serverIdle(server: ServerConnection): void;
  /**
   * The connection broke; `groups` is the number of Syncs/Queries left unanswered, `errorSent`
   * whether an ErrorResponse was forwarded for the first of them (or, with none, for the unit
   * the owner is still sending).
   */
  serverLost(server: ServerConnection, groups: number, errorSent: boolean): void;
}

// What each message sent to the server expects back, kept in order so that responses the router
// swallows or makes up land at the right place. An entry is a kind in the low 4 bits and, for
// statements, the router-wide statement id above them.
// https://www.postgresql.org/docs/17/protocol-flow.html#PROTOCOL-FLOW-EXT-QUERY
/** Query or FunctionCall: everything up to and including ReadyForQuery. */
export const QUERY = 1;
/** Parse: ParseComplete. */
export const PARSE = 2;
/** A Parse the router injected to prepare a statement lazily: its ParseComplete is swallowed. */
export const PARSE_SILENT = 3;
/** A Parse the server already had: the router answers ParseComplete itself, in order. */
export const PARSE_SYNTH = 4;
export const BIND = 5;
/** Describe: RowDescription or NoData (after a ParameterDescription for a statement). */
export const DESCRIBE = 6;
/** Execute: CommandComplete, EmptyQueryResponse or PortalSuspended. */
export const EXECUTE = 7;
export const CLOSE = 8;
/** Close of a named statement: kept on the server, the router answers CloseComplete. */
export const CLOSE_SYNTH = 9;
export const SYNC = 10;
/** A Query the router runs for itself (parameter sync, reset): everything swallowed. */
const QUERY_SILENT = 11;
/**
 * Parse of a name the client prepared already (sendDuplicateParse): the server answers 42P05
 * naming the server-side statement; the client gets it naming its own.
 */
const PARSE_DUPLICATE = 12;

const KIND_MASK = 0xf;
const ID_SHIFT = 4;
/** A QUERY_SILENT whose first DataRow and outcome the router wants (probe()). */
const PROBE = QUERY_SILENT | (1 << ID_SHIFT);
const STATUS_IDLE = 0x49; // I
// Size of a server connection's read buffer: what one read(2) can take, as Node's own default.
const READ_SIZE = 64 * 1024;

let nextServerId = 1;

/**
 * One connection from the router to a node, logged in as a role. Frames from the server are
 * forwarded untouched to the client it is lent to; only ReadyForQuery, ParameterStatus,
 * ErrorResponse and the completions of tracked requests are looked at.
 */
export class ServerConnection {
  readonly id = nextServerId++;
  /** The TCP socket, replaced by the TLS socket over it once the node accepts SSLRequest. */
  socket: Socket;
  /** Messages to the server; replaced with the socket, before the login. */
  out: Outbox;
  /** Reported parameters (ParameterStatus), and those the router set that are not reported. */
  readonly params = new Map<string, string>();
  /**
   * The settings id (ClientSession) of the session whose settings `params` was last made to
   * hold; 0 once `params` changed otherwise (ParameterStatus, DISCARD ALL).
   */
  settingsId = 0;
  /** Names the server reports (GUC_REPORT); the others in `params` were set by the router. */
  private readonly reported = new Set<string>();
  /** Router-wide ids of the statements prepared on this connection. */
  readonly prepared = new Set<number>();
  readonly createdAt = Date.now();
  /** When it was last returned to its pool. */
  idleSince = Date.now();
  /** Backend process id and cancel key (BackendKeyData). */
  pid = 0;
  key = 0;
  owner: ServerOwner | undefined;
  /** Transaction status of the last ReadyForQuery: 0x49 I, 0x54 T, 0x45 E. */
  status = STATUS_IDLE;
  state: "connecting" | "ready" | "closed" = "connecting";
  /** Called once when a silent query finishes with no owner (reset before reuse). */
  private whenQuiet: ((ok: boolean) => void) | undefined;
  private readonly parser = new FrameParser();
  private readonly pending: number[] = [];
  /** The client's names of the PARSE_DUPLICATE entries in `pending`, in order. */
  private readonly duplicates: string[] = [];
  private head = 0;
  // An ErrorResponse was forwarded for the unit of work now at the front: until its
  // ReadyForQuery the server also skips whatever the unit still sends before its Sync.
  private errorSent = false;
  private quietFailed = false;
  private idleAtEnd = false;
  private onReady: ((failure: ConnectFailure | undefined) => void) | undefined;
  /** Callbacks of the probes in flight, in order, and the first row and outcome of the front one. */
  private readonly probes: ((row: (string | null)[] | undefined) => void)[] = [];
  private probeRow: (string | null)[] | undefined;
  private probeFailed = false;
  private scram: ScramClient | undefined;
  // Reads land here (onread) rather than in a fresh buffer per read: no allocation and no
  // stream machinery per read. Frames forwarded from it are views, so once a read leaves bytes
  // in an owner's outbox or socket (a partial write), the next read gets a new buffer.
  private readBuffer = Buffer.allocUnsafe(READ_SIZE);
  /** The owner whose outbox received views of the read buffer during the current read. */
  private sentTo: ServerOwner | undefined;

  constructor(
    readonly target: ServerTarget,
    /** Called once when the connection is closed, whatever the cause. */
    private readonly onClosed: (server: ServerConnection) => void,
    /** Where units of work, forwarded errors and lost connections are counted. */
    private readonly stats?: RouterStats,
  ) {
    this.socket =
      target.tls === undefined || target.tls.mode === "disable"
        ? connect({
            host: target.host,
            port: target.port,
            noDelay: true,
            onread: {
              buffer: () => this.readBuffer,
              callback: (n: number, buffer: Uint8Array): boolean => {
                this.read(buffer as Buffer, n);
                return true;
              },
            },
          })
        : // The answer to SSLRequest, then TLS records: read by 'data' events, as tls needs the
          // socket's own reads (onread would hand them to the router instead).
          connect({ host: target.host, port: target.port, noDelay: true });
    this.out = new Outbox(this.socket);
    this.watch(this.socket);
  }

  private watch(socket: Socket): void {
    socket.on("error", (e) =>
      this.fail(this.tlsFailure(e) ?? { kind: "socket", message: e.message }),
    );
    // FIN from the server: closed now, so that it is not lent again before the socket's close.
    socket.on("end", () => this.closed());
    socket.on("close", () => this.closed());
    socket.on("drain", () => this.owner && resume(this.owner.socket));
  }

  /** Logs in; `done` is called once, with undefined when the server sent ReadyForQuery. */
  open(timeoutMs: number, done: (failure: ConnectFailure | undefined) => void): void {
    this.onReady = done;
    const timer = setTimeout(
      () => this.fail({ kind: "socket", message: `no answer within ${timeoutMs} ms` }),
      timeoutMs,
    );
    timer.unref();
    this.socket.once("close", () => clearTimeout(timer));
    this.socket.once("connect", () => {
      if (this.target.tls === undefined || this.target.tls.mode === "disable") this.startup();
      else {
        this.socket.on("data", this.onSslAnswer);
        this.socket.write(serialize.sslRequest());
      }
    });
    this.onReadyTimer = timer;
  }

  private onReadyTimer: NodeJS.Timeout | undefined;
  /** TLS is being negotiated: errors now are TLS failures. */
  private handshaking = false;

  private startup(): void {
    this.socket.write(
      serialize.startup({ user: this.target.user, database: this.target.database }),
    );
  }

  /** The node's answer to SSLRequest: one byte, S or N. */
  private readonly onSslAnswer = (chunk: Buffer): void => {
    const socket = this.socket;
    socket.removeListener("data", this.onSslAnswer);
    const tls = this.target.tls!;
    const next = sslAnswer(chunk, tls, this.target.node);
    if (next === "plain") {
      socket.on("data", this.onData);
      this.startup();
      return;
    }
    if (next !== "tls") {
      this.fail(next);
      return;
    }
    this.handshaking = true;
    const secure = tlsConnect({ socket, ...tlsOptions(tls, this.target.host) });
    this.socket = secure;
    this.out = new Outbox(secure);
    this.watch(secure);
    secure.on("data", this.onData);
    secure.once("secureConnect", () => {
      this.handshaking = false;
      this.startup();
    });
  };

  /** A TLS failure for an error while TLS is negotiated. */
  private tlsFailure(e: Error): ConnectFailure | undefined {
    if (!this.handshaking) return undefined;
    const { node, tls } = this.target;
    return { kind: "tls", message: nodeTlsFailures.handshake(node, tls!.mode, e.message) };
  }

  /** Number of requests sent and not yet answered. */
  get inFlight(): number {
    return this.pending.length - this.head;
  }

  /** Idle outside a transaction with nothing in flight: it can be lent to another client. */
  get reusable(): boolean {
    return (
      this.state === "ready" &&
      this.inFlight === 0 &&
      this.status === STATUS_IDLE &&
      !this.errorSent
    );
  }

  /** Queues a frame and what it expects back. */
  send(frame: Buffer, entry: number): void {
    this.out.push(frame);
    this.pending.push(entry);
  }

  /**
   * Queues `statement`'s Parse, which the server has, for a client that prepares its name
   * `clientName` again: the server refuses it (42P05) and skips to Sync, in order with the
   * rest of the pipeline, and the error the client receives names `clientName`.
   */
  sendDuplicateParse(statement: PreparedStatement, clientName: string): void {
    this.duplicates.push(clientName);
    this.send(statement.parse, PARSE_DUPLICATE | (statement.id << ID_SHIFT));
  }

  /** Queues a frame that expects nothing back (Flush, CopyData, CopyDone, CopyFail). */
  sendUntracked(frame: Buffer): void {
    this.out.push(frame);
  }

  /** A response the router makes up (PARSE_SYNTH, CLOSE_SYNTH), emitted when its turn comes. */
  synthesize(entry: number): void {
    if (this.head === this.pending.length) this.emitSynthetic(entry);
    else this.pending.push(entry);
  }

  /** Runs SQL for the router itself; every response is swallowed. */
  sendSilent(sql: string): void {
    this.send(serialize.query(sql), QUERY_SILENT);
  }

  /**
   * Runs SQL for the router, hidden from the client (e.g. the WAL position after a write):
   * `done` gets the first DataRow as text at its ReadyForQuery, or undefined when it failed or
   * the connection closed.
   */
  probe(sql: string, done: (row: (string | null)[] | undefined) => void): void {
    this.probes.push(done);
    this.send(serialize.query(sql), PROBE);
  }

  /** Runs SQL with no owner (reset before reuse); `done(ok)` when its ReadyForQuery arrives. */
  runQuiet(sql: string, done: (ok: boolean) => void): void {
    this.whenQuiet = done;
    this.quietFailed = false;
    this.sendSilent(sql);
    this.flush();
  }

  /** Writes the outbox; pauses the client while the server's socket buffer is full. */
  flush(): void {
    if (!this.out.flush() && this.owner) this.owner.socket.pause();
  }

  /** After DISCARD ALL: settings the router set and the server does not report are unknown again. */
  forgetUnreported(): void {
    for (const name of this.params.keys()) if (!this.reported.has(name)) this.params.delete(name);
    this.settingsId = 0;
  }

  /** Closes the connection (Terminate, then FIN). */
  close(): void {
    if (this.state === "closed") return;
    if (this.state === "ready" && this.socket.writable) this.socket.end(serialize.terminate());
    else this.socket.destroy();
    this.markClosed();
  }

  /** Bytes [0, size) of the read buffer arrived (onread, plain sockets). */
  private read(chunk: Buffer, size: number): void {
    this.take(chunk, size);
    const sentTo = this.sentTo;
    if (sentTo !== undefined) {
      this.sentTo = undefined;
      if (sentTo.out.holdsBytes()) this.readBuffer = Buffer.allocUnsafe(READ_SIZE);
    }
  }

  /** A chunk of its own arrived ('data': over TLS, or in plain text after prefer got N). */
  private readonly onData = (chunk: Buffer): void => {
    this.take(chunk, chunk.length);
    this.sentTo = undefined;
  };

  private take(chunk: Buffer, size: number): void {
    try {
      if (this.state === "connecting")
        this.parser.parse(chunk.subarray(0, size), this.onLoginFrame);
      else this.parser.parseSpans(chunk, this.onFrame, size);
    } catch (e) {
      const message = isProtocolError(e) ? e.message : String(e);
      this.fail({ kind: "socket", message: `bad data from the server: ${message}` });
      return;
    }
    const owner = this.owner;
    if (owner !== undefined) {
      if (!owner.flushOut()) this.socket.pause();
      if (this.idleAtEnd) {
        this.idleAtEnd = false;
        if (this.owner === owner && this.reusable) owner.serverIdle(this);
      }
    }
  }

  /** Queues buffer[start, end), a frame of the current read, for the owner. */
  private forward(buffer: Buffer, start: number, end: number): void {
    const owner = this.owner;
    if (owner === undefined) return;
    owner.out.pushSpan(buffer, start, end);
    this.sentTo = owner;
  }

  private readonly onLoginFrame = (code: number, body: Buffer): void => {
    switch (code) {
      case BackendCode.Authentication:
        this.authenticate(body);
        return;
      case BackendCode.ParameterStatus: {
        const { name, value } = readParameterStatus(body);
        this.params.set(name, value);
        this.reported.add(name);
        return;
      }
      case BackendCode.BackendKeyData: {
        const { pid, key } = readBackendKeyData(body);
        this.pid = pid;
        this.key = key;
        return;
      }
      case BackendCode.ErrorResponse:
        this.fail({ kind: "server", fields: readErrorFields(body) });
        return;
      case BackendCode.ReadyForQuery: {
        this.state = "ready";
        clearTimeout(this.onReadyTimer);
        const done = this.onReady;
        this.onReady = undefined;
        done?.(undefined);
        return;
      }
      // NoticeResponse, NegotiateProtocolVersion: nothing to do.
    }
  };

  private authenticate(body: Buffer): void {
    const auth = readAuthentication(body);
    const { user, password } = this.target;
    switch (auth.kind) {
      case "ok":
        return;
      case "sasl":
        if (!auth.mechanisms.includes(ScramClient.mechanism)) break;
        this.scram = new ScramClient(password);
        this.socket.write(
          serialize.saslInitialResponse(ScramClient.mechanism, this.scram.clientFirst()),
        );
        return;
      case "sasl-continue":
        this.socket.write(serialize.saslResponse(this.scram!.clientFinal(auth.data)));
        return;
      case "sasl-final":
        this.scram!.verifyServerFinal(auth.data);
        return;
      case "cleartext":
        this.socket.write(serialize.password(password));
        return;
      case "md5": {
        // "md5" + md5(md5(password + user) + salt), hex.
        const inner = createHash("md5").update(password).update(user).digest("hex");
        const outer = createHash("md5").update(inner).update(auth.salt).digest("hex");
        this.socket.write(serialize.password(`md5${outer}`));
        return;
      }
    }
    this.fail({
      kind: "socket",
      message: `the server asks for an authentication method the router does not speak`,
    });
  }

  // The hot path: one call per message from the server.
  // Frames are positions in `buffer` (the read buffer, or the parser's for one that straddled
  // reads); a view is made only of the bodies the router decodes.
  private readonly onFrame = (
    code: number,
    buffer: Buffer,
    frameStart: number,
    bodyStart: number,
    end: number,
  ): void => {
    // The rest of a chunk after a FATAL: the connection is gone and so is its owner.
    if (this.state === "closed") return;
    const pending = this.pending;
    const front = this.head < pending.length ? pending[this.head]! & KIND_MASK : 0;
    // The front request was answered: made-up answers queued behind it are due after this one.
    let answered = false;
    switch (code) {
      case BackendCode.DataRow:
        if (front === QUERY_SILENT) {
          if (pending[this.head] === PROBE && this.probeRow === undefined) {
            this.probeRow = readDataRow(buffer.subarray(bodyStart, end)).map((v) =>
              v === null ? null : v.toString(),
            );
          }
          return;
        }
        break;
      case BackendCode.ReadyForQuery: {
        this.status = buffer[bodyStart]!;
        if (front === QUERY_SILENT) {
          const probe = pending[this.head] === PROBE;
          this.pop();
          this.emitSyntheticAtFront();
          if (probe) this.endProbe();
          else if (this.head === pending.length && this.whenQuiet) {
            const done = this.whenQuiet;
            this.whenQuiet = undefined;
            done(!this.quietFailed);
          }
          return;
        }
        if (front === SYNC || front === QUERY) {
          this.pop();
          const stats = this.stats;
          if (stats !== undefined) {
            const node = this.target.node;
            stats.recordUnit(stats.routeOf(node), node, this.status === STATUS_IDLE);
          }
        }
        this.errorSent = false;
        if (this.head === pending.length && this.status === STATUS_IDLE) this.idleAtEnd = true;
        answered = true;
        break;
      }
      case BackendCode.ParameterStatus: {
        const { name, value } = readParameterStatus(buffer.subarray(bodyStart, end));
        this.params.set(name, value);
        this.settingsId = 0;
        // A change the client asked for, or the canonical form of one the router set for it.
        this.owner?.parameterChanged(name, value);
        if (front === QUERY_SILENT) return;
        break;
      }
      case BackendCode.ErrorResponse: {
        // FATAL and PANIC end the server's session: it exits after sending them.
        // https://www.postgresql.org/docs/17/protocol-flow.html#PROTOCOL-FLOW-TERMINATION
        const fields = readErrorFields(buffer.subarray(bodyStart, end));
        const severity = fields.severityNonLocalized ?? fields.severity;
        const ending = severity === "FATAL" || severity === "PANIC";
        if (front === QUERY_SILENT) {
          this.quietFailed = true;
          if (pending[this.head] === PROBE) this.probeFailed = true;
          if (ending) this.close();
          return;
        }
        const owner = this.owner;
        if (front === 0 && (owner === undefined || (this.idleAtEnd && owner.releasesWhenIdle))) {
          // Nothing in flight and no session on the connection: the server is going away
          // (shutdown, pg_terminate_backend, idle_session_timeout) after the owner's last unit
          // of work, or while pooled. Not the client's error; the connection is not lent again.
          this.close();
          return;
        }
        this.errorSent = true;
        this.stats?.recordError(fields.code, "server");
        if (front === PARSE_DUPLICATE && fields.code === "42P05" && owner !== undefined) {
          const server = serverStatementName(pending[this.head]! >> ID_SHIFT);
          const client = this.duplicates[0]!;
          const rename = (text: string | undefined) => text?.split(server).join(client);
          owner.out.push(
            serialize.errorResponse({
              ...fields,
              message: rename(fields.message)!,
              detail: rename(fields.detail),
              fields: fields.fields,
            }),
          );
          this.skipToSync();
          return;
        }
        if (front !== QUERY && front !== SYNC && front !== 0) this.skipToSync();
        if (ending) {
          // Forwarded now; the close tells the owner which units get no answer.
          this.forward(buffer, frameStart, end);
          this.close();
          return;
        }
        break;
      }
      case BackendCode.ParseComplete:
        if (front === PARSE_SILENT) {
          this.pop();
          this.emitSyntheticAtFront();
          return;
        }
        if (front === PARSE) answered = this.pop();
        else if (front === PARSE_DUPLICATE) {
          this.duplicates.shift();
          answered = this.pop();
        }
        break;
      case BackendCode.BindComplete:
        if (front === BIND) answered = this.pop();
        break;
      case BackendCode.CloseComplete:
        if (front === CLOSE) answered = this.pop();
        break;
      case BackendCode.RowDescription:
      case BackendCode.NoData:
        if (front === DESCRIBE) answered = this.pop();
        else if (front === QUERY_SILENT) return;
        break;
      case BackendCode.CommandComplete:
      case BackendCode.EmptyQueryResponse:
      case BackendCode.PortalSuspended:
        if (front === EXECUTE) answered = this.pop();
        else if (front === QUERY_SILENT) return;
        break;
      default:
        if (front === QUERY_SILENT) return;
    }
    this.forward(buffer, frameStart, end);
    if (answered) this.emitSyntheticAtFront();
  };

  private endProbe(): void {
    const row = this.probeFailed ? undefined : this.probeRow;
    this.probeRow = undefined;
    this.probeFailed = false;
    this.probes.shift()?.(row);
  }

  /** Drops the front request; returns true. */
  private pop(): boolean {
    if (++this.head === this.pending.length) {
      this.pending.length = 0;
      this.head = 0;
    }
    return true;
  }

  private emitSyntheticAtFront(): void {
    const pending = this.pending;
    while (this.head < pending.length) {
      const kind = pending[this.head]! & KIND_MASK;
      if (kind !== PARSE_SYNTH && kind !== CLOSE_SYNTH) return;
      this.pop();
      this.emitSynthetic(kind);
    }
  }

  private emitSynthetic(kind: number): void {
    this.owner?.out.push((kind & KIND_MASK) === PARSE_SYNTH ? parseComplete : closeComplete);
  }

  /**
   * After an error in an extended-query sequence the server skips everything up to Sync: those
   * requests get no answer, and statements they would have prepared are not prepared.
   */
  private skipToSync(): void {
    const pending = this.pending;
    while (this.head < pending.length) {
      const entry = pending[this.head]!;
      const kind = entry & KIND_MASK;
      if (kind === SYNC) return;
      if ((kind === PARSE || kind === PARSE_SILENT) && entry >> ID_SHIFT !== 0) {
        this.prepared.delete(entry >> ID_SHIFT);
      } else if (kind === PARSE_DUPLICATE) this.duplicates.shift();
      this.pop();
    }
  }

  /** Sync and Query requests still waiting for their ReadyForQuery. */
  private unansweredGroups(): number {
    let n = 0;
    for (let i = this.head; i < this.pending.length; i++) {
      const kind = this.pending[i]! & KIND_MASK;
      if (kind === SYNC || kind === QUERY) n++;
    }
    return n;
  }

  private fail(failure: ConnectFailure): void {
    if (this.state === "closed") return;
    const done = this.onReady;
    this.onReady = undefined;
    this.socket.destroy();
    this.markClosed();
    done?.(failure);
  }

  private closed(): void {
    if (this.state !== "closed") {
      const done = this.onReady;
      this.onReady = undefined;
      this.markClosed();
      done?.({ kind: "socket", message: "the server closed the connection" });
    }
  }

  private markClosed(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    clearTimeout(this.onReadyTimer);
    // Closed while logging in (the router closes a fenced node's connections): the pool learns.
    const login = this.onReady;
    this.onReady = undefined;
    login?.({ kind: "socket", message: "the router closed the connection" });
    const owner = this.owner;
    if (owner) {
      const groups = this.unansweredGroups();
      const errorSent = this.errorSent;
      this.owner = undefined;
      // The client receives 08006 (connection lost) for what it had in flight.
      this.stats?.recordError("08006", "router");
      owner.serverLost(this, groups, errorSent);
    }
    const quiet = this.whenQuiet;
    this.whenQuiet = undefined;
    quiet?.(false);
    for (const done of this.probes.splice(0)) done(undefined);
    this.onClosed(this);
  }
}

function resume(socket: Socket): void {
  if (socket.isPaused()) socket.resume();
}

import { connect as netConnect, type Socket } from "node:net";
import {
  BackendCode,
  isProtocolError,
  ProtocolError,
  readAuthentication,
  readErrorFields,
  readParameterStatus,
  ScramClient,
  serialize,
} from "../protocol/index.js";
import { type BackendMessage, MessageQueue } from "./message-queue.js";
import * as command from "./replication-command.js";
import { ReplicationError } from "./replication-error.js";
import { type ResultSet, ResultSets } from "./result-sets.js";
import { type ConnectionPhase, type ServerErrorContext, serverError } from "./server-error.js";

export interface ReplicationTarget {
  /** Node name, for error messages. */
  node: string;
  host: string;
  port: number;
  /** A role with REPLICATION (or a superuser). */
  user: string;
  password: string;
  /** Shown in pg_stat_replication/pg_stat_activity; default "dbmesh". */
  application_name?: string;
}

export interface SystemIdentity {
  /** Decimal text: a uint64 does not fit a JS number. */
  systemId: string;
  timeline: number;
  /** Current WAL flush location, "X/Y". */
  xlogpos: string;
  /** Null on a physical replication connection. */
  dbname: string | null;
}

const DEFAULT_TIMEOUT_MS = 10_000;
// TCP keepalive detects an upstream host that vanished during a long backup.
const KEEPALIVE_MS = 10_000;

const CONNECT_ERRNOS = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EADDRNOTAVAIL",
]);

function connectError(t: ReplicationTarget, cause: Error | undefined): ReplicationError {
  const at = `${t.host}:${t.port}`;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EAI_AGAIN") {
    return new ReplicationError({
      kind: "connect",
      node: t.node,
      problem: `cannot connect to ${at} (${code})`,
      hint: `check that node "${t.node}" is running and listens on ${at}`,
      cause,
    });
  }
  const how = code ? ` (${code})` : "";
  return new ReplicationError({
    kind: "connect",
    node: t.node,
    problem: `the connection to ${at} was closed unexpectedly${how}`,
    hint: `node "${t.node}" may have stopped or restarted; see its server log, then retry`,
    cause,
  });
}

/**
 * A connection in physical replication mode (startup parameter replication=true), authenticated
 * with SCRAM-SHA-256. Commands run one at a time.
 * https://www.postgresql.org/docs/17/protocol-replication.html
 */
export class ReplicationConnection {
  private phase: ConnectionPhase = "startup";
  private busy = false;
  private closed = false;
  private address = "";
  private unwatch: () => void = () => {};

  /** ParameterStatus values sent at startup (server_version, ...). */
  readonly parameters = new Map<string, string>();

  private constructor(
    private readonly socket: Socket,
    private readonly queue: MessageQueue,
    readonly target: ReplicationTarget,
  ) {}

  /** The client's address as the server sees it (for pg_hba.conf). */
  get clientAddress(): string {
    return this.address;
  }

  /**
   * Connects and authenticates within `timeoutMs`. `signal` aborts the attempt, and later any
   * running command, with kind "aborted".
   */
  static async connect(
    t: ReplicationTarget,
    timeoutMs = DEFAULT_TIMEOUT_MS,
    signal?: AbortSignal,
  ): Promise<ReplicationConnection> {
    if (signal?.aborted) throw abortedError(t, signal);
    const queue = new MessageQueue((cause) => connectError(t, cause));
    const socket = netConnect({ host: t.host, port: t.port, onread: queue.onread });
    queue.attach(socket);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, KEEPALIVE_MS);
    let failWith: (e: unknown) => void = () => {};
    const failed = new Promise<never>((_, reject) => {
      failWith = reject;
    });
    failed.catch(() => {});
    const fail = (e: unknown) => {
      failWith(e);
      queue.destroy(e);
      socket.destroy();
    };
    socket.once("error", (e) => failWith(connectError(t, e)));
    const timer = setTimeout(() => {
      fail(
        new ReplicationError({
          kind: "connect",
          node: t.node,
          problem: `no answer from ${t.host}:${t.port} within ${timeoutMs} ms`,
          hint: `check that node "${t.node}" is running and reachable`,
        }),
      );
    }, timeoutMs);
    const onAbort = () => fail(abortedError(t, signal));
    signal?.addEventListener("abort", onAbort, { once: true });
    const conn = new ReplicationConnection(socket, queue, t);
    try {
      await Promise.race([new Promise<void>((resolve) => socket.once("connect", resolve)), failed]);
      conn.address = socket.localAddress ?? "";
      await Promise.race([conn.startup(), failed]);
    } catch (e) {
      const err = conn.classify(e);
      fail(err);
      throw err;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
    if (signal) {
      const later = () => conn.destroy(abortedError(t, signal));
      signal.addEventListener("abort", later, { once: true });
      conn.unwatch = () => signal.removeEventListener("abort", later);
    }
    return conn;
  }

  /** IDENTIFY_SYSTEM: system identifier, timeline, current WAL position. */
  async identifySystem(): Promise<SystemIdentity> {
    const row = singleRow(await this.command(command.identifySystem()), "IDENTIFY_SYSTEM", 4);
    const [systemId, timeline, xlogpos, dbname] = row;
    if (!systemId || !/^\d+$/.test(systemId) || !timeline || !/^\d+$/.test(timeline) || !xlogpos) {
      throw new ProtocolError(`malformed IDENTIFY_SYSTEM row ${JSON.stringify(row)}`);
    }
    return { systemId, timeline: Number(timeline), xlogpos, dbname: dbname ?? null };
  }

  /**
   * CREATE_REPLICATION_SLOT name [TEMPORARY] PHYSICAL [(RESERVE_WAL)]. RESERVE_WAL makes the
   * slot hold WAL from now on rather than from its first use. An existing slot fails with
   * SQLSTATE 42710 (kind "server").
   */
  async createPhysicalSlot(
    name: string,
    opts: { reserveWal?: boolean; temporary?: boolean } = {},
  ): Promise<{ slotName: string; consistentPoint: string | null }> {
    const row = singleRow(
      await this.command(command.createPhysicalSlot(name, opts)),
      "CREATE_REPLICATION_SLOT",
      4,
    );
    // consistent_point is the slot's confirmed_flush, which a physical slot does not have: the
    // server sends InvalidXLogRecPtr as "0/0".
    const point = row[1] ?? null;
    return { slotName: row[0] ?? name, consistentPoint: point === "0/0" ? null : point };
  }

  /** DROP_REPLICATION_SLOT name; a missing slot fails with 42704, an active one with 55006. */
  async dropSlot(name: string): Promise<void> {
    await this.command(command.dropSlot(name));
  }

  /** Runs a command that answers with result sets and ReadyForQuery. */
  async command(sql: string): Promise<ResultSet[]> {
    const sets = new ResultSets();
    await this.stream(sql, (m) => {
      if (!sets.take(m.code, m.body)) {
        throw new ProtocolError(`unexpected message type ${m.code} in the answer to ${sql}`);
      }
    });
    return sets.sets;
  }

  /**
   * Sends a command and passes every message up to ReadyForQuery to `onMessage`, except
   * NoticeResponse, ParameterStatus and ErrorResponse. An ErrorResponse is thrown as a
   * ReplicationError (at ReadyForQuery, or at once when FATAL). When `onMessage` throws, or the
   * connection breaks, the connection is destroyed.
   */
  async stream(sql: string, onMessage: (m: BackendMessage) => void | Promise<void>): Promise<void> {
    if (this.closed) throw connectError(this.target, new Error("connection is closed"));
    if (this.busy) throw new Error("another replication command is running on this connection");
    this.busy = true;
    let error: ReplicationError | undefined;
    let handlerError: unknown;
    let atReady = false;
    try {
      this.socket.write(serialize.query(sql));
      for (;;) {
        const m = await this.queue.next();
        switch (m.code) {
          case BackendCode.ErrorResponse: {
            const fields = readErrorFields(m.body);
            error ??= serverError(fields, this.context());
            const severity = fields.severityNonLocalized ?? fields.severity;
            if (severity === "FATAL" || severity === "PANIC") throw error;
            break;
          }
          case BackendCode.ReadyForQuery:
            atReady = true;
            if (error) throw error;
            return;
          case BackendCode.NoticeResponse:
          case BackendCode.ParameterStatus:
            break;
          default:
            if (error) break;
            try {
              await onMessage(m);
            } catch (e) {
              handlerError = e;
              throw e;
            }
        }
      }
    } catch (e) {
      // The handler's own errors pass through as they are.
      const err = e === handlerError ? e : this.classify(e);
      // After ReadyForQuery the connection is usable again; otherwise its state is unknown.
      if (!atReady) this.destroy(err);
      throw err;
    } finally {
      this.busy = false;
    }
  }

  /** Breaks the connection at once; a running command rejects with `reason`. */
  destroy(reason?: unknown): void {
    this.closed = true;
    this.unwatch();
    this.queue.destroy(reason ?? connectError(this.target, new Error("connection destroyed")));
    this.socket.destroy();
  }

  /** Terminate, then close the socket. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unwatch();
    await new Promise<void>((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.once("close", () => resolve());
      this.socket.end(serialize.terminate());
      setTimeout(() => this.socket.destroy(), 2000).unref();
    });
  }

  private async startup(): Promise<void> {
    const t = this.target;
    this.socket.write(
      serialize.startup({
        user: t.user,
        replication: "true",
        application_name: t.application_name ?? "dbmesh",
        client_encoding: "UTF8",
      }),
    );
    let scram: ScramClient | undefined;
    for (;;) {
      const m = await this.queue.next();
      switch (m.code) {
        case BackendCode.Authentication: {
          const auth = readAuthentication(m.body);
          switch (auth.kind) {
            case "ok":
              this.phase = "authenticated";
              break;
            case "sasl":
              if (!auth.mechanisms.includes(ScramClient.mechanism)) {
                throw this.authMethodError(`SASL mechanisms ${auth.mechanisms.join(", ")}`);
              }
              this.phase = "authenticating";
              scram = new ScramClient(t.password);
              this.socket.write(
                serialize.saslInitialResponse(ScramClient.mechanism, scram.clientFirst()),
              );
              break;
            case "sasl-continue":
              if (!scram) throw new ProtocolError("SASL continue before SASL start");
              this.socket.write(serialize.saslResponse(scram.clientFinal(auth.data)));
              break;
            case "sasl-final":
              if (!scram) throw new ProtocolError("SASL final before SASL start");
              scram.verifyServerFinal(auth.data);
              break;
            case "cleartext":
            case "md5":
              throw this.authMethodError(`${auth.kind} password authentication`);
            default:
              throw this.authMethodError(`authentication method ${auth.method}`);
          }
          break;
        }
        case BackendCode.ErrorResponse:
          throw serverError(readErrorFields(m.body), this.context());
        case BackendCode.ParameterStatus: {
          const { name, value } = readParameterStatus(m.body);
          this.parameters.set(name, value);
          break;
        }
        case BackendCode.ReadyForQuery:
          if (this.phase !== "authenticated") {
            throw new ProtocolError("ReadyForQuery before AuthenticationOk");
          }
          return;
        case BackendCode.BackendKeyData:
        case BackendCode.NoticeResponse:
        case BackendCode.NegotiateProtocolVersion:
          break;
        default:
          throw new ProtocolError(`unexpected message type ${m.code} during startup`);
      }
    }
  }

  private authMethodError(what: string): ReplicationError {
    return new ReplicationError({
      kind: "auth",
      node: this.target.node,
      problem: `the server asks for ${what}; dbmesh authenticates only with SCRAM-SHA-256`,
      hint: `use scram-sha-256 in the pg_hba.conf line for replication connections of role ${this.target.user} on node "${this.target.node}"`,
    });
  }

  private context(): ServerErrorContext {
    return {
      node: this.target.node,
      user: this.target.user,
      clientAddress: this.clientAddress,
      phase: this.phase,
    };
  }

  private classify(e: unknown): ReplicationError {
    return classify(this.target, e);
  }
}

function abortedError(t: ReplicationTarget, signal: AbortSignal | undefined): ReplicationError {
  return new ReplicationError({
    kind: "aborted",
    node: t.node,
    problem: "the operation was aborted",
    hint: "run it again when wanted",
    cause: signal?.reason,
  });
}

/** Any failure on a replication connection as a ReplicationError. */
function classify(t: ReplicationTarget, e: unknown): ReplicationError {
  if (e instanceof ReplicationError) return e;
  if (isProtocolError(e)) {
    // ScramClient: 28P01 when the server sent e=..., 28000 when its signature is wrong.
    if (e.code === "28P01" || e.code === "28000") {
      return new ReplicationError({
        kind: "auth",
        node: t.node,
        problem: e.message,
        hint: `check the password of role ${t.user} and that ${t.host}:${t.port} is node "${t.node}"`,
        sqlstate: e.code,
        cause: e,
      });
    }
    return new ReplicationError({
      kind: "protocol",
      node: t.node,
      problem: `protocol error: ${e.message}`,
      hint: `check that ${t.host}:${t.port} is a PostgreSQL 15 or later server`,
      sqlstate: e.code,
      cause: e,
    });
  }
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined && CONNECT_ERRNOS.has(code)) return connectError(t, e as Error);
  return new ReplicationError({
    kind: "protocol",
    node: t.node,
    problem: `unexpected failure: ${(e as Error)?.message ?? String(e)}`,
    hint: "this is a bug in dbmesh; report it with the message",
    cause: e,
  });
}

function singleRow(sets: ResultSet[], what: string, columns: number): (string | null)[] {
  const set = sets.find((s) => s.columns.length > 0);
  const row = set?.rows[0];
  if (set?.rows.length !== 1 || !row || set.columns.length < columns) {
    throw new ProtocolError(`${what} did not return one row of ${columns} columns`);
  }
  return [...row];
}

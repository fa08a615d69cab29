import assert from "node:assert/strict";
import { connect, createServer, type Server, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import {
  BackendCode,
  BufferWriter,
  FrameParser,
  FrontendCode,
  readAuthentication,
  readDataRow,
  readErrorFields,
  readQuery,
  readStartup,
  ScramClient,
  serialize,
} from "../protocol/index.js";
import { freePort, freePorts } from "../testing/index.js";
import { NO_NODE_TLS } from "./node-tls.js";
import { readWriteSplit } from "./route.js";
import { Router } from "./router.js";
import type { RoutedDatabase, RoutedNode, RouterConfig } from "./router-config.js";
import { makeVerifier } from "./scram-server.js";
import { commandComplete, dataRow, parseComplete, readyIdle, rowDescription } from "./wire.js";

// Regression: while a node was going away (`dbmesh promote` stopping the old primary), a
// client's query sometimes completed with no row and no error, or the client got an
// ErrorResponse with nothing in flight. A FATAL the server sends after its last ReadyForQuery
// was forwarded to the client that had just finished, and marked the connection as having
// answered its next unit with an error: the client that borrowed it next got a ReadyForQuery
// alone. A scripted backend cuts its connection at every point of a unit of work (before the
// reply, after each message of it, after its ReadyForQuery, during the router's hidden probe,
// while the client still sends the unit, while the client waits in the pool) and each client
// must get, for each Query or Sync, its rows or one error, then exactly one ReadyForQuery, and
// nothing when it has nothing in flight. Also: a connection is not lent again after a client
// left it mid-unit, and closing a connection that is logging in tells the client waiting for it.
// https://www.postgresql.org/docs/17/protocol-flow.html

const PASSWORD = "lost-secret";
const WAL_PROBE = "pg_current_wal_lsn";

/** How a connection ends: FIN, or FATAL 57P01 then FIN, or FATAL now and FIN at its next message. */
type CutKind = "close" | "fatal" | "fatal-late";

/** Cut the connection that runs the next unit of work whose SQL matches, after `after` reply frames. */
interface Cut {
  readonly sql: RegExp;
  readonly after: number;
  readonly kind: CutKind;
}

const bindComplete = new BufferWriter().finish(BackendCode.BindComplete);
const adminShutdown = serialize.errorResponse({
  severity: "FATAL",
  code: "57P01",
  message: "terminating connection due to administrator command",
});

/**
 * A PostgreSQL stand-in: logs anyone in, answers every statement with one row, extended-protocol
 * units as a server does (skipping to Sync after an error), and cuts where it is told. A chunk's
 * answers go out in one write, as a busy server's do.
 */
class ScriptedBackend {
  cut: Cut | undefined;
  /** Logins to refuse (FATAL 57P03) before accepting again. */
  refuseLogins = 0;
  /** Logins to leave unanswered before accepting again. */
  stallLogins = 0;
  readonly sockets = new Set<Socket>();
  private readonly servers: Server[] = [];
  private counter = 0;
  private connections = 0;

  /** Listens on each of `ports`: one per node, all answering alike. */
  async start(ports: readonly number[]): Promise<void> {
    for (const port of ports) {
      const server = createServer((s) => this.serve(s));
      this.servers.push(server);
      await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    }
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all(
      this.servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
    );
  }

  private serve(socket: Socket): void {
    const connection = ++this.connections;
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
    socket.on("error", () => {});
    const parser = new FrameParser({ startup: true });
    let out: Buffer[] = [];
    let loggedIn = false;
    let dead = false;
    let lateClose = false;
    let skipping = false;
    let hasPortal = false;
    let status = "I";
    // The unit of work being answered: whether the cut applies to it, and frames sent so far.
    let cutting: Cut | undefined;
    let sent = 0;
    const cutNow = (kind: CutKind) => {
      dead = true;
      if (kind !== "close") out.push(adminShutdown);
      socket.write(Buffer.concat(out));
      out = [];
      if (kind === "fatal-late") lateClose = true;
      else socket.end();
    };
    const emit = (frame: Buffer) => {
      if (dead) return;
      out.push(frame);
      if (cutting !== undefined && ++sent === cutting.after) cutNow(cutting.kind);
    };
    const startUnit = (sql: string) => {
      if (cutting !== undefined || this.cut === undefined || !this.cut.sql.test(sql)) return;
      cutting = this.cut;
      this.cut = undefined;
      sent = 0;
      if (cutting.after === 0) cutNow(cutting.kind);
    };
    const endUnit = () => {
      emit(serialize.readyForQuery(status as "I"));
      cutting = undefined;
      skipping = false;
    };
    const fail = (code: string, message: string) => {
      emit(serialize.errorResponse({ severity: "ERROR", code, message }));
      skipping = true;
    };
    const statement = (sql: string) => {
      if (/^begin/i.test(sql)) status = "T";
      if (/^(commit|rollback)/i.test(sql)) status = "I";
      const tag = sql.split(" ")[0]!.toUpperCase();
      if (tag === "BEGIN" || tag === "COMMIT" || tag === "ROLLBACK") return [commandComplete(tag)];
      // Each row names the connection that ran it.
      const value = sql.includes(WAL_PROBE) ? "0/3000060" : `${connection}/${++this.counter}`;
      return [dataRow([value]), commandComplete("SELECT 1")];
    };
    let unnamedSql = "";
    socket.on("data", (chunk: Buffer) => {
      if (lateClose) {
        socket.end();
        return;
      }
      parser.parse(chunk, (code, body) => {
        if (dead) return;
        if (!loggedIn) {
          const request = readStartup(body);
          if (request.kind !== "startup") return;
          if (this.stallLogins > 0) {
            this.stallLogins--;
            dead = true;
            return;
          }
          if (this.refuseLogins > 0) {
            this.refuseLogins--;
            dead = true;
            out.push(
              serialize.errorResponse({
                severity: "FATAL",
                code: "57P03",
                message: "the database system is shutting down",
              }),
            );
            socket.end(Buffer.concat(out));
            return;
          }
          loggedIn = true;
          out.push(serialize.authenticationOk());
          out.push(serialize.parameterStatus("server_version", "17.0"));
          out.push(serialize.parameterStatus("client_encoding", "UTF8"));
          out.push(serialize.backendKeyData(socket.remotePort ?? 1, 7));
          out.push(readyIdle);
          return;
        }
        if (skipping && code !== FrontendCode.Sync) return;
        switch (code) {
          case FrontendCode.Query: {
            const sql = readQuery(body);
            startUnit(sql);
            emit(rowDescription(["n"]));
            for (const f of statement(sql)) emit(f);
            endUnit();
            return;
          }
          case FrontendCode.Parse: {
            const nameEnd = body.indexOf(0);
            unnamedSql = body.toString("utf8", nameEnd + 1, body.indexOf(0, nameEnd + 1));
            startUnit(unnamedSql);
            emit(parseComplete);
            return;
          }
          case FrontendCode.Bind:
            if (unnamedSql === "") return fail("26000", 'prepared statement "" does not exist');
            hasPortal = true;
            emit(bindComplete);
            return;
          case FrontendCode.Describe:
            if (!hasPortal) return fail("34000", 'portal "" does not exist');
            emit(rowDescription(["n"]));
            return;
          case FrontendCode.Execute:
            if (!hasPortal) return fail("34000", 'portal "" does not exist');
            for (const f of statement(unnamedSql)) emit(f);
            return;
          case FrontendCode.Sync:
            hasPortal = false;
            endUnit();
            return;
          case FrontendCode.Terminate:
            socket.end();
            return;
          // Flush: the answers so far go out below.
        }
      });
      if (out.length > 0 && !dead) socket.write(Buffer.concat(out));
      out = [];
    });
  }
}

interface Answer {
  /** Type letters of the messages up to and including ReadyForQuery. */
  readonly codes: string;
  readonly rows: string[];
  readonly errors: string[];
}

/** A client on a raw socket: every frame checked against what it has in flight. */
class RawClient {
  /** Frames that arrived while the client had nothing in flight. */
  readonly unsolicited: string[] = [];
  private readonly parser = new FrameParser();
  private readonly frames: { code: number; body: Buffer }[] = [];
  private waiter: (() => void) | undefined;
  private ended = false;
  private inFlight = 1; // the login's ReadyForQuery
  /** Extended-protocol messages sent since the last Sync: their answers may come before it. */
  private unitOpen = false;

  private constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.parser.parse(chunk, (code, body) => {
        if (this.inFlight === 0 && !this.unitOpen) {
          const what = code === BackendCode.ErrorResponse ? ` ${readErrorFields(body).code}` : "";
          this.unsolicited.push(`${String.fromCharCode(code)}${what}`);
        }
        if (code === BackendCode.ReadyForQuery) this.inFlight--;
        this.frames.push({ code, body: Buffer.from(body) });
      });
      this.waiter?.();
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      this.ended = true;
      this.waiter?.();
    });
  }

  static async login(port: number): Promise<RawClient> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: "127.0.0.1", port }, () => resolve(s));
      s.once("error", reject);
    });
    const c = new RawClient(socket);
    const scram = new ScramClient(PASSWORD);
    socket.write(serialize.startup({ user: "app", database: "app" }));
    for (;;) {
      const { code, body } = await c.next();
      if (code === BackendCode.ReadyForQuery) return c;
      if (code === BackendCode.ErrorResponse) throw new Error(readErrorFields(body).message);
      if (code !== BackendCode.Authentication) continue;
      const auth = readAuthentication(body);
      if (auth.kind === "sasl") {
        socket.write(serialize.saslInitialResponse(ScramClient.mechanism, scram.clientFirst()));
      } else if (auth.kind === "sasl-continue") {
        socket.write(serialize.saslResponse(scram.clientFinal(auth.data)));
      } else if (auth.kind === "sasl-final") scram.verifyServerFinal(auth.data);
    }
  }

  /** Sends frames; each Query and Sync among them expects a ReadyForQuery. */
  send(...frames: Buffer[]): void {
    for (const f of frames) {
      const ends = f[0] === FrontendCode.Query || f[0] === FrontendCode.Sync;
      if (ends) this.inFlight++;
      this.unitOpen = !ends;
    }
    this.socket.write(Buffer.concat(frames));
  }

  /** The messages up to the next ReadyForQuery. */
  async answer(): Promise<Answer> {
    let codes = "";
    const rows: string[] = [];
    const errors: string[] = [];
    for (;;) {
      const { code, body } = await this.next();
      codes += String.fromCharCode(code);
      if (code === BackendCode.DataRow) rows.push(String(readDataRow(body)[0]));
      if (code === BackendCode.ErrorResponse) errors.push(readErrorFields(body).code);
      if (code === BackendCode.ReadyForQuery) return { codes, rows, errors };
    }
  }

  /** The messages received and not yet read, without waiting. */
  leftover(): string {
    return this.frames.map((f) => String.fromCharCode(f.code)).join("");
  }

  async next(): Promise<{ code: number; body: Buffer }> {
    while (this.frames.length === 0) {
      if (this.ended) throw new Error("the router closed the connection");
      await new Promise<void>((r) => {
        this.waiter = r;
      });
    }
    return this.frames.shift()!;
  }

  close(): void {
    this.socket.end(serialize.terminate());
  }
}

const extended = (sql: string) => [
  serialize.parse("", sql),
  serialize.bind("", ""),
  serialize.describe("P", ""),
  serialize.execute(""),
  serialize.sync(),
];

/** One unit's answer: its row, or one connection-class error; exactly one ReadyForQuery at the end. */
function assertOneOutcome(a: Answer, what: string): void {
  assert.ok(a.codes.endsWith("Z") && a.codes.indexOf("Z") === a.codes.length - 1, what);
  if (a.errors.length === 0) {
    assert.equal(a.rows.length, 1, `${what}: no row and no error (${a.codes})`);
    return;
  }
  assert.equal(a.errors.length, 1, `${what}: more than one error (${a.codes} ${a.errors})`);
  assert.match(a.errors[0]!, /^(08...|57P0[123])$/, `${what}: ${a.codes} ${a.errors}`);
}

describe("router: a server connection lost at any point of a unit of work", () => {
  const backend = new ScriptedBackend();
  let router: Router;
  let port: number;

  before(async () => {
    const [primaryPort, standbyPort] = await freePorts(2);
    await backend.start([primaryPort!, standbyPort!]);
    port = await freePort();
    const node = (name: string, port: number): RoutedNode => ({
      name,
      host: "127.0.0.1",
      port,
      capacity: 1,
      maxLag: { bytes: 1024, seconds: undefined },
    });
    const primary = node("primary", primaryPort!);
    const standby = node("standby", standbyPort!);
    const database: RoutedDatabase = {
      key: "app",
      name: "app",
      group: "primary",
      primary,
      standbys: [standby],
      members: [primary, standby],
      owner: "app",
    };
    const config: RouterConfig = {
      listen: { host: "127.0.0.1", port },
      mode: "transaction",
      poolSize: 1,
      queueTimeoutMs: 30_000,
      maxMessage: 1024 * 1024,
      readFromPrimary: false,
      healthIntervalMs: 1000,
      replayWaitMs: 100,
      tls: undefined,
      nodeTls: NO_NODE_TLS,
      nodes: new Map([
        ["primary", primary],
        ["standby", standby],
      ]),
      databases: new Map([["app", database]]),
      roles: new Map([
        ["app", { name: "app", password: PASSWORD, verifier: makeVerifier(PASSWORD) }],
      ]),
    };
    // SELECT goes to the standby; anything else to the primary, and the router reads the WAL
    // position after it (read-your-writes).
    const routing = readWriteSplit(
      { isRead: (sql) => /^select/i.test(sql) },
      { readFromPrimary: false },
    );
    router = new Router(config, { routing, log: () => {} });
    await router.start();
  });
  after(async () => {
    await router?.stop();
    await backend.stop();
  });

  /** Runs `unit` with `cut` armed, then two more statements; every answer is one outcome. */
  async function survives(cut: Cut, unit: Buffer[], what: string): Promise<void> {
    const c = await RawClient.login(port);
    try {
      backend.cut = cut;
      c.send(...unit);
      assertOneOutcome(await c.answer(), what);
      c.send(serialize.query("SELECT 'next'"));
      const next = await c.answer();
      assert.deepEqual(next.errors, [], `${what}: next query ${next.codes}`);
      assert.equal(next.rows.length, 1, `${what}: next query ${next.codes}`);
      c.send(...extended("SELECT 'next extended'"));
      const third = await c.answer();
      assert.equal(third.codes, "12TDCZ", `${what}: third query`);
      assert.deepEqual(c.unsolicited, [], `${what}: sent with nothing in flight`);
      assert.equal(backend.cut, undefined, `${what}: the cut happened`);
    } finally {
      backend.cut = undefined;
      c.close();
    }
  }

  const kinds: CutKind[] = ["close", "fatal", "fatal-late"];

  /**
   * The ways a reply of `frames` messages can be cut: FIN or FATAL before each message and after
   * the last; a FATAL whose FIN comes late only after the last (a server exits right after a
   * FATAL; only an idle connection can look alive a while after it).
   */
  function cuts(frames: number): [CutKind, number][] {
    const out: [CutKind, number][] = [];
    for (let after = 0; after <= frames; after++) out.push(["close", after], ["fatal", after]);
    out.push(["fatal-late", frames]);
    return out;
  }

  test("a simple Query: cut before its answer, after each message of it, after its ReadyForQuery", async () => {
    // RowDescription, DataRow, CommandComplete, ReadyForQuery.
    for (const statement of ["SELECT 'cut'", "INSERT INTO cut VALUES (1)"]) {
      for (const [kind, after] of cuts(4)) {
        const what = `${statement}: ${kind} after ${after}`;
        await survives({ sql: /cut/, after, kind }, [serialize.query(statement)], what);
      }
    }
  });

  test("an extended-protocol unit (Parse, Bind, Describe, Execute, Sync): cut at every message", async () => {
    // ParseComplete, BindComplete, RowDescription, DataRow, CommandComplete, ReadyForQuery.
    for (const statement of ["SELECT 'cut'", "INSERT INTO cut VALUES (1)"]) {
      for (const [kind, after] of cuts(6)) {
        const what = `extended ${statement}: ${kind} after ${after}`;
        await survives({ sql: /cut/, after, kind }, extended(statement), what);
      }
    }
  });

  test("a write, then the router's hidden WAL probe cut at every message: the write's answer stands", async () => {
    for (const [kind, after] of cuts(4)) {
      const what = `probe ${kind} after ${after}`;
      const c = await RawClient.login(port);
      try {
        backend.cut = { sql: new RegExp(WAL_PROBE), after, kind };
        c.send(serialize.query("INSERT INTO t VALUES (1)"));
        const write = await c.answer();
        assert.equal(write.codes, "TDCZ", what);
        // Sent while the probe may still run: on that connection, it may fail with it.
        c.send(serialize.query("SELECT 'after the probe'"));
        assertOneOutcome(await c.answer(), `${what}: next query`);
        c.send(serialize.query("SELECT 'third'"));
        assert.equal((await c.answer()).codes, "TDCZ", `${what}: third query`);
        assert.deepEqual(c.unsolicited, [], `${what}: sent with nothing in flight`);
        assert.equal(backend.cut, undefined, `${what}: the cut happened`);
      } finally {
        backend.cut = undefined;
        c.close();
      }
    }
  });

  test("cut while the client is still sending the unit (Parse, Bind, Flush; then Execute, Sync): one error", async () => {
    for (const kind of kinds) {
      for (let after = 0; after <= 2; after++) {
        const what = `partial ${kind} after ${after}`;
        const c = await RawClient.login(port);
        try {
          backend.cut = { sql: /^SELECT 'partial/, after, kind };
          c.send(
            serialize.parse("", "SELECT 'partial'"),
            serialize.bind("", ""),
            serialize.flush(),
          );
          // The answers to Parse and Bind that arrived before the cut, and the error.
          for (let seen = 0; seen < after; seen++) await c.next();
          c.send(serialize.describe("P", ""), serialize.execute(""), serialize.sync());
          const rest = await c.answer();
          assert.equal(rest.errors.length, 1, `${what}: ${rest.codes} ${rest.errors}`);
          assert.match(rest.errors[0]!, /^(08...|57P0[123])$/, what);
          c.send(serialize.query("SELECT 'next'"));
          assert.equal((await c.answer()).codes, "TDCZ", `${what}: next query`);
          assert.deepEqual(c.unsolicited, [], `${what}: sent with nothing in flight`);
        } finally {
          backend.cut = undefined;
          c.close();
        }
      }
    }
  });

  test("a client gone in the middle of a unit: its connection, with what ran before Sync, is not lent again", async () => {
    const gone = await RawClient.login(port);
    gone.send(
      serialize.parse("", "INSERT INTO half VALUES (1)"),
      serialize.bind("", ""),
      serialize.execute(""),
      serialize.flush(),
    );
    // ParseComplete, BindComplete, DataRow (the connection's name), CommandComplete.
    await gone.next();
    await gone.next();
    const ranOn = String(readDataRow((await gone.next()).body)[0]).split("/")[0];
    await gone.next();
    gone.socket.destroy();
    const next = await RawClient.login(port);
    try {
      next.send(serialize.query("INSERT INTO other VALUES (1)"));
      const a = await next.answer();
      assert.equal(a.codes, "TDCZ");
      assert.notEqual(a.rows[0]!.split("/")[0], ranOn, "the half-done unit's connection was lent");
    } finally {
      next.close();
    }
  });

  test("a client queued in the pool whose connection cannot be opened: one error for its unit", async () => {
    const holder = await RawClient.login(port);
    const waiter = await RawClient.login(port);
    try {
      // The primary pool's one connection is held by a transaction; the waiter sends half a
      // unit of work that needs the primary.
      holder.send(serialize.query("BEGIN"));
      assert.equal((await holder.answer()).codes, "TCZ");
      waiter.send(
        serialize.parse("", "VALUES ('queued')"),
        serialize.bind("", ""),
        serialize.flush(),
      );
      while (!waitersIn(router)) await new Promise((r) => setTimeout(r, 10));
      // The held connection dies; the new one the pool opens for the waiter is refused.
      backend.refuseLogins = 1;
      backend.cut = { sql: /holder/, after: 0, kind: "fatal" };
      holder.send(serialize.query("DELETE FROM holder"));
      const lost = await holder.answer().catch(() => undefined);
      assert.ok(lost === undefined || lost.errors.length === 1, JSON.stringify(lost));
      const error = await waiter.next();
      assert.equal(error.code, BackendCode.ErrorResponse, "the waiter is told");
      waiter.send(serialize.describe("P", ""), serialize.execute(""), serialize.sync());
      const rest = await waiter.answer();
      assert.equal(rest.codes, "Z", "the rest of the unit is dropped, its Sync answered");
      waiter.send(serialize.query("VALUES ('next')"));
      assert.equal((await waiter.answer()).codes, "TDCZ");
      assert.deepEqual(waiter.unsolicited, []);
    } finally {
      backend.refuseLogins = 0;
      holder.close();
      waiter.close();
    }
  });

  test("a connection the router closes while it logs in: the client waiting for it is told at once", async () => {
    const c = await RawClient.login(port);
    try {
      closeConnections(router, "primary");
      backend.stallLogins = 1;
      c.send(serialize.query("VALUES ('waits for a login')"));
      while (!waitersIn(router)) await new Promise((r) => setTimeout(r, 10));
      closeConnections(router, "primary");
      const a = await c.answer();
      assert.equal(a.codes, "EZ");
      assert.match(a.errors[0]!, /^08/, "a connection error, not the pool's queue timeout");
      c.send(serialize.query("VALUES ('next')"));
      assert.equal((await c.answer()).codes, "TDCZ");
    } finally {
      backend.stallLogins = 0;
      c.close();
    }
  });
});

/** Closes every connection of `node`'s pools, as the health checker does when it fences one. */
function closeConnections(router: Router, node: string): void {
  for (const p of router.pools()) if (p.node === node) for (const s of [...p.all]) s.close();
}

function waitersIn(router: Router): boolean {
  for (const p of router.pools()) if (p.waiting > 0) return true;
  return false;
}

import * as assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { adminPassword, initNode, type LocalNode, startNode, stopNode } from "../cluster/index.js";
import {
  ADMIN_HBA,
  enableFastInit,
  freePort,
  removeDir,
  tempDir,
  testNode,
} from "../testing/index.js";
import {
  readAuthentication,
  readBackendKeyData,
  readCommandComplete,
  readCopyResponse,
  readDataRow,
  readErrorFields,
  readParameterStatus,
  readReadyForQuery,
  readRowDescription,
} from "./decode.js";
import { FrameParser } from "./frame-parser.js";
import { BackendCode, BaseBackupCode } from "./message-codes.js";
import { ScramClient } from "./scram-client.js";
import * as serialize from "./serialize.js";

interface Message {
  code: number;
  body: Buffer;
}

/** A raw socket plus FrameParser: next() resolves with each backend message in order. */
class Wire {
  private readonly queue: Message[] = [];
  private waiter: ((m: Message) => void) | undefined;
  private onFailure: ((e: Error) => void) | undefined;
  private failure: Error | undefined;
  private readonly parser = new FrameParser();

  private constructor(private readonly socket: Socket) {
    socket.on("data", (chunk) => {
      try {
        this.parser.parse(chunk, (code, body) => this.push({ code, body }));
      } catch (e) {
        this.fail(e as Error);
      }
    });
    socket.on("error", (e) => this.fail(e));
    socket.on("close", () => this.fail(new Error("connection closed")));
  }

  static open(port: number): Promise<Wire> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: "127.0.0.1", port }, () => {
        socket.off("error", reject);
        resolve(new Wire(socket));
      });
      socket.once("error", reject);
    });
  }

  send(...messages: Buffer[]): void {
    this.socket.write(messages.length === 1 ? messages[0]! : Buffer.concat(messages));
  }

  next(): Promise<Message> {
    const m = this.queue.shift();
    if (m) return Promise.resolve(m);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no message within 10 s")), 10_000);
      this.waiter = (msg) => {
        clearTimeout(timer);
        resolve(msg);
      };
      this.onFailure = (e) => {
        clearTimeout(timer);
        reject(e);
      };
    });
  }

  /** Next message, which must have `code`; an ErrorResponse fails with its fields. */
  async expect(code: number): Promise<Buffer> {
    const m = await this.next();
    if (m.code === BackendCode.ErrorResponse && code !== m.code) {
      const e = readErrorFields(m.body);
      throw new Error(`server error ${e.code}: ${e.message}`);
    }
    assert.equal(String.fromCharCode(m.code), String.fromCharCode(code));
    return m.body;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) resolve();
      else this.socket.end(resolve);
    });
  }

  private push(m: Message): void {
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      this.onFailure = undefined;
      w(m);
    } else this.queue.push(m);
  }

  private fail(e: Error): void {
    this.failure ??= e;
    const f = this.onFailure;
    this.waiter = undefined;
    this.onFailure = undefined;
    f?.(e);
  }
}

interface Session {
  wire: Wire;
  parameters: Map<string, string>;
  key: { pid: number; key: number };
}

/** Startup, SCRAM-SHA-256, then ParameterStatus/BackendKeyData up to ReadyForQuery. */
async function login(
  port: number,
  params: Record<string, string>,
  password: string,
): Promise<Session> {
  const wire = await Wire.open(port);
  wire.send(serialize.startup(params));
  const sasl = readAuthentication(await wire.expect(BackendCode.Authentication));
  assert.equal(sasl.kind, "sasl");
  if (sasl.kind !== "sasl") throw new Error("unreachable");
  assert.ok(sasl.mechanisms.includes(ScramClient.mechanism), sasl.mechanisms.join(","));

  const scram = new ScramClient(password);
  wire.send(serialize.saslInitialResponse(ScramClient.mechanism, scram.clientFirst()));
  const cont = readAuthentication(await wire.expect(BackendCode.Authentication));
  if (cont.kind !== "sasl-continue") throw new Error(`expected sasl-continue, got ${cont.kind}`);
  wire.send(serialize.saslResponse(scram.clientFinal(cont.data)));
  const fin = readAuthentication(await wire.expect(BackendCode.Authentication));
  if (fin.kind !== "sasl-final") throw new Error(`expected sasl-final, got ${fin.kind}`);
  scram.verifyServerFinal(fin.data);
  assert.deepEqual(readAuthentication(await wire.expect(BackendCode.Authentication)), {
    kind: "ok",
  });

  const parameters = new Map<string, string>();
  let key: Session["key"] | undefined;
  for (;;) {
    const m = await wire.next();
    if (m.code === BackendCode.ParameterStatus) {
      const { name, value } = readParameterStatus(m.body);
      parameters.set(name, value);
    } else if (m.code === BackendCode.BackendKeyData) key = readBackendKeyData(m.body);
    else if (m.code === BackendCode.ReadyForQuery) {
      assert.equal(readReadyForQuery(m.body), "I");
      break;
    } else assert.fail(`unexpected message ${String.fromCharCode(m.code)} during startup`);
  }
  assert.ok(key, "BackendKeyData");
  return { wire, parameters, key };
}

/** One simple Query: its columns, rows (as text), command tag; ends at ReadyForQuery. */
async function simpleQuery(wire: Wire, sql: string) {
  wire.send(serialize.query(sql));
  const fields = readRowDescription(await wire.expect(BackendCode.RowDescription));
  const rows: (string | null)[][] = [];
  for (;;) {
    const m = await wire.next();
    if (m.code === BackendCode.DataRow) {
      rows.push(readDataRow(m.body).map((c) => (c === null ? null : c.toString("utf8"))));
    } else {
      assert.equal(String.fromCharCode(m.code), "C");
      const tag = readCommandComplete(m.body);
      assert.equal(readReadyForQuery(await wire.expect(BackendCode.ReadyForQuery)), "I");
      return { fields, rows, tag };
    }
  }
}

describe("a real PostgreSQL server over a raw socket", { timeout: 180_000 }, () => {
  let dir = "";
  let node: LocalNode | undefined;
  let password = "";

  before(async () => {
    enableFastInit();
    dir = await tempDir("dbmesh-protocol-test");
    node = testNode(dir, "wire", await freePort(), {
      hba: [
        ...ADMIN_HBA,
        {
          type: "host",
          database: "replication",
          user: "postgres",
          address: "127.0.0.1/32",
          method: "scram-sha-256",
        },
      ],
    });
    await initNode(node);
    await startNode(node);
    password = await adminPassword(node);
  });

  after(async () => {
    if (node) await stopNode(node, { mode: "immediate" }).catch(() => {});
    if (dir) await removeDir(dir);
  });

  test("SCRAM login, SELECT 1, Terminate", async () => {
    const { wire, parameters, key } = await login(
      node!.port,
      { user: "postgres", database: "postgres", application_name: "dbmesh-protocol-test" },
      password,
    );
    assert.match(parameters.get("server_version") ?? "", /^17\./);
    assert.equal(parameters.get("application_name"), "dbmesh-protocol-test");
    assert.ok(key.pid > 0);

    const { fields, rows, tag } = await simpleQuery(wire, "SELECT 1 AS one");
    assert.deepEqual(
      fields.map((f) => [f.name, f.typeOid, f.format]),
      [["one", 23, 0]],
    );
    assert.deepEqual(rows, [["1"]]);
    assert.equal(tag, "SELECT 1");

    wire.send(serialize.terminate());
    await wire.close();
  });

  test("an SQL error arrives as ErrorResponse with its SQLSTATE, then ReadyForQuery", async () => {
    const { wire } = await login(node!.port, { user: "postgres", database: "postgres" }, password);
    wire.send(serialize.query("SELECT * FROM no_such_table"));
    const e = readErrorFields(await wire.expect(BackendCode.ErrorResponse));
    assert.equal(e.code, "42P01");
    assert.equal(e.severityNonLocalized, "ERROR");
    assert.equal(e.position, "15");
    assert.equal(e.fields.C, "42P01");
    assert.equal(readReadyForQuery(await wire.expect(BackendCode.ReadyForQuery)), "I");
    wire.send(serialize.terminate());
    await wire.close();
  });

  test("a wrong password is refused with 28P01", async () => {
    const wire = await Wire.open(node!.port);
    wire.send(serialize.startup({ user: "postgres", database: "postgres" }));
    await wire.expect(BackendCode.Authentication);
    const scram = new ScramClient("not the password");
    wire.send(serialize.saslInitialResponse(ScramClient.mechanism, scram.clientFirst()));
    const cont = readAuthentication(await wire.expect(BackendCode.Authentication));
    if (cont.kind !== "sasl-continue") throw new Error(cont.kind);
    wire.send(serialize.saslResponse(scram.clientFinal(cont.data)));
    const e = readErrorFields(await wire.expect(BackendCode.ErrorResponse));
    assert.equal(e.code, "28P01");
    assert.equal(e.severityNonLocalized, "FATAL");
    await wire.close();
  });

  test("replication connection: IDENTIFY_SYSTEM", async () => {
    const { wire } = await login(
      node!.port,
      { user: "postgres", database: "postgres", replication: "true" },
      password,
    );
    const { fields, rows, tag } = await simpleQuery(wire, "IDENTIFY_SYSTEM");
    assert.deepEqual(
      fields.map((f) => f.name),
      ["systemid", "timeline", "xlogpos", "dbname"],
    );
    assert.equal(rows.length, 1);
    const [systemid, timeline, xlogpos, dbname] = rows[0]!;
    assert.match(systemid ?? "", /^\d{15,20}$/);
    assert.equal(timeline, "1");
    assert.match(xlogpos ?? "", /^[0-9A-F]+\/[0-9A-F]+$/);
    // A physical replication connection is not bound to a database.
    assert.equal(dbname, null);
    assert.equal(tag, "IDENTIFY_SYSTEM");
    wire.send(serialize.terminate());
    await wire.close();
  });

  test("replication connection: BASE_BACKUP streams archive, data and manifest CopyData", async () => {
    const { wire } = await login(
      node!.port,
      { user: "postgres", database: "postgres", replication: "true" },
      password,
    );
    wire.send(
      serialize.query(
        "BASE_BACKUP (LABEL 'dbmesh-protocol-test', CHECKPOINT 'fast', MANIFEST 'yes')",
      ),
    );
    const kinds = new Map<number, number>();
    const archives: string[] = [];
    let copyOut: ReturnType<typeof readCopyResponse> | undefined;
    let bytes = 0;
    let state: "before" | "copy" | "after" = "before";
    for (;;) {
      const m = await wire.next();
      if (m.code === BackendCode.ErrorResponse) assert.fail(readErrorFields(m.body).message);
      if (m.code === BackendCode.CopyOutResponse) {
        copyOut = readCopyResponse(m.body);
        state = "copy";
      } else if (m.code === BackendCode.CopyData) {
        assert.equal(state, "copy");
        const kind = m.body[0]!;
        kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
        if (kind === BaseBackupCode.NewArchive) {
          archives.push(m.body.toString("utf8", 1, m.body.indexOf(0, 1)));
        } else if (kind === BaseBackupCode.Data) bytes += m.body.length - 1;
      } else if (m.code === BackendCode.CopyDone) state = "after";
      else if (m.code === BackendCode.ReadyForQuery && state === "after") break;
    }
    assert.deepEqual(copyOut, { format: 0, columnFormats: [] });
    assert.deepEqual(archives, ["base.tar"]);
    assert.equal(kinds.get(BaseBackupCode.Manifest), 1);
    assert.ok((kinds.get(BaseBackupCode.Data) ?? 0) > 10);
    assert.ok(bytes > 1024 * 1024, `${bytes} bytes`);
    const known = new Set<number>(Object.values(BaseBackupCode));
    for (const kind of kinds.keys()) assert.ok(known.has(kind), `CopyData kind ${kind}`);
    wire.send(serialize.terminate());
    await wire.close();
  });
});

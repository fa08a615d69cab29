import * as assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  readAuthentication,
  readBackendKeyData,
  readErrorFields,
  readParameterStatus,
  readParse,
  readQuery,
  readReadyForQuery,
  readSaslInitialResponse,
  readStartup,
} from "./decode.js";
import type { ErrorFieldsInit } from "./error-fields.js";
import { FrameParser } from "./frame-parser.js";
import { BackendCode, FrontendCode } from "./message-codes.js";
import { ProtocolError } from "./protocol-error.js";
import * as serialize from "./serialize.js";

/** Bytes from a readable spec: numbers are bytes, strings are ASCII. */
function bytes(...parts: (number | string)[]): Buffer {
  return Buffer.concat(
    parts.map((p) => (typeof p === "number" ? Buffer.from([p]) : Buffer.from(p, "latin1"))),
  );
}

/** The one message in `buf`, framed by FrameParser; fails unless buf is exactly one message. */
function frameOf(buf: Buffer, startup = false): { code: number; body: Buffer } {
  const got: { code: number; body: Buffer; frame: Buffer }[] = [];
  new FrameParser({ startup }).parse(buf, (code, body, frame) => got.push({ code, body, frame }));
  assert.equal(got.length, 1, "exactly one message");
  assert.equal(got[0]!.frame.length, buf.length, "the length field covers the whole message");
  return got[0]!;
}

function assertProtocolError(fn: () => unknown, code = "08P01"): void {
  assert.throws(fn, (e: unknown) => e instanceof ProtocolError && e.code === code);
}

describe("frontend messages: exact bytes", () => {
  test("Query 'SELECT 1' is 'Q', Int32 13, the SQL and a NUL", () => {
    assert.deepEqual(serialize.query("SELECT 1"), bytes("Q", 0, 0, 0, 13, "SELECT 1", 0));
  });

  test("Query length counts UTF-8 bytes", () => {
    assert.deepEqual(serialize.query("é"), bytes("Q", 0, 0, 0, 7, 0xc3, 0xa9, 0));
  });

  test("messages without a body are the type byte and Int32 4", () => {
    assert.deepEqual(serialize.sync(), bytes("S", 0, 0, 0, 4));
    assert.deepEqual(serialize.flush(), bytes("H", 0, 0, 0, 4));
    assert.deepEqual(serialize.copyDone(), bytes("c", 0, 0, 0, 4));
    assert.deepEqual(serialize.terminate(), bytes("X", 0, 0, 0, 4));
  });

  test("StartupMessage: length, version 3.0 (196608), pairs, terminator", () => {
    assert.deepEqual(
      serialize.startup({ user: "u", database: "d" }),
      bytes(0, 0, 0, 27, 0, 3, 0, 0, "user", 0, "u", 0, "database", 0, "d", 0, 0),
    );
  });

  test("SSLRequest, GSSENCRequest and CancelRequest use the 1234.56xx codes", () => {
    assert.deepEqual(serialize.sslRequest(), bytes(0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f));
    assert.deepEqual(serialize.gssEncRequest(), bytes(0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30));
    assert.deepEqual(
      serialize.cancelRequest(1234, 0xdeadbeef),
      bytes(0, 0, 0, 16, 0x04, 0xd2, 0x16, 0x2e, 0, 0, 0x04, 0xd2, 0xde, 0xad, 0xbe, 0xef),
    );
  });

  test("Parse: name, SQL, Int16 count, Int32 OIDs", () => {
    assert.deepEqual(
      serialize.parse("s1", "SELECT $1", [23]),
      bytes("P", 0, 0, 0, 23, "s1", 0, "SELECT $1", 0, 0, 1, 0, 0, 0, 23),
    );
  });

  test("Bind: text strings, binary Buffers, NULL as -1; shortest format code lists", () => {
    assert.deepEqual(
      serialize.bind("", "s1", ["42", null]),
      bytes(
        "B",
        0,
        0,
        0,
        24,
        0,
        "s1",
        0,
        0,
        0,
        0,
        2,
        0,
        0,
        0,
        2,
        "42",
        0xff,
        0xff,
        0xff,
        0xff,
        0,
        0,
      ),
    );
    assert.deepEqual(
      serialize.bind("p", "", [Buffer.from([0, 0, 0, 42])], [1]),
      bytes("B", 0, 0, 0, 25, "p", 0, 0, 0, 1, 0, 1, 0, 1, 0, 0, 0, 4, 0, 0, 0, 42, 0, 1, 0, 1),
    );
    assert.deepEqual(
      serialize.bind("", "", ["a", Buffer.from([1])]),
      bytes("B", 0, 0, 0, 26, 0, 0, 0, 2, 0, 0, 0, 1, 0, 2, 0, 0, 0, 1, "a", 0, 0, 0, 1, 1, 0, 0),
    );
  });

  test("Describe, Close, Execute", () => {
    assert.deepEqual(serialize.describe("P", ""), bytes("D", 0, 0, 0, 6, "P", 0));
    assert.deepEqual(serialize.close("S", "s1"), bytes("C", 0, 0, 0, 8, "S", "s1", 0));
    assert.deepEqual(serialize.execute("", 0), bytes("E", 0, 0, 0, 9, 0, 0, 0, 0, 0));
    assert.deepEqual(serialize.execute("p", 100), bytes("E", 0, 0, 0, 10, "p", 0, 0, 0, 0, 100));
  });

  test("CopyData, CopyFail", () => {
    assert.deepEqual(serialize.copyData(Buffer.from("ab")), bytes("d", 0, 0, 0, 6, "ab"));
    assert.deepEqual(serialize.copyData(Buffer.alloc(0)), bytes("d", 0, 0, 0, 4));
    assert.deepEqual(serialize.copyFail("no"), bytes("f", 0, 0, 0, 7, "no", 0));
  });

  test("SASLInitialResponse, SASLResponse, PasswordMessage all use 'p'", () => {
    assert.deepEqual(
      serialize.saslInitialResponse("SCRAM-SHA-256", Buffer.from("n,,n=,r=x")),
      bytes("p", 0, 0, 0, 31, "SCRAM-SHA-256", 0, 0, 0, 0, 9, "n,,n=,r=x"),
    );
    assert.deepEqual(
      serialize.saslResponse(Buffer.from("c=biws")),
      bytes("p", 0, 0, 0, 10, "c=biws"),
    );
    assert.deepEqual(serialize.password("pw"), bytes("p", 0, 0, 0, 7, "pw", 0));
  });
});

describe("frontend messages: framed and decoded back", () => {
  test("every builder's output is exactly one frame with the right type byte", () => {
    const typed: [Buffer, number][] = [
      [serialize.query("SELECT 1"), FrontendCode.Query],
      [serialize.parse("", "SELECT 1"), FrontendCode.Parse],
      [serialize.bind("", "", ["x", null, Buffer.from([1])], [0, 1]), FrontendCode.Bind],
      [serialize.describe("S", "s"), FrontendCode.Describe],
      [serialize.execute("", 5), FrontendCode.Execute],
      [serialize.sync(), FrontendCode.Sync],
      [serialize.flush(), FrontendCode.Flush],
      [serialize.close("P", "p"), FrontendCode.Close],
      [serialize.copyData(Buffer.alloc(100_000, 1)), FrontendCode.CopyData],
      [serialize.copyDone(), FrontendCode.CopyDone],
      [serialize.copyFail("stop"), FrontendCode.CopyFail],
      [serialize.terminate(), FrontendCode.Terminate],
      [
        serialize.saslInitialResponse("SCRAM-SHA-256", Buffer.from("abc")),
        FrontendCode.SASLInitialResponse,
      ],
      [serialize.saslResponse(Buffer.from("abc")), FrontendCode.SASLResponse],
      [serialize.password("secret"), FrontendCode.PasswordMessage],
    ];
    for (const [buf, code] of typed) assert.equal(frameOf(buf).code, code);
    for (const buf of [
      serialize.startup({ user: "u" }),
      serialize.sslRequest(),
      serialize.gssEncRequest(),
      serialize.cancelRequest(1, 2),
    ]) {
      assert.equal(frameOf(buf, true).code, 0);
    }
  });

  test("startup parameters round trip, including replication and odd names", () => {
    const params: Record<string, string> = Object.fromEntries([
      ["user", "postgres"],
      ["database", "my db"],
      ["replication", "database"],
      ["application_name", "dbmesh ✓"],
      ["options", ""],
      ["__proto__", "not a prototype"],
    ]);
    const decoded = readStartup(frameOf(serialize.startup(params), true).body);
    assert.equal(decoded.kind, "startup");
    if (decoded.kind !== "startup") return;
    assert.deepEqual(decoded.version, { major: 3, minor: 0 });
    assert.deepEqual(decoded.params, params);
    assert.equal(Object.getPrototypeOf(decoded.params), Object.prototype);
    assert.equal(Object.keys(decoded.params).length, 6);
  });

  test("SSLRequest, GSSENCRequest, CancelRequest round trip", () => {
    assert.deepEqual(readStartup(frameOf(serialize.sslRequest(), true).body), { kind: "ssl" });
    assert.deepEqual(readStartup(frameOf(serialize.gssEncRequest(), true).body), { kind: "gss" });
    assert.deepEqual(readStartup(frameOf(serialize.cancelRequest(4242, 0xffffffff), true).body), {
      kind: "cancel",
      pid: 4242,
      key: 0xffffffff,
    });
    // A key read as signed Int32 elsewhere serialises to the same bytes.
    assert.deepEqual(serialize.cancelRequest(4242, -1), serialize.cancelRequest(4242, 0xffffffff));
  });

  test("Query, Parse, SASLInitialResponse round trip", () => {
    assert.equal(readQuery(frameOf(serialize.query("SELECT 'ü'")).body), "SELECT 'ü'");
    assert.deepEqual(
      readParse(frameOf(serialize.parse("st", "SELECT $1, $2", [0, 4294967295])).body),
      {
        name: "st",
        sql: "SELECT $1, $2",
        paramTypes: [0, 4294967295],
      },
    );
    const sasl = readSaslInitialResponse(
      frameOf(serialize.saslInitialResponse("SCRAM-SHA-256", Buffer.from("n,,n=,r=abc"))).body,
    );
    assert.equal(sasl.mechanism, "SCRAM-SHA-256");
    assert.equal(sasl.data?.toString(), "n,,n=,r=abc");
  });

  test("strings with NUL are rejected, as are values that do not fit their field", () => {
    assertProtocolError(() => serialize.query("SELECT 1\0; DROP TABLE x"));
    assertProtocolError(() => serialize.startup({ user: "a\0b" }));
    assertProtocolError(() => serialize.startup({ "": "x" }));
    assertProtocolError(() => serialize.parse("", "x", [2 ** 32]));
    assertProtocolError(() => serialize.parse("", "x", new Array(65536).fill(0)));
    assertProtocolError(() => serialize.execute("", -1));
    assertProtocolError(() => serialize.execute("", 1.5));
    assertProtocolError(() => serialize.describe("X" as "S", ""));
    assertProtocolError(() => serialize.parameterStatus("a", "b\0"));
    assertProtocolError(() =>
      serialize.errorResponse({ severity: "ERROR", code: "XX000", message: "\0" }),
    );
  });
});

describe("backend messages: round trips", () => {
  test("Authentication variants", () => {
    const auth = (buf: Buffer) => {
      const { code, body } = frameOf(buf);
      assert.equal(code, BackendCode.Authentication);
      return readAuthentication(body);
    };
    assert.deepEqual(auth(serialize.authenticationOk()), { kind: "ok" });
    assert.deepEqual(auth(serialize.authenticationSasl(["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"])), {
      kind: "sasl",
      mechanisms: ["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"],
    });
    const data = Buffer.from("r=abc,s=c2FsdA==,i=4096");
    assert.deepEqual(auth(serialize.authenticationSaslContinue(data)), {
      kind: "sasl-continue",
      data,
    });
    assert.deepEqual(auth(serialize.authenticationSaslFinal(Buffer.from("v=x"))), {
      kind: "sasl-final",
      data: Buffer.from("v=x"),
    });
    assert.deepEqual(serialize.authenticationOk(), bytes("R", 0, 0, 0, 8, 0, 0, 0, 0));
  });

  test("ParameterStatus, BackendKeyData, ReadyForQuery", () => {
    const ps = frameOf(serialize.parameterStatus("TimeZone", "Europe/Zürich"));
    assert.equal(ps.code, BackendCode.ParameterStatus);
    assert.deepEqual(readParameterStatus(ps.body), { name: "TimeZone", value: "Europe/Zürich" });
    for (const key of [0, 1, 0x7fffffff, 0x80000000, 0xffffffff]) {
      const k = frameOf(serialize.backendKeyData(31337, key));
      assert.equal(k.code, BackendCode.BackendKeyData);
      assert.deepEqual(readBackendKeyData(k.body), { pid: 31337, key });
    }
    for (const status of ["I", "T", "E"] as const) {
      const z = frameOf(serialize.readyForQuery(status));
      assert.equal(z.code, BackendCode.ReadyForQuery);
      assert.equal(readReadyForQuery(z.body), status);
    }
    assert.deepEqual(serialize.readyForQuery("I"), bytes("Z", 0, 0, 0, 5, "I"));
  });

  test("ErrorResponse and NoticeResponse keep every field", () => {
    const all: ErrorFieldsInit = {
      severity: "FEHLER",
      severityNonLocalized: "ERROR",
      code: "23505",
      message: 'duplicate key value violates unique constraint "t_pkey"',
      detail: "Key (id)=(1) already exists.",
      hint: "h",
      position: "15",
      internalPosition: "3",
      internalQuery: "SELECT 1",
      where: "PL/pgSQL function f() line 3",
      schema: "public",
      table: "t",
      column: "id",
      dataType: "int4",
      constraint: "t_pkey",
      file: "nbtinsert.c",
      line: "666",
      routine: "_bt_check_unique",
    };
    const e = frameOf(serialize.errorResponse({ ...all, fields: { Z: "future field" } }));
    assert.equal(e.code, BackendCode.ErrorResponse);
    const decoded = readErrorFields(e.body);
    assert.deepEqual({ ...decoded, fields: undefined }, { ...all, fields: undefined });
    assert.equal(decoded.fields.Z, "future field");
    assert.equal(decoded.fields.C, "23505");
    assert.equal(Object.keys(decoded.fields).length, 19);

    const minimal = { severity: "WARNING", code: "01000", message: "careful" };
    const n = frameOf(serialize.noticeResponse(minimal));
    assert.equal(n.code, BackendCode.NoticeResponse);
    assert.deepEqual(readErrorFields(n.body), {
      ...minimal,
      fields: { S: "WARNING", C: "01000", M: "careful" },
    });
    assert.deepEqual(
      serialize.noticeResponse(minimal),
      bytes("N", 0, 0, 0, 30, "S", "WARNING", 0, "C", "01000", 0, "M", "careful", 0, 0),
    );
  });

  test("a letter in `fields` does not duplicate a named field", () => {
    const e = serialize.errorResponse({
      severity: "FATAL",
      code: "57P01",
      message: "terminating",
      fields: { C: "ignored", M: "ignored" },
    });
    assert.deepEqual(readErrorFields(frameOf(e).body).fields, {
      S: "FATAL",
      C: "57P01",
      M: "terminating",
    });
    assertProtocolError(() =>
      serialize.errorResponse({ severity: "E", code: "X", message: "m", fields: { ab: "x" } }),
    );
  });
});

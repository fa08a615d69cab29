import * as assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BufferWriter } from "./buffer-writer.js";
import {
  readAuthentication,
  readBackendKeyData,
  readCommandComplete,
  readCopyResponse,
  readDataRow,
  readErrorFields,
  readParameterStatus,
  readParse,
  readQuery,
  readReadyForQuery,
  readRowDescription,
  readSaslInitialResponse,
  readStartup,
} from "./decode.js";
import { ProtocolError } from "./protocol-error.js";
import * as serialize from "./serialize.js";

/** The body of a typed message (after the type byte and Int32 length). */
const typedBody = (frame: Buffer) => frame.subarray(5);
/** The body of an untyped startup-phase message (after the Int32 length). */
const untypedBody = (frame: Buffer) => frame.subarray(4);

// RowDescription for "SELECT 1 AS one, 'x'::text AS t": name, table OID, attnum, type OID
// (int4 23, text 25), typlen, typmod, format.
const rowDescription = new BufferWriter()
  .int16(2)
  .cstring("one")
  .int32(0)
  .int16(0)
  .int32(23)
  .int16(4)
  .int32(-1)
  .int16(0)
  .cstring("t")
  .int32(16384)
  .int16(2)
  .int32(25)
  .int16(-1)
  .int32(-1)
  .int16(1)
  .finish(0x54)
  .subarray(5);

const dataRow = new BufferWriter()
  .int16(3)
  .int32(1)
  .bytes(Buffer.from("1"))
  .int32(-1)
  .int32(0)
  .finish(0x44)
  .subarray(5);

const copyBoth = new BufferWriter().int8(0).int16(2).int16(0).int16(0).finish(0x57).subarray(5);
const copyOut = new BufferWriter().int8(1).int16(1).int16(1).finish(0x48).subarray(5);
const md5 = new BufferWriter()
  .int32(5)
  .bytes(Buffer.from([1, 2, 3, 4]))
  .finish(0x52)
  .subarray(5);
const cleartext = new BufferWriter().int32(3).finish(0x52).subarray(5);

type Decoder = (body: Buffer) => unknown;

// [name, decoder, valid body, shortest prefix length that is still valid (body length unless
// the message ends with "rest of message" data)]
const cases: [string, Decoder, Buffer, number][] = [
  [
    "ErrorResponse",
    readErrorFields,
    typedBody(
      serialize.errorResponse({ severity: "ERROR", code: "42P01", message: "no", hint: "h" }),
    ),
    Number.POSITIVE_INFINITY,
  ],
  ["AuthenticationOk", readAuthentication, typedBody(serialize.authenticationOk()), 4],
  ["AuthenticationCleartextPassword", readAuthentication, cleartext, 4],
  ["AuthenticationMD5Password", readAuthentication, md5, 8],
  [
    "AuthenticationSASL",
    readAuthentication,
    typedBody(serialize.authenticationSasl(["SCRAM-SHA-256"])),
    Number.POSITIVE_INFINITY,
  ],
  [
    "AuthenticationSASLContinue",
    readAuthentication,
    typedBody(serialize.authenticationSaslContinue(Buffer.from("r=x,s=eA==,i=1"))),
    4,
  ],
  [
    "AuthenticationSASLFinal",
    readAuthentication,
    typedBody(serialize.authenticationSaslFinal(Buffer.from("v=x"))),
    4,
  ],
  ["ParameterStatus", readParameterStatus, typedBody(serialize.parameterStatus("a", "b")), 4],
  ["BackendKeyData", readBackendKeyData, typedBody(serialize.backendKeyData(1, 2)), 8],
  ["ReadyForQuery", readReadyForQuery, typedBody(serialize.readyForQuery("T")), 1],
  ["RowDescription", readRowDescription, rowDescription, rowDescription.length],
  ["DataRow", readDataRow, dataRow, dataRow.length],
  ["CommandComplete", readCommandComplete, Buffer.from("SELECT 1\0"), 9],
  ["CopyBothResponse", readCopyResponse, copyBoth, copyBoth.length],
  ["CopyOutResponse", readCopyResponse, copyOut, copyOut.length],
  [
    "StartupMessage",
    readStartup,
    untypedBody(serialize.startup({ user: "u", replication: "true" })),
    0,
  ],
  ["SSLRequest", readStartup, untypedBody(serialize.sslRequest()), 4],
  ["GSSENCRequest", readStartup, untypedBody(serialize.gssEncRequest()), 4],
  ["CancelRequest", readStartup, untypedBody(serialize.cancelRequest(7, 8)), 12],
  ["Query", readQuery, typedBody(serialize.query("SELECT 1")), 9],
  ["Parse", readParse, typedBody(serialize.parse("s", "SELECT $1", [23, 25])), 0],
  [
    "SASLInitialResponse",
    readSaslInitialResponse,
    typedBody(serialize.saslInitialResponse("SCRAM-SHA-256", Buffer.from("n,,n=,r=x"))),
    0,
  ],
];

function isProtocolViolation(e: unknown): boolean {
  return e instanceof ProtocolError && e.code === "08P01";
}

describe("decoders reject truncated bodies with ProtocolError", () => {
  for (const [name, decode, body, shortestValid] of cases) {
    test(name, () => {
      decode(body);
      const minimum = shortestValid === 0 ? body.length : Math.min(shortestValid, body.length);
      for (let n = 0; n < minimum; n++) {
        // A copy, so a read past the prefix cannot see the rest of the original body.
        const prefix = Buffer.from(body.subarray(0, n));
        assert.throws(
          () => decode(prefix),
          isProtocolViolation,
          `${name}: ${n} of ${body.length} bytes`,
        );
      }
    });
  }
});

describe("decoders reject trailing bytes", () => {
  for (const [name, decode, body, shortestValid] of cases) {
    // Messages that end in "rest of message" data have no trailing bytes to detect.
    if (name.startsWith("AuthenticationSASL") && shortestValid === 4) continue;
    test(name, () => {
      assert.throws(() => decode(Buffer.concat([body, Buffer.from([0])])), isProtocolViolation);
    });
  }
});

describe("decoders on random bytes throw only ProtocolError", () => {
  test("3,000 mutated bodies per decoder (seeded)", () => {
    let seed = 0x12345678;
    const random = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 4294967296;
    };
    for (const [name, decode, body] of cases) {
      for (let i = 0; i < 3_000; i++) {
        // Mutations of a valid body reach deeper than uniformly random bytes.
        const b = Buffer.from(body.subarray(0, Math.floor(random() * (body.length + 4))));
        for (let k = 0; k < 1 + random() * 3; k++) {
          if (b.length > 0) b[Math.floor(random() * b.length)] = Math.floor(random() * 256);
        }
        try {
          decode(b);
        } catch (e) {
          if (!(e instanceof ProtocolError))
            assert.fail(`${name} threw ${String(e)} on ${b.toString("hex")}`);
        }
      }
    }
  });
});

describe("decoded values", () => {
  test("RowDescription: names, OIDs, sizes, formats", () => {
    assert.deepEqual(readRowDescription(rowDescription), [
      {
        name: "one",
        tableOid: 0,
        columnNumber: 0,
        typeOid: 23,
        typeSize: 4,
        typeModifier: -1,
        format: 0,
      },
      {
        name: "t",
        tableOid: 16384,
        columnNumber: 2,
        typeOid: 25,
        typeSize: -1,
        typeModifier: -1,
        format: 1,
      },
    ]);
  });

  test("DataRow: views of the body, NULL as null, empty value as empty buffer", () => {
    const [one, nul, empty] = readDataRow(dataRow);
    assert.equal(one?.toString(), "1");
    assert.equal(one?.buffer, dataRow.buffer);
    assert.equal(nul, null);
    assert.equal(empty?.length, 0);
    assert.deepEqual(readDataRow(Buffer.from([0, 0])), []);
  });

  test("CopyResponse: overall and per-column formats", () => {
    assert.deepEqual(readCopyResponse(copyBoth), { format: 0, columnFormats: [0, 0] });
    assert.deepEqual(readCopyResponse(copyOut), { format: 1, columnFormats: [1] });
  });

  test("Authentication: md5 salt, cleartext, methods this client does not speak", () => {
    assert.deepEqual(readAuthentication(md5), { kind: "md5", salt: Buffer.from([1, 2, 3, 4]) });
    assert.deepEqual(readAuthentication(cleartext), { kind: "cleartext" });
    assert.deepEqual(readAuthentication(Buffer.from([0, 0, 0, 7])), {
      kind: "unsupported",
      method: 7,
    });
  });

  test("CommandComplete: the tag", () => {
    assert.equal(readCommandComplete(Buffer.from("INSERT 0 5\0")), "INSERT 0 5");
  });

  test("SASLInitialResponse with length -1 has no data", () => {
    const body = new BufferWriter().cstring("SCRAM-SHA-256").int32(-1).finish(0x70).subarray(5);
    assert.deepEqual(readSaslInitialResponse(body), { mechanism: "SCRAM-SHA-256", data: null });
  });
});

describe("malformed values", () => {
  const violation = (fn: () => unknown) => assert.throws(fn, isProtocolViolation);

  test("ReadyForQuery status other than I, T, E", () => {
    violation(() => readReadyForQuery(Buffer.from("X")));
  });

  test("DataRow column length below -1, or past the end", () => {
    violation(() => readDataRow(Buffer.from([0, 1, 0xff, 0xff, 0xff, 0xfe])));
    violation(() => readDataRow(Buffer.from([0, 1, 0x7f, 0xff, 0xff, 0xff])));
  });

  test("format codes other than 0 and 1", () => {
    violation(() => readCopyResponse(Buffer.from([2, 0, 0])));
    violation(() => readCopyResponse(Buffer.from([0, 0, 1, 0, 2])));
    const bad = Buffer.from(rowDescription);
    bad[bad.length - 1] = 2;
    violation(() => readRowDescription(bad));
  });

  test("ErrorResponse without severity, code or message", () => {
    const noCode = new BufferWriter().int8(0x53).cstring("ERROR").int8(0x4d).cstring("m").int8(0);
    violation(() => readErrorFields(noCode.finish(0x45).subarray(5)));
  });

  test("startup packet: protocol 2.0 is feature_not_supported (0A000), like PostgreSQL", () => {
    const v2 = new BufferWriter().int32(0x00020000).cstring("user").cstring("u").int8(0).finish();
    assert.throws(
      () => readStartup(untypedBody(v2)),
      (e: unknown) => e instanceof ProtocolError && e.code === "0A000",
    );
  });

  test("startup packet: protocol 3.2 is returned for the caller to negotiate", () => {
    const v32 = new BufferWriter().int32(0x00030002).cstring("user").cstring("u").int8(0).finish();
    assert.deepEqual(readStartup(untypedBody(v32)), {
      kind: "startup",
      version: { major: 3, minor: 2 },
      params: { user: "u" },
    });
  });

  test("SASLInitialResponse length below -1", () => {
    const body = new BufferWriter().cstring("SCRAM-SHA-256").int32(-2).finish(0x70).subarray(5);
    violation(() => readSaslInitialResponse(body));
  });
});

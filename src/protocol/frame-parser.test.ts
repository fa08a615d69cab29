import * as assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BufferWriter } from "./buffer-writer.js";
import { FrameParser } from "./frame-parser.js";
import { BackendCode } from "./message-codes.js";
import { ProtocolError } from "./protocol-error.js";
import * as serialize from "./serialize.js";

interface Received {
  code: number;
  body: Buffer;
  frame: Buffer;
}

/** A DataRow of `size` bytes in one text column, plus a NULL column. */
function dataRow(size: number): Buffer {
  const value = Buffer.alloc(size);
  for (let i = 0; i < size; i++) value[i] = (i * 31 + 7) & 0xff;
  return new BufferWriter().int16(2).int32(size).bytes(value).int32(-1).finish(BackendCode.DataRow);
}

// Messages of different types and lengths: a zero-length body, a 70 KB DataRow, many tiny ones.
const frames: Buffer[] = [
  serialize.authenticationOk(),
  serialize.parameterStatus("server_version", "17.2"),
  Buffer.from([BackendCode.ParseComplete, 0, 0, 0, 4]),
  dataRow(70 * 1024),
  ...Array.from({ length: 120 }, (_, i) =>
    i % 3 === 0
      ? Buffer.from([BackendCode.NoData, 0, 0, 0, 4])
      : i % 3 === 1
        ? serialize.readyForQuery("I")
        : serialize.parameterStatus(`p${i}`, "x".repeat(i)),
  ),
  serialize.errorResponse({ severity: "ERROR", code: "42601", message: "syntax error" }),
];
const stream = Buffer.concat(frames);
const starts: number[] = [];
for (let i = 0, at = 0; i < frames.length; at += frames[i]!.length, i++) starts.push(at);

function parseChunks(parser: FrameParser, chunks: readonly Buffer[]): Received[] {
  const out: Received[] = [];
  for (const chunk of chunks)
    parser.parse(chunk, (code, body, frame) => out.push({ code, body, frame }));
  return out;
}

/** Same messages, same bytes, in order; bodies are views of the frames after the 5-byte header. */
function assertFrames(got: readonly Received[], expected: readonly Buffer[] = frames): void {
  assert.equal(got.length, expected.length);
  // Plain comparisons, asserting only on a mismatch: this runs for ~10^7 messages.
  got.forEach((m, i) => {
    const want = expected[i]!;
    const ok =
      m.frame.equals(want) &&
      m.code === want[0] &&
      m.body.length === want.length - 5 &&
      m.body.buffer === m.frame.buffer &&
      m.body.byteOffset === m.frame.byteOffset + 5;
    if (!ok) assert.fail(`message ${i} differs`);
  });
}

/** Chunks of stream cut at the given offsets; views of stream, not copies. */
function cut(buf: Buffer, at: readonly number[]): Buffer[] {
  const bounds = [0, ...at, buf.length];
  return bounds.slice(1).map((end, i) => buf.subarray(bounds[i]!, end));
}

// mulberry32: small seeded PRNG so random chunkings are reproducible.
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Records the sizes of Buffer allocations made while fn runs. */
function allocations(fn: () => void): number[] {
  const sizes: number[] = [];
  const saved = {
    alloc: Buffer.alloc,
    allocUnsafe: Buffer.allocUnsafe,
    allocUnsafeSlow: Buffer.allocUnsafeSlow,
  };
  Buffer.alloc = ((size: number, ...rest: never[]) => {
    sizes.push(size);
    return saved.alloc(size, ...rest);
  }) as typeof Buffer.alloc;
  Buffer.allocUnsafe = (size: number) => {
    sizes.push(size);
    return saved.allocUnsafe(size);
  };
  Buffer.allocUnsafeSlow = (size: number) => {
    sizes.push(size);
    return saved.allocUnsafeSlow(size);
  };
  try {
    fn();
  } finally {
    Object.assign(Buffer, saved);
  }
  return sizes;
}

function assertProtocolViolation(fn: () => void, code = "08P01"): void {
  assert.throws(fn, (e: unknown) => e instanceof ProtocolError && e.code === code);
}

describe("FrameParser: typed messages", () => {
  test("whole stream in one chunk: every message is a view of the chunk", () => {
    const got = parseChunks(new FrameParser(), [stream]);
    assertFrames(got);
    got.forEach((m, i) => {
      assert.equal(m.frame.buffer, stream.buffer);
      assert.equal(m.frame.byteOffset, stream.byteOffset + starts[i]!);
    });
  });

  test("cut at every byte position into two chunks", () => {
    for (let at = 0; at <= stream.length; at++) {
      const got = parseChunks(new FrameParser(), cut(stream, [at]));
      assertFrames(got);
      got.forEach((m, i) => {
        const start = starts[i]!;
        const inside = at <= start || start + frames[i]!.length <= at;
        // Wholly inside a chunk: a view of it, no copy. Straddling: a copy.
        if (inside !== (m.frame.buffer === stream.buffer)) {
          assert.fail(`cut at ${at}: message ${i} ${inside ? "was copied" : "is not a copy"}`);
        }
        if (inside) assert.equal(m.frame.byteOffset, stream.byteOffset + start);
      });
    }
  });

  test("one byte at a time; delivered messages stay intact after the arena is reused", () => {
    const parser = new FrameParser();
    const got: Received[] = [];
    for (let i = 0; i < stream.length; i++) {
      parser.parse(stream.subarray(i, i + 1), (code, body, frame) =>
        got.push({ code, body, frame }),
      );
    }
    assertFrames(got);
    // Tiny messages share an arena: one allocation serves many of them.
    const arenas = new Set(got.map((m) => m.frame.buffer));
    assert.ok(arenas.size < 20, `${arenas.size} arenas`);
  });

  test("random chunkings (seeded)", () => {
    const random = prng(0x5eed);
    for (let run = 0; run < 300; run++) {
      const maxChunk = [3, 17, 300, 5000, 100_000][run % 5]!;
      const offsets: number[] = [];
      for (let at = 1 + Math.floor(random() * maxChunk); at < stream.length; ) {
        offsets.push(at);
        at += 1 + Math.floor(random() * maxChunk);
      }
      assertFrames(parseChunks(new FrameParser(), cut(stream, offsets)));
    }
  });

  test("a message whose body straddles grows its buffer with the bytes received", () => {
    const big = dataRow(1024 * 1024);
    const sizes = allocations(() => {
      const parser = new FrameParser();
      let delivered = 0;
      for (let at = 0; at < big.length; at += 64 * 1024) {
        parser.parse(big.subarray(at, at + 64 * 1024), (_c, _b, frame) => {
          assert.ok(frame.equals(big));
          delivered++;
        });
      }
      assert.equal(delivered, 1);
    });
    // Geometric growth: few allocations, total copying linear in the message size.
    assert.ok(sizes.length <= 6, `allocations ${sizes.join(",")}`);
    assert.ok(sizes.reduce((a, b) => a + b, 0) <= 3 * big.length, `allocations ${sizes.join(",")}`);
  });
});

describe("FrameParser: spans", () => {
  /** Parses chunks copied one after another into one reused buffer, as a socket read with onread. */
  function parseSpansReusing(parser: FrameParser, chunks: readonly Buffer[]): Received[] {
    const input = Buffer.alloc(Math.max(1, ...chunks.map((c) => c.length)) + 7);
    const out: Received[] = [];
    for (const chunk of chunks) {
      input.fill(0xee);
      chunk.copy(input);
      parser.parseSpans(
        input,
        (code, buffer, frameStart, bodyStart, end) => {
          // Copied now: a span of the input is only valid until the next chunk overwrites it.
          const frame = Buffer.from(buffer.subarray(frameStart, end));
          out.push({ code, body: frame.subarray(bodyStart - frameStart), frame });
          if (buffer === input) assert.ok(end <= chunk.length, "a span past the bytes read");
        },
        chunk.length,
      );
    }
    return out;
  }

  test("whole stream in one chunk: positions in the chunk, no view made", () => {
    const got: [number, number, number][] = [];
    new FrameParser().parseSpans(stream, (code, buffer, frameStart, bodyStart, end) => {
      assert.equal(buffer, stream);
      got.push([code, frameStart, end - bodyStart]);
    });
    assert.deepEqual(
      got,
      frames.map((f, i) => [f[0], starts[i], f.length - 5]),
    );
  });

  test("cut at every byte position, into one reused input buffer", () => {
    for (let at = 0; at <= stream.length; at++) {
      assertFrames(parseSpansReusing(new FrameParser(), cut(stream, [at])));
    }
  });

  test("one byte at a time, and random chunkings (seeded), into one reused input buffer", () => {
    assertFrames(
      parseSpansReusing(
        new FrameParser(),
        Array.from({ length: stream.length }, (_, i) => stream.subarray(i, i + 1)),
      ),
    );
    const random = prng(0x5ba5);
    for (let run = 0; run < 100; run++) {
      const maxChunk = [3, 17, 300, 5000, 100_000][run % 5]!;
      const offsets: number[] = [];
      for (let at = 1 + Math.floor(random() * maxChunk); at < stream.length; ) {
        offsets.push(at);
        at += 1 + Math.floor(random() * maxChunk);
      }
      assertFrames(parseSpansReusing(new FrameParser(), cut(stream, offsets)));
    }
  });

  test("startup-phase messages have a 4-byte header", () => {
    const startup = serialize.startup({ user: "u", database: "d" });
    const got: [number, number, number, number][] = [];
    const parser = new FrameParser({ startup: true });
    const input = Buffer.concat([startup, serialize.query("SELECT 1")]);
    parser.parseSpans(input, (code, _buffer, frameStart, bodyStart, end) =>
      got.push([code, frameStart, bodyStart, end]),
    );
    assert.deepEqual(got, [
      [0, 0, 4, startup.length],
      [0x51, startup.length, startup.length + 5, input.length],
    ]);
  });
});

describe("FrameParser: invalid lengths", () => {
  const header = (code: number, length: number) => {
    const b = Buffer.alloc(5);
    b[0] = code;
    b.writeInt32BE(length, 1);
    return b;
  };

  for (const length of [3, 0, -1, -0x80000000, 1024 * 1024 * 1024 + 1, 0x7fffffff]) {
    test(`length ${length} is a protocol violation, whole or split, without allocating it`, () => {
      // Above the bound it is program_limit_exceeded, below 4 a garbled stream.
      const code = length > 1024 * 1024 * 1024 ? "54000" : "08P01";
      const bad = Buffer.concat([
        serialize.readyForQuery("I"),
        header(0x44, length),
        Buffer.alloc(20),
      ]);
      for (const chunks of [
        [bad],
        cut(bad, [7]),
        cut(bad, [8]),
        cut(bad, [9]),
        cut(bad, [6, 7, 8, 9]),
      ]) {
        const parser = new FrameParser();
        const got: number[] = [];
        const sizes = allocations(() =>
          assertProtocolViolation(() => {
            for (const c of chunks) parser.parse(c, (type) => got.push(type));
          }, code),
        );
        assert.deepEqual(got, [BackendCode.ReadyForQuery]);
        assert.ok(
          sizes.every((s) => s <= 16 * 1024),
          `allocated ${sizes.join(",")}`,
        );
        // The stream position is lost: the parser refuses further input.
        assertProtocolViolation(() => parser.parse(serialize.readyForQuery("I"), () => {}), code);
      }
    });
  }

  test("the maximum is configurable and inclusive", () => {
    const parser = new FrameParser({ maxLength: 1024 });
    const ok = Buffer.concat([header(0x64, 1024), Buffer.alloc(1020)]);
    const got = parseChunks(parser, [ok]);
    assert.equal(got.length, 1);
    assert.throws(
      () => new FrameParser({ maxLength: 1024 }).parse(header(0x64, 1025), () => {}),
      (e: unknown) => e instanceof ProtocolError && e.code === "54000",
    );
    assert.throws(() => new FrameParser({ maxLength: 3 }), RangeError);
  });

  test("a valid but huge declared length costs only what has arrived", () => {
    const sizes = allocations(() => {
      const parser = new FrameParser();
      parser.parse(Buffer.concat([header(0x64, 1024 * 1024 * 1024), Buffer.alloc(100)]), () =>
        assert.fail("incomplete message delivered"),
      );
      assert.equal(parser.buffered, 105);
    });
    assert.ok(
      sizes.every((s) => s <= 16 * 1024),
      `allocated ${sizes.join(",")}`,
    );
  });

  test("an exception from the handler stops the parser", () => {
    const parser = new FrameParser();
    assert.throws(
      () =>
        parser.parse(stream, () => {
          throw new Error("handler failed");
        }),
      /handler failed/,
    );
    assertProtocolViolation(() => parser.parse(stream, () => {}));
  });
});

describe("FrameParser: startup mode", () => {
  const ssl = serialize.sslRequest();
  const start = serialize.startup({ user: "alice", database: "app", application_name: "psql" });
  const typed = [serialize.query("SELECT 1"), serialize.sync(), serialize.terminate()];
  const conversation = Buffer.concat([ssl, start, ...typed]);
  const expected = [ssl, start, ...typed];

  function run(chunks: readonly Buffer[]): { got: Received[]; bufferedAfterSsl: number[] } {
    const parser = new FrameParser({ startup: true });
    const got: Received[] = [];
    const bufferedAfterSsl: number[] = [];
    for (const chunk of chunks) {
      parser.parse(chunk, (code, body, frame) => {
        got.push({ code, body, frame });
        // SSLRequest answered 'N': the client's next message is untyped again.
        if (code === 0 && body.readUInt32BE(0) === 80877103) {
          bufferedAfterSsl.push(parser.buffered);
          parser.expectStartup();
        }
      });
    }
    return { got, bufferedAfterSsl };
  }

  function assertConversation(got: readonly Received[]): void {
    assert.equal(got.length, expected.length);
    got.forEach((m, i) => {
      const want = expected[i]!;
      assert.ok(m.frame.equals(want), `message ${i}`);
      const header = i < 2 ? 4 : 5;
      assert.equal(m.code, i < 2 ? 0 : want[0]);
      assert.ok(m.body.equals(want.subarray(header)));
    });
  }

  test("SSLRequest, StartupMessage, then typed messages, cut at every byte", () => {
    for (let at = 0; at <= conversation.length; at++) {
      const { got, bufferedAfterSsl } = run(cut(conversation, [at]));
      assertConversation(got);
      // What followed the SSLRequest in the same chunk is visible to the handler.
      const rest = at < ssl.length ? conversation.length : at;
      assert.deepEqual(bufferedAfterSsl, [rest - ssl.length]);
    }
  });

  test("one byte at a time", () => {
    const chunks = Array.from({ length: conversation.length }, (_, i) =>
      conversation.subarray(i, i + 1),
    );
    assertConversation(run(chunks).got);
  });

  test("without expectStartup the message after the first is typed", () => {
    const got = parseChunks(new FrameParser({ startup: true }), [Buffer.concat([start, ...typed])]);
    assert.deepEqual(
      got.map((m) => m.code),
      [0, 0x51, 0x53, 0x58],
    );
  });

  test("startup packet lengths outside 8..10004 are protocol violations", () => {
    for (const length of [7, 4, 0, -1, 10_005, 0x7fffffff]) {
      const b = Buffer.alloc(8);
      b.writeInt32BE(length, 0);
      assertProtocolViolation(() => new FrameParser({ startup: true }).parse(b, () => {}));
    }
    const longest = Buffer.alloc(10_004);
    longest.writeInt32BE(10_004, 0);
    assert.equal(parseChunks(new FrameParser({ startup: true }), [longest]).length, 1);
  });

  test("expectStartup with a partial message buffered is a protocol violation", () => {
    const parser = new FrameParser();
    parser.parse(serialize.query("SELECT 1").subarray(0, 3), () => {});
    assertProtocolViolation(() => parser.expectStartup());
  });
});

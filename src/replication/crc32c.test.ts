import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import { crc32c, crc32cSpans } from "./crc32c.js";

describe("crc32c", () => {
  // Check values from RFC 3720 appendix B.4 and the CRC catalogue.
  it("matches the known vectors", () => {
    assert.equal(crc32c(Buffer.from("123456789")), 0xe3069283);
    assert.equal(crc32c(Buffer.alloc(0)), 0);
    assert.equal(crc32c(Buffer.alloc(32, 0)), 0x8a9136aa);
    assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43);
    const ascending = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
    assert.equal(crc32c(ascending), 0x46dd794e);
    const descending = Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i));
    assert.equal(crc32c(descending), 0x113fdb5c);
  });

  it("continues across any split", () => {
    const data = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7 + 3) & 0xff));
    const whole = crc32c(data);
    for (let cut = 0; cut <= data.length; cut++) {
      assert.equal(crc32c(data.subarray(cut), crc32c(data.subarray(0, cut))), whole, `cut ${cut}`);
    }
  });

  const reference = (b: Uint8Array) => {
    let c = 0xffffffff;
    for (const x of b) {
      c ^= x;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    }
    return (c ^ 0xffffffff) >>> 0;
  };

  it("agrees with a bitwise reference on unaligned lengths", () => {
    const data = Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 131 + 17) & 0xff));
    for (let n = 0; n <= data.length; n++) {
      assert.equal(crc32c(data.subarray(0, n)), reference(data.subarray(0, n)), `length ${n}`);
    }
  });

  // The word loop starts at a 4-byte boundary of the underlying buffer and takes 16 bytes at a
  // time: every start offset modulo 4 and every length around the 64-byte threshold and the
  // 16-byte steps, in an ArrayBuffer and in a SharedArrayBuffer.
  it("agrees with the reference at every alignment, on both kinds of buffer", () => {
    for (const shared of [false, true]) {
      const backing = shared ? new SharedArrayBuffer(256) : new ArrayBuffer(256);
      const all = new Uint8Array(backing);
      for (let i = 0; i < all.length; i++) all[i] = (i * 197 + 41) & 0xff;
      for (let offset = 0; offset < 8; offset++) {
        for (let n = 56; n <= 140; n++) {
          const view = all.subarray(offset, offset + n);
          assert.equal(
            crc32c(view),
            reference(view),
            `shared ${shared} offset ${offset} length ${n}`,
          );
          assert.equal(crc32c(view.subarray(20), crc32c(view.subarray(0, 20))), reference(view));
        }
      }
    }
  });

  it("crc32cSpans carries each file's CRC across spans and calls", () => {
    const bytes = Buffer.from(Array.from({ length: 400 }, (_, i) => (i * 13 + 5) & 0xff));
    const state = new Map<number, number>();
    // File 1 is bytes 0..150 then 200..300; file 2 is 150..200 and 300..400.
    assert.deepEqual(crc32cSpans(bytes, [1, 0, 100, 1, 100, 50, 2, 150, 50], state), [
      1,
      crc32c(bytes.subarray(0, 150)),
      2,
      crc32c(bytes.subarray(150, 200)),
    ]);
    crc32cSpans(bytes, [1, 200, 100, 2, 300, 100], state);
    const one = Buffer.concat([bytes.subarray(0, 150), bytes.subarray(200, 300)]);
    const two = Buffer.concat([bytes.subarray(150, 200), bytes.subarray(300, 400)]);
    assert.equal(state.get(1), crc32c(one));
    assert.equal(state.get(2), crc32c(two));
  });
});

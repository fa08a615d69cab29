import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import { crc32c } from "./crc32c.js";

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

  it("agrees with a bitwise reference on unaligned lengths", () => {
    const reference = (b: Uint8Array) => {
      let c = 0xffffffff;
      for (const x of b) {
        c ^= x;
        for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
      }
      return (c ^ 0xffffffff) >>> 0;
    };
    const data = Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 131 + 17) & 0xff));
    for (let n = 0; n <= data.length; n++) {
      assert.equal(crc32c(data.subarray(0, n)), reference(data.subarray(0, n)), `length ${n}`);
    }
  });
});

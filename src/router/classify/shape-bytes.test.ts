import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { corpus, corpusProcRows } from "./corpus.js";
import { createClassifier, oracleFromRows } from "./index.js";
import { shapeOf } from "./shape.js";
import { shapeBytes } from "./shape-bytes.js";

// The byte path of the classifier (classifyUtf8, shapeBytes) must give exactly what the string
// path gives (classify, shapeOf) for every text, or give up so that the string path decides.

/** Deterministic pseudo-random numbers (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** SQL-ish ASCII text from pieces that exercise every branch of the scan. */
function sqlish(next: () => number): string {
  const pieces = [
    "SELECT ",
    "x",
    "a1",
    " ",
    "1",
    "2.5",
    ".5",
    "1e3",
    "1E-2",
    "1e",
    "0x1F",
    "1_0",
    "'s'",
    "'it''s'",
    "E'x'",
    "'a\\b'",
    "'",
    '"',
    '"q""x"',
    "$1",
    "$$",
    "$t$",
    "--c\n",
    "-- 9",
    "/*",
    "*/",
    "/* 5 */",
    "-",
    "/",
    "*",
    ".",
    ",",
    "(",
    ")",
    "=",
    "\n",
    "\u0001",
    "\\",
    "_",
    "e",
  ];
  let s = "";
  const n = Math.floor(next() * 12);
  for (let i = 0; i < n; i++) s += pieces[Math.floor(next() * pieces.length)];
  return s;
}

/** What shapeBytes says of `text`, as shapeOf would (undefined or the shape string). */
function viaBytes(text: string): string | undefined {
  const src = Buffer.from(`${text}\0`, "latin1");
  const out = Buffer.alloc(2 * text.length + 1);
  const n = shapeBytes(src, 0, src.length - 1, out);
  return n < 0 ? undefined : out.toString("latin1", 0, n);
}

describe("classifier byte path", () => {
  test("shapeBytes writes shapeOf's string for the corpus and 20000 random SQL-ish texts", () => {
    const next = random(42);
    const texts = [
      ...corpus.map((e) => e.sql).filter((t) => [...t].every((ch) => ch > "\0" && ch < "\x80")),
      ...Array.from({ length: 20_000 }, () => sqlish(next)),
    ];
    for (const text of texts) assert.equal(viaBytes(text), shapeOf(text), JSON.stringify(text));
  });

  test("classifyUtf8 answers what classify answers, across cache rotations, promotions and an oracle reload", async () => {
    const oracle = oracleFromRows(corpusProcRows);
    // A small cache so that generations rotate and old entries are moved up.
    const bytes = await createClassifier({ oracle, maxEntries: 16 });
    const strings = await createClassifier({ oracle, maxEntries: 16 });
    const next = random(7);
    const base = corpus.map((e) => e.sql);
    const texts: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const t = base[Math.floor(next() * base.length)]!;
      // The same statement with other literal values, now and then.
      texts.push(next() < 0.5 ? t : t.replace(/\b\d+\b/g, () => String(Math.floor(next() * 1000))));
    }
    for (const [i, text] of texts.entries()) {
      if (i === 1500) {
        bytes.setOracle(oracle);
        strings.setOracle(oracle);
      }
      const src = Buffer.from(`${text}\0`);
      const got = bytes.classifyUtf8(src, 0, src.length - 1) ?? bytes.classify(text);
      assert.deepEqual(got, strings.classify(text), JSON.stringify(text));
    }
  });

  test("non-ASCII text, NUL and the marker are left to the string path", async () => {
    const c = await createClassifier();
    for (const text of ["SELECT 'é'", "SELECT 1\u0000", "SELECT \u0001 1"]) {
      const src = Buffer.from(text);
      assert.equal(c.classifyUtf8(src, 0, src.length), undefined, JSON.stringify(text));
    }
    const ascii = Buffer.from("SELECT 1");
    assert.equal(c.classifyUtf8(ascii, 0, ascii.length), c.classify("SELECT 1"));
  });
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { createClassifier } from "./classifier.js";
import { shapeOf } from "./shape.js";

const shown = (text: string) => shapeOf(text)?.replaceAll("\u0001", "#");

test("number and string literals are replaced; comments, identifiers and parameters kept", () => {
  assert.equal(
    shown("SELECT abalance FROM pgbench_accounts WHERE aid = 4711;"),
    "#SELECT abalance FROM pgbench_accounts WHERE aid = #n;",
  );
  assert.equal(
    shown("/* dbmesh:standby */ SELECT t1.x, 'it''s', -1.5e-3, .5 FROM t1 WHERE y = $1 -- 7\n"),
    "#/* dbmesh:standby */ SELECT t1.x, #s, -#n, #n FROM t1 WHERE y = $1 -- 7\n",
  );
  assert.equal(shown('SELECT "a""1", \'x\' FROM "t 2"'), '#SELECT "a""1", #s FROM "t 2"');
  assert.equal(shown("SELECT /* a /* nested 5 */ 6 */ 7"), "#SELECT /* a /* nested 5 */ 6 */ #n");
});

test("texts whose literal boundaries are not certain, or without literals, have no shape", () => {
  for (const text of [
    "SELECT now()",
    "SELECT E'a\\'b'",
    "SELECT 'a\\b'",
    "SELECT U&'d\\0061t'",
    "SELECT X'1F', B'101'",
    "SELECT $$ 'x' $$",
    "SELECT $tag$ 1 $tag$",
    "SELECT 0x1F",
    "SELECT 1_000",
    "SELECT 1e",
    "SELECT 'unterminated",
    'SELECT "unterminated',
    "SELECT /* unterminated 1",
    "SELECT 1 \u0001",
  ]) {
    assert.equal(shapeOf(text), undefined, text);
  }
});

test("statements differing only in literals share one classification; effects are per text", async () => {
  const c = await createClassifier();
  const a = c.classify("SELECT * FROM t WHERE id = 1");
  assert.equal(c.classify("SELECT * FROM t WHERE id = 22"), a);
  assert.equal(c.classify("SELECT * FROM t WHERE id = 1 FOR UPDATE").write, true);
  const one = c.classify("SET statement_timeout = 1000");
  const two = c.classify("SET statement_timeout = 2000");
  assert.notEqual(one, two);
  assert.deepEqual(
    [one, two].map((x) => x.effects.map((e) => (e.kind === "set" ? e.value : e.kind))),
    [["1000"], ["2000"]],
  );
  const lock = c.classify("SELECT pg_advisory_lock(1)");
  assert.deepEqual(
    lock.effects.map((e) => e.kind),
    ["pin"],
  );
  assert.equal(c.classify("SELECT pg_advisory_lock(2)").effects.length, 1);
  // A text that holds the marker is classified, never cached nor served from a shape entry.
  const size = c.size;
  const marked = "\u0001SELECT * FROM t WHERE id = \u0001n";
  assert.notEqual(c.classify(marked), a);
  assert.notEqual(c.classify(marked), c.classify(marked));
  assert.equal(c.size, size);
});

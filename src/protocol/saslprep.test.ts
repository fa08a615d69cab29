import assert from "node:assert/strict";
import { test } from "node:test";
import { saslprep } from "./saslprep.js";

test("ASCII passwords are used as they are, even with control characters", () => {
  assert.equal(saslprep("pencil"), "pencil");
  assert.equal(saslprep("a\tb"), "a\tb");
});

test("a soft hyphen is removed and a non-ASCII space becomes a space (RFC 4013 examples)", () => {
  assert.equal(saslprep("I\u00ADX"), "IX");
  assert.equal(saslprep("a\u00A0b"), "a b");
});

test("NFKC normalisation", () => {
  assert.equal(saslprep("\u00AA"), "a");
  assert.equal(saslprep("\u2168"), "IX");
});

test("a prohibited character makes PostgreSQL use the password unchanged", () => {
  assert.equal(saslprep("é\u0007"), "é\u0007");
  assert.equal(saslprep("é\uE000"), "é\uE000");
});

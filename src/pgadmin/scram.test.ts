import * as assert from "node:assert/strict";
import { createHash, createHmac, pbkdf2Sync } from "node:crypto";
import { describe, test } from "node:test";
import { scramMatches, scramVerifier } from "./scram.js";

describe("scramVerifier", () => {
  test("has PostgreSQL's rolpassword format with 4096 iterations and a 16-byte salt", () => {
    const v = scramVerifier("secret");
    const m = v.match(
      /^SCRAM-SHA-256\$4096:([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/,
    );
    assert.ok(m, v);
    assert.equal(Buffer.from(m[1]!, "base64").length, 16);
    assert.equal(Buffer.from(m[2]!, "base64").length, 32);
    assert.equal(Buffer.from(m[3]!, "base64").length, 32);
  });

  test("uses a fresh salt each time", () => {
    assert.notEqual(scramVerifier("secret"), scramVerifier("secret"));
  });

  test("matches an independently computed RFC 5802 verifier for a known salt", () => {
    const salt = Buffer.from("0123456789abcdef");
    const salted = pbkdf2Sync("secret", salt, 4096, 32, "sha256");
    const clientKey = createHmac("sha256", salted).update("Client Key").digest();
    const storedKey = createHash("sha256").update(clientKey).digest();
    const serverKey = createHmac("sha256", salted).update("Server Key").digest();
    const expected = `SCRAM-SHA-256$4096:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
    assert.equal(scramVerifier("secret", salt), expected);
    assert.ok(expected.startsWith("SCRAM-SHA-256$4096:MDEyMzQ1Njc4OWFiY2RlZg==$"));
  });
});

describe("scramMatches", () => {
  test("round trip: a verifier matches the password it was made from", async () => {
    assert.equal(await scramMatches(scramVerifier("secret"), "secret"), true);
    assert.equal(await scramMatches(scramVerifier("pässwörd ✓"), "pässwörd ✓"), true);
  });

  test("a wrong password does not match", async () => {
    const v = scramVerifier("secret");
    assert.equal(await scramMatches(v, "Secret"), false);
    assert.equal(await scramMatches(v, "secret "), false);
    assert.equal(await scramMatches(v, ""), false);
  });

  test("md5 hashes, null and garbage never match", async () => {
    assert.equal(await scramMatches("md5e5e28b5e2f1e2e6d1b6b42f0e5b1c6aa", "secret"), false);
    assert.equal(await scramMatches(null, "secret"), false);
    assert.equal(await scramMatches("", "secret"), false);
    assert.equal(await scramMatches("SCRAM-SHA-256$4096:abc", "secret"), false);
  });

  test("a verifier with truncated keys does not match", async () => {
    const v = scramVerifier("secret");
    assert.equal(await scramMatches(v.slice(0, -8), "secret"), false);
  });

  test("honours the iteration count stored in the verifier", async () => {
    const salt = Buffer.from("0123456789abcdef");
    const salted = pbkdf2Sync("secret", salt, 10, 32, "sha256");
    const storedKey = createHash("sha256")
      .update(createHmac("sha256", salted).update("Client Key").digest())
      .digest();
    const serverKey = createHmac("sha256", salted).update("Server Key").digest();
    const v = `SCRAM-SHA-256$10:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
    assert.equal(await scramMatches(v, "secret"), true);
    assert.equal(await scramMatches(v, "other"), false);
  });
});

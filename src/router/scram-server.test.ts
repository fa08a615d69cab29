import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ScramClient } from "../protocol/index.js";
import { makeVerifier, ScramServer } from "./scram-server.js";

// The router's SCRAM server against the protocol's SCRAM client (the one the router and tests
// use towards PostgreSQL): the right password passes both ways, anything else is refused.

function exchange(clientPassword: string, serverPassword: string) {
  const client = new ScramClient(clientPassword);
  const server = new ScramServer(makeVerifier(serverPassword));
  const first = server.first(client.clientFirst());
  assert.ok(first.ok);
  const final = server.final(client.clientFinal(first.data));
  if (final.ok) client.verifyServerFinal(final.data);
  return final;
}

describe("ScramServer", () => {
  test("the right password passes and the client verifies the server's signature", () => {
    assert.equal(exchange("pw ünïcode 'q' \\", "pw ünïcode 'q' \\").ok, true);
  });

  test("a wrong password is refused", () => {
    assert.equal(exchange("wrong", "right").ok, false);
  });

  test("tampered messages are refused", () => {
    const client = new ScramClient("pw");
    const server = new ScramServer(makeVerifier("pw"));
    const first = server.first(client.clientFirst());
    assert.ok(first.ok);
    const final = client.clientFinal(first.data).toString();
    for (const bad of [
      final.replace(/r=[^,]+/, "r=othernonce"),
      final.replace("c=biws", "c=eSws"),
      final.replace(/p=.*/, "p=AAAA"),
      "garbage",
    ]) {
      assert.equal(new ScramServer(makeVerifier("pw")).final(Buffer.from(bad)).ok, false);
      assert.equal(server.final(Buffer.from(bad)).ok, false, bad);
    }
    for (const bad of ["p=tls-server-end-point,,n=,r=abc", "n,,r=abc", ""]) {
      assert.equal(new ScramServer(makeVerifier("pw")).first(Buffer.from(bad)).ok, false, bad);
    }
  });
});

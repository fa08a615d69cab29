import * as assert from "node:assert/strict";
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";
import { describe, test } from "node:test";
import { ProtocolError } from "./protocol-error.js";
import { ScramClient } from "./scram-client.js";

const hmac = (key: Buffer, data: string | Buffer) =>
  createHmac("sha256", key).update(data).digest();
const sha256 = (data: Buffer) => createHash("sha256").update(data).digest();

/** The server side of SCRAM-SHA-256 (RFC 5802 section 3), for a verifier made from `password`. */
class TestScramServer {
  private readonly storedKey: Buffer;
  private readonly serverKey: Buffer;
  private clientFirstBare = "";
  private serverFirst = "";
  private nonce = "";

  constructor(
    password: string,
    private readonly salt = Buffer.from("a known salt"),
    private readonly iterations = 4096,
    private readonly options: { skipProofCheck?: boolean } = {},
  ) {
    const salted = pbkdf2Sync(password.normalize("NFKC"), salt, iterations, 32, "sha256");
    this.storedKey = sha256(hmac(salted, "Client Key"));
    this.serverKey = hmac(salted, "Server Key");
  }

  first(clientFirst: Buffer): Buffer {
    const text = clientFirst.toString();
    assert.ok(text.startsWith("n,,"), "gs2 header without channel binding");
    this.clientFirstBare = text.slice(3);
    const m = /^n=[^,]*,r=([^,]+)$/.exec(this.clientFirstBare);
    assert.ok(m, this.clientFirstBare);
    this.nonce = m[1] + randomBytes(18).toString("base64");
    this.serverFirst = `r=${this.nonce},s=${this.salt.toString("base64")},i=${this.iterations}`;
    return Buffer.from(this.serverFirst);
  }

  /** server-final-message: v=<signature> when the proof checks out, e=invalid-proof otherwise. */
  final(clientFinal: Buffer): Buffer {
    const m = /^(c=biws,r=([^,]+)),p=([A-Za-z0-9+/=]+)$/.exec(clientFinal.toString());
    assert.ok(m, clientFinal.toString());
    assert.equal(m[2], this.nonce);
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${m[1]}`;
    const proof = Buffer.from(m[3]!, "base64");
    const signature = hmac(this.storedKey, authMessage);
    const clientKey = Buffer.from(proof.map((b, i) => b ^ signature[i]!));
    const valid = proof.length === 32 && timingSafeEqual(sha256(clientKey), this.storedKey);
    if (!valid && !this.options.skipProofCheck) {
      return Buffer.from("e=invalid-proof");
    }
    return Buffer.from(`v=${hmac(this.serverKey, authMessage).toString("base64")}`);
  }
}

function rejects(fn: () => unknown, code: string, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ProtocolError, String(e));
    assert.equal(e.code, code);
    if (message) assert.match(e.message, message);
    return true;
  });
}

describe("ScramClient", () => {
  test("RFC 7677 test vector", () => {
    const client = new ScramClient("pencil", { username: "user", nonce: "rOprNGfwEbeRWgbNEkqO" });
    assert.equal(client.clientFirst().toString(), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
    const final = client.clientFinal(
      Buffer.from(
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
      ),
    );
    assert.equal(
      final.toString(),
      "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
    );
    client.verifyServerFinal(Buffer.from("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="));
  });

  test("client-first has an empty user name like libpq, and a fresh 24-character nonce", () => {
    const a = new ScramClient("pw").clientFirst().toString();
    const b = new ScramClient("pw").clientFirst().toString();
    assert.match(a, /^n,,n=,r=[A-Za-z0-9+/]{24}$/);
    assert.notEqual(a, b);
  });

  test("user names escape ',' and '='", () => {
    const client = new ScramClient("pw", { username: "a,b=c", nonce: "abc" });
    assert.equal(client.clientFirst().toString(), "n,,n=a=2Cb=3Dc,r=abc");
  });

  test("exchange with a server holding the same password", () => {
    for (const password of ["secret", "pässwörd ✓", "Ⅸ ﬁ", ""]) {
      const server = new TestScramServer(password, randomBytes(16), 1000);
      const client = new ScramClient(password);
      const serverFinal = server.final(client.clientFinal(server.first(client.clientFirst())));
      assert.match(serverFinal.toString(), /^v=/);
      client.verifyServerFinal(serverFinal);
    }
  });

  test("NFKC: a compatibility form of the password matches the normalised one", () => {
    const server = new TestScramServer("IX fi");
    const client = new ScramClient("Ⅸ ﬁ");
    client.verifyServerFinal(server.final(client.clientFinal(server.first(client.clientFirst()))));
  });

  test("wrong password: the server answers e=invalid-proof, the client reports 28P01", () => {
    const server = new TestScramServer("right");
    const client = new ScramClient("wrong");
    const serverFinal = server.final(client.clientFinal(server.first(client.clientFirst())));
    assert.equal(serverFinal.toString(), "e=invalid-proof");
    rejects(() => client.verifyServerFinal(serverFinal), "28P01", /invalid-proof/);
  });

  test("a server that does not know the password is caught by its signature (28000)", () => {
    // It skips the proof check and signs with keys from its guess at the password.
    const impostor = new TestScramServer("guess", undefined, undefined, { skipProofCheck: true });
    const client = new ScramClient("secret");
    const serverFinal = impostor.final(client.clientFinal(impostor.first(client.clientFirst())));
    assert.match(serverFinal.toString(), /^v=/);
    rejects(() => client.verifyServerFinal(serverFinal), "28000", /signature/);
  });

  test("malformed or hostile server-first messages are protocol violations", () => {
    const bad = [
      "r=someoneelse123,s=c2FsdA==,i=4096", // nonce does not extend the client's
      "r=abc,s=c2FsdA==,i=4096", // nonce not extended at all
      "r=abcdef,s=,i=4096",
      "r=abcdef,s=not base64!,i=4096",
      "r=abcdef,s=c2FsdA==,i=0",
      "r=abcdef,s=c2FsdA==,i=-1",
      "r=abcdef,s=c2FsdA==,i=4096x",
      "r=abcdef,s=c2FsdA==,i=2000000",
      "r=abcdef,s=c2FsdA==",
      "m=ext,r=abcdef,s=c2FsdA==,i=4096",
      "s=c2FsdA==,r=abcdef,i=4096",
      "",
    ];
    for (const serverFirst of bad) {
      const client = new ScramClient("pw", { nonce: "abc" });
      client.clientFirst();
      rejects(() => client.clientFinal(Buffer.from(serverFirst)), "08P01");
    }
  });

  test("the iteration limit is configurable", () => {
    const client = new ScramClient("pw", { nonce: "abc", maxIterations: 100 });
    client.clientFirst();
    rejects(() => client.clientFinal(Buffer.from("r=abcdef,s=c2FsdA==,i=101")), "08P01");
  });

  test("messages out of order are protocol violations", () => {
    const client = new ScramClient("pw", { nonce: "abc" });
    rejects(() => client.clientFinal(Buffer.from("r=abcdef,s=c2FsdA==,i=1")), "08P01");
    rejects(() => client.verifyServerFinal(Buffer.from("v=x")), "08P01");
    client.clientFirst();
    rejects(() => client.clientFirst(), "08P01");
    rejects(() => client.verifyServerFinal(Buffer.from("v=x")), "08P01");
  });

  test("a server-final without v= is a protocol violation", () => {
    const server = new TestScramServer("pw");
    const client = new ScramClient("pw");
    client.clientFinal(server.first(client.clientFirst()));
    rejects(() => client.verifyServerFinal(Buffer.from("x=1")), "08P01");
  });

  test("a nonce with ',' cannot be injected", () => {
    assert.throws(() => new ScramClient("pw", { nonce: "a,b" }), RangeError);
  });
});

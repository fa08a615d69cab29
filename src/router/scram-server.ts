// SCRAM-SHA-256 server side without channel binding (RFC 5802, RFC 7677), against a verifier
// the router derives itself, so it never sees or logs a client's password.
// https://www.postgresql.org/docs/17/sasl-authentication.html#SASL-SCRAM-SHA-256
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";
import { saslprep, scramKeys } from "../protocol/index.js";

/** What pg_authid.rolpassword holds for SCRAM: salt, iterations, StoredKey, ServerKey. */
export interface ScramVerifier {
  readonly salt: Buffer;
  readonly iterations: number;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
}

const ITERATIONS = 4096;

/** A verifier for `password` with a fresh random salt, as PostgreSQL makes one. */
export function makeVerifier(password: string): ScramVerifier {
  const salt = randomBytes(16);
  const salted = pbkdf2Sync(saslprep(password), salt, ITERATIONS, 32, "sha256");
  const { storedKey, serverKey } = scramKeys(salted);
  return Object.freeze({ salt, iterations: ITERATIONS, storedKey, serverKey });
}

const PRINTABLE = /^[\x21-\x2b\x2d-\x7e]+$/;

export type ScramStep =
  | { readonly ok: true; readonly data: Buffer }
  | { readonly ok: false; readonly reason: string };

/**
 * One exchange: first() takes client-first-message and returns server-first-message; final()
 * takes client-final-message and returns server-final-message when the proof is right.
 */
export class ScramServer {
  private clientFirstBare = "";
  private serverFirst = "";
  private gs2 = "";
  private nonce = "";

  constructor(private readonly verifier: ScramVerifier) {}

  first(message: Buffer): ScramStep {
    const text = message.toString("utf8");
    // gs2-header: "n" (no channel binding) or "y" (client could, thinks we cannot); "p=" asks
    // for binding, which is not advertised. No authzid.
    const m = /^([ny]),,(n=[^,]*,r=([^,]+)(?:,.*)?)$/.exec(text);
    if (!m) return { ok: false, reason: "malformed SCRAM client-first-message" };
    const clientNonce = m[3]!;
    if (!PRINTABLE.test(clientNonce)) return { ok: false, reason: "malformed SCRAM nonce" };
    this.gs2 = `${m[1]},,`;
    this.clientFirstBare = m[2]!;
    this.nonce = clientNonce + randomBytes(18).toString("base64");
    const v = this.verifier;
    this.serverFirst = `r=${this.nonce},s=${v.salt.toString("base64")},i=${v.iterations}`;
    return { ok: true, data: Buffer.from(this.serverFirst) };
  }

  final(message: Buffer): ScramStep {
    const text = message.toString("utf8");
    const m = /^c=([^,]*),r=([^,]*)((?:,[^,]*)*),p=([A-Za-z0-9+/=]+)$/.exec(text);
    if (!m) return { ok: false, reason: "malformed SCRAM client-final-message" };
    if (m[1] !== Buffer.from(this.gs2).toString("base64")) {
      return { ok: false, reason: "SCRAM channel binding does not match" };
    }
    if (m[2] !== this.nonce) return { ok: false, reason: "SCRAM nonce does not match" };
    const withoutProof = text.slice(0, text.lastIndexOf(",p="));
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const proof = Buffer.from(m[4]!, "base64");
    const { storedKey, serverKey } = this.verifier;
    if (proof.length !== storedKey.length) return { ok: false, reason: "wrong SCRAM proof" };
    const signature = createHmac("sha256", storedKey).update(authMessage).digest();
    const clientKey = Buffer.alloc(proof.length);
    for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i]! ^ signature[i]!;
    const computed = createHash("sha256").update(clientKey).digest();
    if (!timingSafeEqual(computed, storedKey)) return { ok: false, reason: "wrong SCRAM proof" };
    const serverSignature = createHmac("sha256", serverKey).update(authMessage).digest();
    return { ok: true, data: Buffer.from(`v=${serverSignature.toString("base64")}`) };
  }
}

// SCRAM-SHA-256 client side, without channel binding (RFC 5802, RFC 7677).
// https://www.postgresql.org/docs/17/sasl-authentication.html#SASL-SCRAM-SHA-256

import { createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";
import { ProtocolError } from "./protocol-error.js";
import { saslprep } from "./saslprep.js";
import { scramKeys } from "./scram-keys.js";

export interface ScramClientOptions {
  /** Client nonce; 18 random bytes in base64 (as libpq) unless given. Printable ASCII, no ','. */
  readonly nonce?: string;
  /**
   * The n= attribute. PostgreSQL ignores it and authenticates the startup user, so libpq sends
   * it empty; default "".
   */
  readonly username?: string;
  /** Largest iteration count accepted from the server (PBKDF2 cost); default 1,000,000. */
  readonly maxIterations?: number;
}

// gs2-header "n,," : client does not support channel binding, no authzid. c= carries it base64.
const GS2_HEADER = "n,,";
const CHANNEL_BINDING = Buffer.from(GS2_HEADER).toString("base64");
// RFC 5802 printable: %x21-2B / %x2D-7E (visible ASCII except ',').
const PRINTABLE = /^[\x21-\x2b\x2d-\x7e]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const DEFAULT_MAX_ITERATIONS = 1_000_000;

// saslname: ',' and '=' escaped as =2C and =3D (RFC 5802 section 5.1).
function saslName(name: string): string {
  return name.replace(/=/g, "=3D").replace(/,/g, "=2C");
}

function hmac(key: Buffer, data: string | Buffer): Buffer {
  return createHmac("sha256", key).update(data).digest();
}

/** The value of attribute `name` in "name=value", or a ProtocolError. */
function attribute(part: string | undefined, name: string, message: string): string {
  if (part === undefined || !part.startsWith(`${name}=`)) {
    throw new ProtocolError(`malformed SCRAM ${message}: expected attribute ${name}=`);
  }
  return part.slice(name.length + 1);
}

/**
 * One SCRAM-SHA-256 exchange: clientFirst() for SASLInitialResponse, clientFinal() with the
 * AuthenticationSASLContinue data for SASLResponse, verifyServerFinal() with the
 * AuthenticationSASLFinal data. The password goes through SASLprep, as PostgreSQL's does.
 */
export class ScramClient {
  static readonly mechanism = "SCRAM-SHA-256";

  private readonly password: string;
  private readonly nonce: string;
  private readonly clientFirstBare: string;
  private readonly maxIterations: number;
  private state: "initial" | "first-sent" | "final-sent" | "verified" = "initial";
  private serverSignature: Buffer | undefined;

  constructor(password: string, options: ScramClientOptions = {}) {
    this.password = saslprep(password);
    this.nonce = options.nonce ?? randomBytes(18).toString("base64");
    if (!PRINTABLE.test(this.nonce)) {
      throw new RangeError("SCRAM nonce must be printable ASCII without ','");
    }
    this.clientFirstBare = `n=${saslName(options.username ?? "")},r=${this.nonce}`;
    this.maxIterations = options.maxIterations ?? DEFAULT_MAX_ITERATIONS;
  }

  /** client-first-message: gs2 header "n,,", then n=<user>,r=<client nonce>. */
  clientFirst(): Buffer {
    this.expect("initial", "client-first");
    this.state = "first-sent";
    return Buffer.from(GS2_HEADER + this.clientFirstBare);
  }

  /**
   * client-final-message for server-first-message r=<nonce>,s=<salt>,i=<iterations>: the
   * server nonce must extend the client nonce, and the iteration count must be 1..maxIterations.
   */
  clientFinal(serverFirst: Buffer): Buffer {
    this.expect("first-sent", "server-first");
    const text = serverFirst.toString("utf8");
    const parts = text.split(",");
    if (parts[0]?.startsWith("m=")) {
      throw new ProtocolError("SCRAM server-first message has an unsupported mandatory extension");
    }
    const nonce = attribute(parts[0], "r", "server-first message");
    const salt = attribute(parts[1], "s", "server-first message");
    const iterationText = attribute(parts[2], "i", "server-first message");
    if (
      !nonce.startsWith(this.nonce) ||
      nonce.length <= this.nonce.length ||
      !PRINTABLE.test(nonce)
    ) {
      throw new ProtocolError("SCRAM server nonce does not extend the client nonce");
    }
    if (salt === "" || !BASE64.test(salt)) {
      throw new ProtocolError("malformed SCRAM server-first message: salt is not base64");
    }
    const iterations = /^[1-9][0-9]{0,9}$/.test(iterationText) ? Number(iterationText) : Number.NaN;
    if (!(iterations <= this.maxIterations)) {
      throw new ProtocolError(
        `SCRAM iteration count ${JSON.stringify(iterationText)} is not 1..${this.maxIterations}`,
      );
    }

    const salted = pbkdf2Sync(this.password, Buffer.from(salt, "base64"), iterations, 32, "sha256");
    const { clientKey, storedKey, serverKey } = scramKeys(salted);
    const withoutProof = `c=${CHANNEL_BINDING},r=${nonce}`;
    // AuthMessage = client-first-message-bare "," server-first-message "," client-final-without-proof
    const authMessage = Buffer.concat([
      Buffer.from(`${this.clientFirstBare},`),
      serverFirst,
      Buffer.from(`,${withoutProof}`),
    ]);
    const clientSignature = hmac(storedKey, authMessage);
    const proof = Buffer.alloc(clientKey.length);
    for (let i = 0; i < proof.length; i++) proof[i] = clientKey[i]! ^ clientSignature[i]!;
    this.serverSignature = hmac(serverKey, authMessage);
    this.state = "final-sent";
    return Buffer.from(`${withoutProof},p=${proof.toString("base64")}`);
  }

  /**
   * Checks server-final-message v=<ServerSignature>: proof that the server knows the password.
   * Throws ProtocolError 28000 on a wrong signature, 28P01 when the server sent e=<error>.
   */
  verifyServerFinal(serverFinal: Buffer): void {
    this.expect("final-sent", "server-final");
    const text = serverFinal.toString("utf8");
    const first = text.split(",")[0];
    if (first?.startsWith("e=")) {
      throw new ProtocolError(`SCRAM authentication failed: ${first.slice(2)}`, "28P01");
    }
    const verifier = attribute(first, "v", "server-final message");
    const signature = BASE64.test(verifier) ? Buffer.from(verifier, "base64") : Buffer.alloc(0);
    const expected = this.serverSignature!;
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) {
      throw new ProtocolError(
        "SCRAM server signature is wrong: the server does not know the password",
        "28000",
      );
    }
    this.state = "verified";
  }

  private expect(state: ScramClient["state"], message: string): void {
    if (this.state !== state) {
      throw new ProtocolError(`SCRAM ${message} message out of order (exchange is ${this.state})`);
    }
  }
}

import { pbkdf2, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";
import { saslprep } from "../protocol/saslprep.js";
import { scramKeys } from "../protocol/scram-keys.js";

// SCRAM-SHA-256 verifiers as stored in pg_authid.rolpassword:
// SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey> (RFC 5802, RFC 7677).
// Computing them here means CREATE/ALTER ROLE never sends a plaintext password, so none
// reaches the server log; verifying one tells whether a declared password has drifted.
// Passwords go through SASLprep first, as PostgreSQL and libpq do.

const iterations = 4096;

export function scramVerifier(password: string, salt = randomBytes(16)): string {
  const { storedKey, serverKey } = keys(password, salt, iterations);
  return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}

const pbkdf2Async = promisify(pbkdf2);

/**
 * True when `verifier` was made from `password`; false for anything else (md5, null, garbage).
 * PBKDF2 runs on libuv's thread pool, so checking many roles does not block other I/O.
 */
export async function scramMatches(verifier: string | null, password: string): Promise<boolean> {
  const m = verifier?.match(/^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/);
  if (!m) return false;
  const salt = Buffer.from(m[2]!, "base64");
  const salted = await pbkdf2Async(saslprep(password), salt, Number(m[1]), 32, "sha256");
  const { storedKey, serverKey } = scramKeys(salted);
  const a = Buffer.concat([storedKey, serverKey]);
  const b = Buffer.concat([Buffer.from(m[3]!, "base64"), Buffer.from(m[4]!, "base64")]);
  return a.length === b.length && timingSafeEqual(a, b);
}

function keys(password: string, salt: Buffer, iter: number) {
  return scramKeys(pbkdf2Sync(saslprep(password), salt, iter, 32, "sha256"));
}

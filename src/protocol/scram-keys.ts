import { createHash, createHmac } from "node:crypto";

/**
 * The keys SCRAM-SHA-256 derives from a salted password (RFC 5802 section 3): ClientKey,
 * StoredKey = H(ClientKey), ServerKey. The client proves ClientKey; the server stores StoredKey
 * and ServerKey (pg_authid.rolpassword).
 */
export function scramKeys(salted: Buffer): {
  clientKey: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
} {
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  return {
    clientKey,
    storedKey: createHash("sha256").update(clientKey).digest(),
    serverKey: createHmac("sha256", salted).update("Server Key").digest(),
  };
}

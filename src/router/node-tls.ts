// TLS from the router to the nodes (router.nodeTls), with libpq's sslmode meanings: prefer and
// require encrypt without checking the certificate, verify-ca checks that the CA signed it,
// verify-full also that it names the node's host.
// https://www.postgresql.org/docs/17/libpq-ssl.html#LIBPQ-SSL-SSLMODE-STATEMENTS
import { isIP } from "node:net";
import { type ConnectionOptions, checkServerIdentity } from "node:tls";
import type pg from "pg";
import type { NodeTlsMode } from "../topology/index.js";

/** router.nodeTls with its CA file read. */
export interface NodeTls {
  readonly mode: NodeTlsMode;
  /** PEM of the CA certificates the nodes' certificates are checked against (verify-*). */
  readonly ca: Buffer | undefined;
}

export const NO_NODE_TLS: NodeTls = Object.freeze({ mode: "disable", ca: undefined });

/** Options of tls.connect over a node connection whose SSLRequest was accepted. */
export function tlsOptions(tls: NodeTls, host: string): ConnectionOptions {
  const verify = tls.mode === "verify-ca" || tls.mode === "verify-full";
  return {
    ca: verify ? tls.ca : undefined,
    rejectUnauthorized: verify,
    // Node checks the name after the chain; verify-ca skips it, as libpq does.
    checkServerIdentity:
      tls.mode === "verify-full"
        ? (_name, cert) => checkServerIdentity(host, cert)
        : () => undefined,
    // SNI carries host names only (RFC 6066 section 3), as libpq's sslsni.
    ...(isIP(host) === 0 ? { servername: host } : {}),
  };
}

/** Why a login over TLS failed, naming the node and the fix. */
export const nodeTlsFailures = {
  /** The node answered N to SSLRequest (ssl = off) and the mode does not allow plain text. */
  refused: (node: string): string =>
    `node ${node} does not accept TLS: set ssl = on on it, or router.nodeTls.mode: prefer`,
  /** The handshake failed or the node's certificate did not verify. */
  handshake: (node: string, mode: NodeTlsMode, reason: string): string =>
    `TLS with node ${node} failed (router.nodeTls.mode: ${mode}): ${reason}${
      mode === "verify-ca" || mode === "verify-full"
        ? "; check that router.nodeTls.ca holds the CA that signed the node's certificate" +
          (mode === "verify-full" ? " and that the certificate names the node's host" : "")
        : ""
    }`,
} as const;

// The one-byte answers to SSLRequest.
// https://www.postgresql.org/docs/17/protocol-flow.html#PROTOCOL-FLOW-SSL
const SSL_ACCEPTED = 0x53; // S
const SSL_REFUSED = 0x4e; // N

/**
 * What a node's answer to SSLRequest means under `tls`: "tls" (S: the handshake starts), "plain"
 * (N, and prefer goes on in plain text on the same connection), or why the connection fails.
 */
export function sslAnswer(
  answer: Buffer,
  tls: NodeTls,
  node: string,
): "tls" | "plain" | { readonly kind: "socket" | "tls"; readonly message: string } {
  // Bytes after the answer were not encrypted, whoever sent them (CVE-2021-23222).
  if (answer.length !== 1) {
    return { kind: "socket", message: "the node sent more than its answer to SSLRequest" };
  }
  if (answer[0] === SSL_REFUSED) {
    return tls.mode === "prefer"
      ? "plain"
      : { kind: "tls", message: nodeTlsFailures.refused(node) };
  }
  if (answer[0] !== SSL_ACCEPTED) {
    return { kind: "socket", message: "the node did not answer SSLRequest with S or N" };
  }
  return "tls";
}

/**
 * A connected node-postgres client for a node, over TLS as router.nodeTls says (health checks,
 * the catalog loader). node-postgres has no prefer: it asks for TLS and, when the node answers
 * N, connects again in plain text. `make` builds the client for an `ssl` option.
 */
export async function connectNode(
  node: string,
  host: string,
  tls: NodeTls,
  make: (ssl: false | ConnectionOptions) => pg.Client,
): Promise<pg.Client> {
  if (tls.mode === "disable") {
    const c = make(false);
    await c.connect();
    return c;
  }
  const c = make(tlsOptions(tls, host));
  try {
    await c.connect();
    return c;
  } catch (e) {
    await c.end().catch(() => {});
    if (!refusedByNode(e)) throw tlsError(e, node, tls.mode);
    if (tls.mode !== "prefer") throw new Error(nodeTlsFailures.refused(node));
  }
  const plain = make(false);
  await plain.connect();
  return plain;
}

/** node-postgres's error when the node answers N to SSLRequest (it carries no code). */
function refusedByNode(e: unknown): boolean {
  return e instanceof Error && e.message === "The server does not support SSL connections";
}

// Node's codes for certificate checks (OpenSSL's X509_V_ERR_* names) and handshake failures.
const TLS_CODE =
  /^(ERR_SSL_|ERR_TLS_)|CERT|^UNABLE_TO_|^INVALID_CA$|^PATH_LENGTH_EXCEEDED$|^INVALID_PURPOSE$|^HOSTNAME_MISMATCH$/;

function tlsError(e: unknown, node: string, mode: NodeTlsMode): unknown {
  const code = (e as { code?: unknown }).code;
  if (!(e instanceof Error) || typeof code !== "string" || !TLS_CODE.test(code)) return e;
  return new Error(nodeTlsFailures.handshake(node, mode, e.message), { cause: e });
}

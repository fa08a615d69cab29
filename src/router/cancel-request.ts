// A CancelRequest forwarded to a node, sent as libpq's PQcancelCreate (PostgreSQL 17) sends it
// for the connection's sslmode: with router.nodeTls other than disable it first asks for TLS
// (SSLRequest) and sends the CancelRequest inside the TLS session; prefer falls back to plain
// text on the same connection when the node answers N. PostgreSQL reads a CancelRequest as the
// startup packet after the SSL negotiation, as it reads a StartupMessage.
// https://www.postgresql.org/docs/17/protocol-flow.html#PROTOCOL-FLOW-CANCELING-REQUESTS
// https://www.postgresql.org/docs/17/libpq-cancel.html
import { connect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { serialize } from "../protocol/index.js";
import { type NodeTls, nodeTlsFailures, tlsOptions } from "./node-tls.js";

// The one-byte answers to SSLRequest.
// https://www.postgresql.org/docs/17/protocol-flow.html#PROTOCOL-FLOW-SSL
const SSL_ACCEPTED = 0x53; // S
const SSL_REFUSED = 0x4e; // N
/** A node that takes longer than this to take a cancel request is given up on. */
const CANCEL_TIMEOUT_MS = 10_000;

/** Where a cancel request goes: the node of the server connection running the query. */
export interface CancelTarget {
  readonly node: string;
  readonly host: string;
  readonly port: number;
  readonly tls?: NodeTls;
}

/**
 * Sends CancelRequest(pid, key) to `target` on a new connection; `failed` is told why when it
 * could not be sent (nothing comes back when it was: the node closes the connection).
 */
export function sendCancel(
  target: CancelTarget,
  pid: number,
  key: number,
  failed: (why: string) => void,
): void {
  const request = serialize.cancelRequest(pid, key);
  const tls = target.tls;
  const socket = connect({ host: target.host, port: target.port });
  let sent = false;
  const fail = (why: string) => {
    socket.destroy();
    if (sent) return;
    sent = true;
    failed(why);
  };
  socket.setTimeout(CANCEL_TIMEOUT_MS, () => fail(`no answer within ${CANCEL_TIMEOUT_MS} ms`));
  socket.on("error", (e) => fail(e.message));
  const send = (s: typeof socket) => {
    sent = true;
    s.end(request);
  };
  if (tls === undefined || tls.mode === "disable") {
    socket.once("connect", () => send(socket));
    return;
  }
  socket.once("connect", () => socket.write(serialize.sslRequest()));
  socket.once("data", (answer: Buffer) => {
    // Bytes after the answer were not encrypted, whoever sent them (CVE-2021-23222).
    if (answer.length !== 1) {
      fail("the node sent more than its answer to SSLRequest");
      return;
    }
    if (answer[0] === SSL_REFUSED) {
      if (tls.mode === "prefer") send(socket);
      else fail(nodeTlsFailures.refused(target.node));
      return;
    }
    if (answer[0] !== SSL_ACCEPTED) {
      fail("the node did not answer SSLRequest with S or N");
      return;
    }
    const secure = tlsConnect({ socket, ...tlsOptions(tls, target.host) });
    secure.on("error", (e) => {
      secure.destroy();
      fail(nodeTlsFailures.handshake(target.node, tls.mode, e.message));
    });
    secure.once("secureConnect", () => send(secure));
  });
}

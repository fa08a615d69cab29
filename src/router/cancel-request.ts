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
import { type NodeTls, nodeTlsFailures, sslAnswer, tlsOptions } from "./node-tls.js";

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
    const next = sslAnswer(answer, tls, target.node);
    if (next === "plain") {
      send(socket);
      return;
    }
    if (next !== "tls") {
      fail(next.message);
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

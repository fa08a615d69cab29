import { hbaToken, ident } from "../pgadmin/quote.js";
import type { ErrorFields } from "../protocol/index.js";
import { ReplicationError } from "./replication-error.js";

/** Where the connection was when the ErrorResponse arrived. */
export type ConnectionPhase =
  /** Before any authentication request: pg_hba.conf matching. */
  | "startup"
  /** During the SASL exchange. */
  | "authenticating"
  /** After AuthenticationOk: role checks in InitPostgres, then commands. */
  | "authenticated";

export interface ServerErrorContext {
  readonly node: string;
  readonly user: string;
  /** The client's address as the server sees it (the socket's local address). */
  readonly clientAddress: string;
  readonly phase: ConnectionPhase;
}

/** The pg_hba.conf line that admits this client's physical replication connection. */
export function replicationHbaLine(user: string, clientAddress: string): string {
  const v4 = clientAddress.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, "");
  const cidr = v4.includes(":") ? `${v4}/128` : `${v4}/32`;
  return `host replication ${hbaToken(user)} ${cidr} scram-sha-256`;
}

/**
 * An ErrorResponse as a ReplicationError, classified by SQLSTATE and by the phase it came in
 * (28000 before authentication is pg_hba.conf; after it, a role that may not log in).
 * https://www.postgresql.org/docs/17/errcodes-appendix.html
 */
export function serverError(fields: ErrorFields, ctx: ServerErrorContext): ReplicationError {
  const base = {
    node: ctx.node,
    problem: fields.message,
    sqlstate: fields.code,
    fields,
    detail: fields.detail,
  };
  const role = ident(ctx.user);
  switch (fields.code) {
    case "28P01":
      return new ReplicationError({
        ...base,
        kind: "auth",
        hint: `check the password of role ${role} on node "${ctx.node}"`,
      });
    case "28000":
      if (ctx.phase === "authenticated") {
        return new ReplicationError({
          ...base,
          kind: "permission",
          hint: `allow the role to log in on node "${ctx.node}": ALTER ROLE ${role} LOGIN`,
        });
      }
      return new ReplicationError({
        ...base,
        kind: "hba",
        hint: `add the line "${replicationHbaLine(ctx.user, ctx.clientAddress)}" to pg_hba.conf of node "${ctx.node}" and reload it`,
      });
    case "42501":
      return new ReplicationError({
        ...base,
        kind: "permission",
        hint: `as a superuser on node "${ctx.node}", run: ALTER ROLE ${role} REPLICATION`,
      });
    case "53300":
      return new ReplicationError({
        ...base,
        kind: "server",
        hint: `node "${ctx.node}" has no free WAL sender or connection slot: raise max_wal_senders (and max_connections) or close other replication connections`,
      });
    case "55000":
      return new ReplicationError({
        ...base,
        kind: "server",
        hint: `check wal_level (replica or logical), max_wal_senders and max_replication_slots on node "${ctx.node}"`,
      });
    case "57P01":
    case "57P02":
    case "57P03":
      return new ReplicationError({
        ...base,
        kind: "connect",
        hint: `node "${ctx.node}" is shutting down, restarting or not yet accepting connections; retry once it is up`,
      });
    default:
      return new ReplicationError({
        ...base,
        kind: "server",
        hint: `see the server log of node "${ctx.node}"`,
      });
  }
}

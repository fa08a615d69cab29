import type { ErrorFields } from "../protocol/index.js";

export type ReplicationErrorKind =
  /** The upstream cannot be reached, or the connection broke (refused, reset, closed, shut down). */
  | "connect"
  /** Password or SCRAM failure, or an authentication method dbmesh does not use. */
  | "auth"
  /** The role lacks REPLICATION (or LOGIN). */
  | "permission"
  /** pg_hba.conf has no line admitting the replication connection. */
  | "hba"
  /** Any other ErrorResponse, or a backup the server sent that dbmesh cannot take. */
  | "server"
  /** The server's messages or archive do not follow the protocol or tar format. */
  | "protocol"
  /** The backup does not match its manifest. */
  | "verify"
  /** The standby data directory already exists and is not empty. */
  | "target-exists"
  /** The caller's AbortSignal fired. */
  | "aborted"
  /** Writing the backup locally failed (disk full, permissions). */
  | "io";

export interface ReplicationErrorOptions {
  readonly kind: ReplicationErrorKind;
  readonly node: string;
  /** What went wrong, without the node prefix. */
  readonly problem: string;
  /** What to do about it. */
  readonly hint: string;
  /** The SQLSTATE of the server's ErrorResponse, when there was one. */
  readonly sqlstate?: string | undefined;
  /** Every field of that ErrorResponse. */
  readonly fields?: ErrorFields | undefined;
  /** More text: every verification problem, the server's DETAIL. */
  readonly detail?: string | undefined;
  readonly cause?: unknown;
}

/** A failure of a replication connection or base backup, with what a user needs to act. */
export class ReplicationError extends Error {
  readonly kind: ReplicationErrorKind;
  readonly node: string;
  readonly problem: string;
  readonly hint: string;
  readonly sqlstate?: string;
  readonly fields?: ErrorFields;
  readonly detail?: string;

  constructor(opts: ReplicationErrorOptions) {
    super(`node "${opts.node}": ${opts.problem}; ${opts.hint}`, { cause: opts.cause });
    this.name = "ReplicationError";
    this.kind = opts.kind;
    this.node = opts.node;
    this.problem = opts.problem;
    this.hint = opts.hint;
    if (opts.sqlstate !== undefined) this.sqlstate = opts.sqlstate;
    if (opts.fields !== undefined) this.fields = opts.fields;
    if (opts.detail !== undefined) this.detail = opts.detail;
  }
}

export function isReplicationError(e: unknown): e is ReplicationError {
  return e instanceof ReplicationError;
}

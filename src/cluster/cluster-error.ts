export type ClusterErrorKind =
  | "binaries-not-found"
  | "port-in-use"
  | "start-failed"
  | "init-failed"
  | "stop-failed"
  | "reload-failed"
  | "config-invalid"
  | "dir-not-accessible"
  | "user-failed";

export interface ClusterErrorOptions {
  kind: ClusterErrorKind;
  node?: string | undefined;
  /** What went wrong, without the node prefix. */
  problem: string;
  /** What the user should do about it. */
  hint: string;
  /** Extra diagnostic text such as command output or a log tail. */
  detail?: string | undefined;
  cause?: unknown;
}

export class ClusterError extends Error {
  readonly kind: ClusterErrorKind;
  readonly node: string | undefined;
  /** The message without the node prefix and the hint. */
  readonly problem: string;
  readonly hint: string;
  readonly detail: string | undefined;

  constructor(opts: ClusterErrorOptions) {
    const prefix = opts.node === undefined ? "" : `node "${opts.node}": `;
    super(`${prefix}${opts.problem}; ${opts.hint}`, { cause: opts.cause });
    this.name = "ClusterError";
    this.kind = opts.kind;
    this.node = opts.node;
    this.problem = opts.problem;
    this.hint = opts.hint;
    this.detail = opts.detail;
  }
}

export function isClusterError(e: unknown): e is ClusterError {
  return e instanceof ClusterError;
}

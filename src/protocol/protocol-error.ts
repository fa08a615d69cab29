/**
 * A protocol failure to report to the peer as an ErrorResponse. `code` is the SQLSTATE to send;
 * 08P01 is protocol_violation.
 * https://www.postgresql.org/docs/17/errcodes-appendix.html
 */
export class ProtocolError extends Error {
  readonly code: string;

  constructor(message: string, code = "08P01", options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ProtocolError";
    this.code = code;
  }
}

export function isProtocolError(e: unknown): e is ProtocolError {
  return e instanceof ProtocolError;
}

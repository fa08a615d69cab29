// Message builders, one Buffer per message.
// https://www.postgresql.org/docs/17/protocol-message-formats.html
import { BufferWriter } from "./buffer-writer.js";
import {
  type ErrorFieldName,
  type ErrorFieldsInit,
  type ErrorFieldValues,
  errorFieldLetters,
} from "./error-fields.js";
import { AuthCode, BackendCode, FrontendCode, RequestCode } from "./message-codes.js";
import { ProtocolError } from "./protocol-error.js";

export type TransactionStatus = "I" | "T" | "E";
/** 'S' a prepared statement, 'P' a portal. */
export type TargetKind = "S" | "P";
/** 0 text, 1 binary. */
export type FormatCode = 0 | 1;

function kindByte(kind: TargetKind): number {
  if (kind !== "S" && kind !== "P") throw new ProtocolError(`kind must be 'S' or 'P', got ${kind}`);
  return kind.charCodeAt(0);
}

// ---- Frontend --------------------------------------------------------------------------------

/**
 * StartupMessage for protocol 3.0: Int32 length, Int32 196608, then name/value String pairs and
 * a terminating NUL. Strings go out as UTF-8, so pass client_encoding "UTF8" unless the server
 * encoding is UTF-8. A replication connection sets replication "true" (physical) or "database".
 */
export function startup(params: Readonly<Record<string, string>>): Buffer {
  const w = new BufferWriter().int32(RequestCode.ProtocolVersion3);
  for (const [name, value] of Object.entries(params)) {
    if (name === "") throw new ProtocolError("startup parameter name is empty");
    w.cstring(name).cstring(value);
  }
  return w.int8(0).finish();
}

/** SSLRequest: Int32 8, Int32 80877103. The server answers one byte, 'S' or 'N'. */
export function sslRequest(): Buffer {
  return new BufferWriter().int32(RequestCode.SSLRequest).finish();
}

/** GSSENCRequest: Int32 8, Int32 80877104. The server answers one byte, 'G' or 'N'. */
export function gssEncRequest(): Buffer {
  return new BufferWriter().int32(RequestCode.GSSENCRequest).finish();
}

/** CancelRequest: Int32 16, Int32 80877102, Int32 pid, Int32 secret key (from BackendKeyData). */
export function cancelRequest(pid: number, key: number): Buffer {
  return new BufferWriter().int32(RequestCode.CancelRequest).int32(pid).int32(key).finish();
}

/** Query ('Q'): the SQL as a String. */
export function query(sql: string): Buffer {
  return new BufferWriter().cstring(sql).finish(FrontendCode.Query);
}

/** Parse ('P'): statement name ("" unnamed), SQL, Int16 count and Int32 OID of each parameter. */
export function parse(name: string, sql: string, paramTypes: readonly number[] = []): Buffer {
  const w = new BufferWriter().cstring(name).cstring(sql).int16(paramTypes.length);
  for (const oid of paramTypes) w.int32(oid);
  return w.finish(FrontendCode.Parse);
}

/**
 * Bind ('B'). A string parameter is sent in text format, a Buffer in binary format, null as
 * SQL NULL (length -1). Format codes are sent in the shortest form: none when all are text, one
 * when all are binary, else one per parameter. `resultFormats` likewise: [] all text.
 */
export function bind(
  portal: string,
  statement: string,
  params: readonly (Buffer | string | null)[] = [],
  resultFormats: readonly FormatCode[] = [],
): Buffer {
  const w = new BufferWriter().cstring(portal).cstring(statement);
  const binary = params.map((p) => (p instanceof Uint8Array ? 1 : 0));
  if (binary.every((f) => f === 0)) w.int16(0);
  else if (binary.every((f) => f === 1)) w.int16(1).int16(1);
  else {
    w.int16(binary.length);
    for (const f of binary) w.int16(f);
  }
  w.int16(params.length);
  for (const p of params) {
    if (p === null) w.int32(-1);
    else {
      const bytes = typeof p === "string" ? Buffer.from(p, "utf8") : p;
      w.int32(bytes.length).bytes(bytes);
    }
  }
  w.int16(resultFormats.length);
  for (const f of resultFormats) w.int16(f);
  return w.finish(FrontendCode.Bind);
}

/** Describe ('D'): 'S' statement or 'P' portal, then its name. */
export function describe(kind: TargetKind, name: string): Buffer {
  return new BufferWriter().int8(kindByte(kind)).cstring(name).finish(FrontendCode.Describe);
}

/** Execute ('E'): portal name, Int32 row limit (0 = no limit). */
export function execute(portal: string, maxRows = 0): Buffer {
  if (maxRows < 0) throw new ProtocolError(`maxRows must not be negative, got ${maxRows}`);
  return new BufferWriter().cstring(portal).int32(maxRows).finish(FrontendCode.Execute);
}

/** Sync ('S'), no body. */
export function sync(): Buffer {
  return new BufferWriter().finish(FrontendCode.Sync);
}

/** Flush ('H'), no body. */
export function flush(): Buffer {
  return new BufferWriter().finish(FrontendCode.Flush);
}

/** Close ('C'): 'S' statement or 'P' portal, then its name. */
export function close(kind: TargetKind, name: string): Buffer {
  return new BufferWriter().int8(kindByte(kind)).cstring(name).finish(FrontendCode.Close);
}

/** CopyData ('d'): the bytes as they are. Same layout in both directions. */
export function copyData(data: Uint8Array): Buffer {
  return new BufferWriter().bytes(data).finish(FrontendCode.CopyData);
}

/** CopyDone ('c'), no body. Same layout in both directions. */
export function copyDone(): Buffer {
  return new BufferWriter().finish(FrontendCode.CopyDone);
}

/** CopyFail ('f'): the reason as a String. */
export function copyFail(message: string): Buffer {
  return new BufferWriter().cstring(message).finish(FrontendCode.CopyFail);
}

/** Terminate ('X'), no body. */
export function terminate(): Buffer {
  return new BufferWriter().finish(FrontendCode.Terminate);
}

/**
 * SASLInitialResponse ('p'): mechanism name, Int32 length of the initial response, its bytes.
 * https://www.postgresql.org/docs/17/sasl-authentication.html
 */
export function saslInitialResponse(mechanism: string, data: Uint8Array): Buffer {
  return new BufferWriter()
    .cstring(mechanism)
    .int32(data.length)
    .bytes(data)
    .finish(FrontendCode.SASLInitialResponse);
}

/** SASLResponse ('p'): the mechanism's bytes, nothing else. */
export function saslResponse(data: Uint8Array): Buffer {
  return new BufferWriter().bytes(data).finish(FrontendCode.SASLResponse);
}

/** PasswordMessage ('p'): the password (cleartext, or "md5" + hex digest) as a String. */
export function password(text: string): Buffer {
  return new BufferWriter().cstring(text).finish(FrontendCode.PasswordMessage);
}

// ---- Backend ---------------------------------------------------------------------------------

/** AuthenticationOk ('R', Int32 0). */
export function authenticationOk(): Buffer {
  return new BufferWriter().int32(AuthCode.Ok).finish(BackendCode.Authentication);
}

/** AuthenticationSASL ('R', Int32 10): mechanism names as Strings, then an empty String. */
export function authenticationSasl(mechanisms: readonly string[]): Buffer {
  const w = new BufferWriter().int32(AuthCode.SASL);
  for (const m of mechanisms) {
    if (m === "") throw new ProtocolError("SASL mechanism name is empty");
    w.cstring(m);
  }
  return w.int8(0).finish(BackendCode.Authentication);
}

/** AuthenticationSASLContinue ('R', Int32 11): the server's SASL challenge bytes. */
export function authenticationSaslContinue(data: Uint8Array): Buffer {
  return new BufferWriter()
    .int32(AuthCode.SASLContinue)
    .bytes(data)
    .finish(BackendCode.Authentication);
}

/** AuthenticationSASLFinal ('R', Int32 12): the server's SASL outcome bytes. */
export function authenticationSaslFinal(data: Uint8Array): Buffer {
  return new BufferWriter()
    .int32(AuthCode.SASLFinal)
    .bytes(data)
    .finish(BackendCode.Authentication);
}

/** ParameterStatus ('S'): name, value. */
export function parameterStatus(name: string, value: string): Buffer {
  return new BufferWriter().cstring(name).cstring(value).finish(BackendCode.ParameterStatus);
}

/** BackendKeyData ('K'): Int32 pid, Int32 secret key (protocol 3.0). */
export function backendKeyData(pid: number, key: number): Buffer {
  return new BufferWriter().int32(pid).int32(key).finish(BackendCode.BackendKeyData);
}

/** ReadyForQuery ('Z'): 'I' idle, 'T' in a transaction, 'E' in a failed transaction. */
export function readyForQuery(status: TransactionStatus): Buffer {
  if (status !== "I" && status !== "T" && status !== "E") {
    throw new ProtocolError(`transaction status must be I, T or E, got ${status}`);
  }
  return new BufferWriter().int8(status.charCodeAt(0)).finish(BackendCode.ReadyForQuery);
}

/**
 * ErrorResponse ('E'): Byte1 field type, String value, repeated; then a zero byte.
 * https://www.postgresql.org/docs/17/protocol-error-fields.html
 */
export function errorResponse(fields: ErrorFieldsInit): Buffer {
  return writeFields(fields).finish(BackendCode.ErrorResponse);
}

/** NoticeResponse ('N'): same layout as ErrorResponse. */
export function noticeResponse(fields: ErrorFieldsInit): Buffer {
  return writeFields(fields).finish(BackendCode.NoticeResponse);
}

function writeFields(fields: ErrorFieldsInit): BufferWriter {
  const w = new BufferWriter();
  const written = new Set<string>();
  for (const [name, letter] of Object.entries(errorFieldLetters)) {
    const value = fields[name as keyof ErrorFieldValues & ErrorFieldName];
    if (value === undefined) continue;
    w.int8(letter.charCodeAt(0)).cstring(value);
    written.add(letter);
  }
  for (const [letter, value] of Object.entries(fields.fields ?? {})) {
    if (written.has(letter)) continue;
    if (letter.length !== 1 || letter.charCodeAt(0) === 0 || letter.charCodeAt(0) > 0x7f) {
      throw new ProtocolError(
        `error field type must be one ASCII letter, got ${JSON.stringify(letter)}`,
      );
    }
    w.int8(letter.charCodeAt(0)).cstring(value);
  }
  return w.int8(0);
}

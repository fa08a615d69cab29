// Decoders for the messages a client or router acts on; everything else is only framed.
// Each takes the body (after the Int32 length) and throws ProtocolError when it is malformed.
// https://www.postgresql.org/docs/17/protocol-message-formats.html
import { BufferReader } from "./buffer-reader.js";
import { type ErrorFields, errorFieldLetters } from "./error-fields.js";
import { AuthCode, RequestCode } from "./message-codes.js";
import { ProtocolError } from "./protocol-error.js";
import type { FormatCode, TransactionStatus } from "./serialize.js";

const fieldNames = new Map<string, string>(
  Object.entries(errorFieldLetters).map(([name, letter]) => [letter, name]),
);

/**
 * ErrorResponse ('E') or NoticeResponse ('N'): every field, by name and by letter. S, C and M
 * are always sent, so their absence is malformed.
 * https://www.postgresql.org/docs/17/protocol-error-fields.html
 */
export function readErrorFields(body: Buffer): ErrorFields {
  const r = new BufferReader(body, "ErrorResponse");
  const entries: [string, string][] = [];
  for (let type = r.byte(); type !== 0; type = r.byte()) {
    entries.push([String.fromCharCode(type), r.cstring()]);
  }
  r.end();
  // fromEntries defines own properties, so a field letter cannot touch a prototype.
  const fields: Record<string, string> = Object.fromEntries(entries);
  const named = entries.flatMap(([letter, value]) => {
    const name = fieldNames.get(letter);
    return name === undefined ? [] : [[name, value] as const];
  });
  const out = Object.fromEntries(named) as Partial<ErrorFields>;
  if (out.severity === undefined || out.code === undefined || out.message === undefined) {
    throw r.fail("missing severity (S), code (C) or message (M)");
  }
  return { ...out, severity: out.severity, code: out.code, message: out.message, fields };
}

export type Authentication =
  | { readonly kind: "ok" }
  | { readonly kind: "cleartext" }
  | { readonly kind: "md5"; readonly salt: Buffer }
  | { readonly kind: "sasl"; readonly mechanisms: readonly string[] }
  | { readonly kind: "sasl-continue"; readonly data: Buffer }
  | { readonly kind: "sasl-final"; readonly data: Buffer }
  /** KerberosV5 (2), GSS (7), GSSContinue (8), SSPI (9) or a code PostgreSQL 17 does not send. */
  | { readonly kind: "unsupported"; readonly method: number };

/** Authentication ('R'): Int32 method, then method data. */
export function readAuthentication(body: Buffer): Authentication {
  const r = new BufferReader(body, "Authentication");
  const method = r.int32();
  switch (method) {
    case AuthCode.Ok:
      r.end();
      return { kind: "ok" };
    case AuthCode.CleartextPassword:
      r.end();
      return { kind: "cleartext" };
    case AuthCode.MD5Password: {
      const salt = r.bytes(4);
      r.end();
      return { kind: "md5", salt };
    }
    case AuthCode.SASL: {
      const mechanisms: string[] = [];
      for (let m = r.cstring(); m !== ""; m = r.cstring()) mechanisms.push(m);
      r.end();
      return { kind: "sasl", mechanisms };
    }
    case AuthCode.SASLContinue:
      return { kind: "sasl-continue", data: r.rest() };
    case AuthCode.SASLFinal:
      return { kind: "sasl-final", data: r.rest() };
    default:
      return { kind: "unsupported", method };
  }
}

/** ParameterStatus ('S'): name, value. */
export function readParameterStatus(body: Buffer): { name: string; value: string } {
  const r = new BufferReader(body, "ParameterStatus");
  const name = r.cstring();
  const value = r.cstring();
  r.end();
  return { name, value };
}

/** BackendKeyData ('K'): Int32 pid, Int32 secret key (protocol 3.0), key read unsigned. */
export function readBackendKeyData(body: Buffer): { pid: number; key: number } {
  const r = new BufferReader(body, "BackendKeyData");
  const pid = r.int32();
  const key = r.uint32();
  r.end();
  return { pid, key };
}

/** ReadyForQuery ('Z'): Byte1 transaction status. */
export function readReadyForQuery(body: Buffer): TransactionStatus {
  const r = new BufferReader(body, "ReadyForQuery");
  const status = String.fromCharCode(r.byte());
  r.end();
  if (status !== "I" && status !== "T" && status !== "E") {
    throw r.fail(`transaction status ${JSON.stringify(status)}`);
  }
  return status;
}

export interface FieldDescription {
  readonly name: string;
  /** OID of the table, 0 when the column is not a table column. */
  readonly tableOid: number;
  /** Attribute number in that table, 0 when none. */
  readonly columnNumber: number;
  readonly typeOid: number;
  /** pg_type.typlen; negative for variable width. */
  readonly typeSize: number;
  readonly typeModifier: number;
  readonly format: FormatCode;
}

function formatCode(r: BufferReader): FormatCode {
  const f = r.int16();
  if (f !== 0 && f !== 1) throw r.fail(`format code ${f}`);
  return f;
}

/** RowDescription ('T'): Int16 count, then per field name, OIDs, sizes and format. */
export function readRowDescription(body: Buffer): FieldDescription[] {
  const r = new BufferReader(body, "RowDescription");
  const count = r.uint16();
  const fields: FieldDescription[] = [];
  for (let i = 0; i < count; i++) {
    fields.push({
      name: r.cstring(),
      tableOid: r.uint32(),
      columnNumber: r.int16(),
      typeOid: r.uint32(),
      typeSize: r.int16(),
      typeModifier: r.int32(),
      format: formatCode(r),
    });
  }
  r.end();
  return fields;
}

/**
 * DataRow ('D'): Int16 count, then per column Int32 length (-1 for NULL) and bytes. Columns are
 * views of `body`, in the format RowDescription gave.
 */
export function readDataRow(body: Buffer): (Buffer | null)[] {
  const r = new BufferReader(body, "DataRow");
  const count = r.uint16();
  const columns: (Buffer | null)[] = [];
  for (let i = 0; i < count; i++) {
    const length = r.int32();
    if (length === -1) columns.push(null);
    else if (length < 0) throw r.fail(`column length ${length}`);
    else columns.push(r.bytes(length));
  }
  r.end();
  return columns;
}

/** CommandComplete ('C'): the command tag, e.g. "SELECT 1", "INSERT 0 5". */
export function readCommandComplete(body: Buffer): string {
  const r = new BufferReader(body, "CommandComplete");
  const tag = r.cstring();
  r.end();
  return tag;
}

export interface CopyResponse {
  /** 0 textual (every column format is 0), 1 binary. */
  readonly format: FormatCode;
  readonly columnFormats: FormatCode[];
}

/** CopyInResponse ('G'), CopyOutResponse ('H'), CopyBothResponse ('W'): Int8 format, Int16 count, Int16 formats. */
export function readCopyResponse(body: Buffer): CopyResponse {
  const r = new BufferReader(body, "CopyResponse");
  const format = r.byte();
  if (format !== 0 && format !== 1) throw r.fail(`overall format ${format}`);
  const count = r.uint16();
  const columnFormats: FormatCode[] = [];
  for (let i = 0; i < count; i++) columnFormats.push(formatCode(r));
  r.end();
  return { format, columnFormats };
}

export type StartupRequest =
  | {
      readonly kind: "startup";
      readonly version: { readonly major: 3; readonly minor: number };
      readonly params: Readonly<Record<string, string>>;
    }
  | { readonly kind: "ssl" }
  | { readonly kind: "gss" }
  | { readonly kind: "cancel"; readonly pid: number; readonly key: number };

/**
 * The body (after the Int32 length) of an untyped startup-phase message: StartupMessage,
 * SSLRequest, GSSENCRequest or CancelRequest. A major version other than 3 throws with 0A000
 * (feature_not_supported), as PostgreSQL answers; a minor version above 0 is returned for the
 * caller to answer with NegotiateProtocolVersion.
 * https://www.postgresql.org/docs/17/protocol-flow.html#PROTOCOL-FLOW-START-UP
 */
export function readStartup(body: Buffer): StartupRequest {
  const r = new BufferReader(body, "startup packet");
  const code = r.uint32();
  switch (code) {
    case RequestCode.SSLRequest:
      r.end();
      return { kind: "ssl" };
    case RequestCode.GSSENCRequest:
      r.end();
      return { kind: "gss" };
    case RequestCode.CancelRequest: {
      const pid = r.int32();
      const key = r.uint32();
      r.end();
      return { kind: "cancel", pid, key };
    }
  }
  const major = code >>> 16;
  const minor = code & 0xffff;
  if (major !== 3) {
    throw new ProtocolError(
      `unsupported frontend protocol ${major}.${minor}: server supports 3.0 to 3.0`,
      "0A000",
    );
  }
  const params: [string, string][] = [];
  // Name/value pairs end with an empty name, which must be the packet's last byte.
  for (let name = r.cstring(); name !== ""; name = r.cstring()) params.push([name, r.cstring()]);
  r.end();
  return { kind: "startup", version: { major, minor }, params: Object.fromEntries(params) };
}

/** Query ('Q'): the SQL. */
export function readQuery(body: Buffer): string {
  const r = new BufferReader(body, "Query");
  const sql = r.cstring();
  r.end();
  return sql;
}

/** Parse ('P'): statement name, SQL, parameter type OIDs (0 = unspecified). */
export function readParse(body: Buffer): { name: string; sql: string; paramTypes: number[] } {
  const r = new BufferReader(body, "Parse");
  const name = r.cstring();
  const sql = r.cstring();
  const count = r.uint16();
  const paramTypes: number[] = [];
  for (let i = 0; i < count; i++) paramTypes.push(r.uint32());
  r.end();
  return { name, sql, paramTypes };
}

/** SASLInitialResponse ('p'): mechanism, Int32 length (-1 for none) and initial response bytes. */
export function readSaslInitialResponse(body: Buffer): {
  mechanism: string;
  data: Buffer | null;
} {
  const r = new BufferReader(body, "SASLInitialResponse");
  const mechanism = r.cstring();
  const length = r.int32();
  if (length < -1) throw r.fail(`response length ${length}`);
  const data = length === -1 ? null : r.bytes(length);
  r.end();
  return { mechanism, data };
}

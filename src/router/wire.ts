// Small server-side messages the router builds itself, built once where they never change.
// https://www.postgresql.org/docs/17/protocol-message-formats.html
import { BackendCode, BufferWriter, serialize } from "../protocol/index.js";

export const parseComplete: Buffer = new BufferWriter().finish(BackendCode.ParseComplete);
export const closeComplete: Buffer = new BufferWriter().finish(BackendCode.CloseComplete);
export const bindComplete: Buffer = new BufferWriter().finish(BackendCode.BindComplete);
export const noData: Buffer = new BufferWriter().finish(BackendCode.NoData);
/** ParameterDescription ('t') of a statement without parameters. */
export const noParameters: Buffer = new BufferWriter()
  .int16(0)
  .finish(BackendCode.ParameterDescription);
export const readyIdle: Buffer = serialize.readyForQuery("I");
/** One-byte answers to SSLRequest and GSSENCRequest. */
export const acceptSsl: Buffer = Buffer.from("S");
export const refuseEncryption: Buffer = Buffer.from("N");

/** RowDescription ('T') of text columns (type OID 25, text format). */
export function rowDescription(columns: readonly string[]): Buffer {
  const w = new BufferWriter().int16(columns.length);
  for (const c of columns) w.cstring(c).int32(0).int16(0).int32(25).int16(-1).int32(-1).int16(0);
  return w.finish(BackendCode.RowDescription);
}

/** DataRow ('D') of text values; null is SQL NULL. */
export function dataRow(values: readonly (string | null)[]): Buffer {
  const w = new BufferWriter().int16(values.length);
  for (const v of values) {
    if (v === null) w.int32(-1);
    else {
      const bytes = Buffer.from(v, "utf8");
      w.int32(bytes.length).bytes(bytes);
    }
  }
  return w.finish(BackendCode.DataRow);
}

/** CommandComplete ('C') with its tag, e.g. "SHOW". */
export function commandComplete(tag: string): Buffer {
  return new BufferWriter().cstring(tag).finish(BackendCode.CommandComplete);
}

/**
 * NegotiateProtocolVersion ('v'): the newest minor version the router speaks (3.0) and the
 * protocol options (_pq_.*) it did not recognise.
 */
export function negotiateProtocolVersion(unrecognized: readonly string[]): Buffer {
  const w = new BufferWriter().int32(0).int32(unrecognized.length);
  for (const o of unrecognized) w.cstring(o);
  return w.finish(BackendCode.NegotiateProtocolVersion);
}

/** A SQL string literal, E'' when it holds a backslash, so it reads the same under any standard_conforming_strings. */
export function sqlLiteral(value: string): string {
  const quoted = value.replace(/'/g, "''");
  return value.includes("\\") ? `E'${quoted.replace(/\\/g, "\\\\")}'` : `'${quoted}'`;
}

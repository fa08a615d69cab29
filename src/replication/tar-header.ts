// POSIX ustar header, one 512-byte block; BASE_BACKUP sends its archives in this format.
// https://pubs.opengroup.org/onlinepubs/9799919799/utilities/pax.html#tag_20_94_13_06
// https://www.postgresql.org/docs/17/protocol-replication.html#PROTOCOL-REPLICATION-BASE-BACKUP

export const TAR_BLOCK = 512;

/** Typeflag byte (offset 156) of the entry kinds this extractor knows. */
export const TarType = {
  /** Regular file; old tars write NUL. */
  File: 0x30, // 0
  FileOld: 0x00,
  HardLink: 0x31, // 1
  Symlink: 0x32, // 2
  Directory: 0x35, // 5
  /** Contiguous file, treated as a regular file. */
  Contiguous: 0x37, // 7
  /** pax extended header for the next entry: "len key=value\n" records. */
  PaxNext: 0x78, // x
  /** pax global header. */
  PaxGlobal: 0x67, // g
  /** GNU: the data is the next entry's name. */
  GnuLongName: 0x4c, // L
  /** GNU: the data is the next entry's link target. */
  GnuLongLink: 0x4b, // K
} as const;

export interface TarHeader {
  /** Raw name bytes: prefix "/" name for ustar, else name; NUL-terminated fields trimmed. */
  readonly name: Buffer;
  readonly linkName: Buffer;
  readonly type: number;
  readonly size: number;
  readonly mode: number;
}

export class TarFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TarFormatError";
  }
}

function field(block: Uint8Array, offset: number, length: number): Buffer {
  const b = Buffer.from(block.buffer, block.byteOffset + offset, length);
  const nul = b.indexOf(0);
  return nul === -1 ? b : b.subarray(0, nul);
}

/**
 * Octal ASCII terminated by space or NUL, or (GNU, for sizes of 8 GiB and more) base-256:
 * first byte 0x80, then a big-endian number.
 */
function numeric(block: Uint8Array, offset: number, length: number, what: string): number {
  if ((block[offset]! & 0x80) !== 0) {
    if (block[offset] !== 0x80) throw new TarFormatError(`negative base-256 ${what}`);
    let value = 0;
    for (let i = offset + 1; i < offset + length; i++) value = value * 256 + block[i]!;
    if (!Number.isSafeInteger(value)) throw new TarFormatError(`${what} too large`);
    return value;
  }
  const text = Buffer.from(block.buffer, block.byteOffset + offset, length)
    .toString("latin1")
    .replace(/[\0 ]+$/, "")
    .replace(/^[ ]+/, "");
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text))
    throw new TarFormatError(`${what} ${JSON.stringify(text)} is not octal`);
  return Number.parseInt(text, 8);
}

export function isZeroBlock(block: Uint8Array): boolean {
  for (let i = 0; i < TAR_BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

/**
 * Decodes one header block (not an all-zero end block). The checksum (offset 148, 8 bytes) is
 * the sum of all header bytes with the checksum field taken as spaces; some writers summed
 * signed bytes, which is accepted too.
 */
export function readTarHeader(block: Uint8Array): TarHeader {
  if (block.length < TAR_BLOCK) throw new TarFormatError("short header block");
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < TAR_BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  const stored = numeric(block, 148, 8, "checksum");
  if (stored !== unsigned && stored !== signed) {
    throw new TarFormatError(`header checksum ${stored} does not match the computed ${unsigned}`);
  }
  const name = field(block, 0, 100);
  // magic "ustar\0" (POSIX) or "ustar " (old GNU, which has no prefix field).
  const posix = field(block, 257, 6).toString("latin1") === "ustar" && block[262] === 0;
  const prefix = posix ? field(block, 345, 155) : Buffer.alloc(0);
  return {
    name: prefix.length > 0 ? Buffer.concat([prefix, Buffer.from("/"), name]) : Buffer.from(name),
    linkName: Buffer.from(field(block, 157, 100)),
    type: block[156]!,
    size: numeric(block, 124, 12, "size"),
    mode: numeric(block, 100, 8, "mode"),
  };
}

/**
 * pax extended header records: "<length> <key>=<value>\n", length counting the whole record.
 * https://pubs.opengroup.org/onlinepubs/9799919799/utilities/pax.html#tag_20_94_13_03
 */
export function readPaxRecords(data: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let pos = 0;
  while (pos < data.length) {
    if (data[pos] === 0) break;
    const space = data.indexOf(0x20, pos);
    if (space === -1) throw new TarFormatError("malformed pax record: no length");
    const lengthText = data.toString("latin1", pos, space);
    const length = /^[1-9][0-9]*$/.test(lengthText) ? Number(lengthText) : Number.NaN;
    if (!(length > 0) || pos + length > data.length || data[pos + length - 1] !== 0x0a) {
      throw new TarFormatError(`malformed pax record length ${JSON.stringify(lengthText)}`);
    }
    const record = data.subarray(space + 1, pos + length - 1);
    const eq = record.indexOf(0x3d);
    if (eq === -1) throw new TarFormatError("malformed pax record: no '='");
    out.set(record.toString("utf8", 0, eq), Buffer.from(record.subarray(eq + 1)));
    pos += length;
  }
  return out;
}

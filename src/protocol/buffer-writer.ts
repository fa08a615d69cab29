import { ProtocolError } from "./protocol-error.js";

type Part =
  | { readonly kind: "int8" | "int16" | "int32"; readonly value: number }
  | { readonly kind: "cstring"; readonly value: string; readonly bytes: number }
  | { readonly kind: "bytes"; readonly value: Uint8Array };

const INT32_MAX = 0x7fffffff;

function checkInt(value: number, min: number, max: number, what: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ProtocolError(`${value} does not fit in ${what}`);
  }
}

/**
 * Collects a message's fields, then allocates it once at its final size and writes the Int32
 * length last. Integers are big-endian (network byte order); strings are UTF-8.
 * https://www.postgresql.org/docs/17/protocol-message-types.html
 */
export class BufferWriter {
  private readonly parts: Part[] = [];
  private size = 0;

  /** Byte1; values -128..255. */
  int8(value: number): this {
    checkInt(value, -0x80, 0xff, "Byte1");
    this.parts.push({ kind: "int8", value: value & 0xff });
    this.size += 1;
    return this;
  }

  /** Int16; signed or unsigned values (-32768..65535), since counts are read unsigned. */
  int16(value: number): this {
    checkInt(value, -0x8000, 0xffff, "Int16");
    this.parts.push({ kind: "int16", value: value & 0xffff });
    this.size += 2;
    return this;
  }

  /** Int32; signed or unsigned values (-2^31..2^32-1), since OIDs are unsigned. */
  int32(value: number): this {
    checkInt(value, -0x80000000, 0xffffffff, "Int32");
    this.parts.push({ kind: "int32", value: value >>> 0 });
    this.size += 4;
    return this;
  }

  /** String: UTF-8 then a NUL terminator, so the text itself cannot contain NUL. */
  cstring(value: string): this {
    if (value.includes("\0")) {
      throw new ProtocolError(`string contains a NUL byte: ${JSON.stringify(value.slice(0, 40))}`);
    }
    const bytes = Buffer.byteLength(value, "utf8");
    this.parts.push({ kind: "cstring", value, bytes });
    this.size += bytes + 1;
    return this;
  }

  bytes(value: Uint8Array): this {
    this.parts.push({ kind: "bytes", value });
    this.size += value.length;
    return this;
  }

  /**
   * The message: the type byte (none for untyped startup-phase messages), the Int32 length
   * counting itself and the fields, then the fields.
   */
  finish(code?: number): Buffer {
    const head = code === undefined ? 0 : 1;
    if (this.size > INT32_MAX - 4) {
      throw new ProtocolError(`message of ${this.size} bytes is too long for its Int32 length`);
    }
    const buf = Buffer.allocUnsafe(head + 4 + this.size);
    if (code !== undefined) buf[0] = code;
    let pos = head + 4;
    for (const part of this.parts) {
      switch (part.kind) {
        case "int8":
          buf[pos] = part.value;
          pos += 1;
          break;
        case "int16":
          pos = buf.writeUInt16BE(part.value, pos);
          break;
        case "int32":
          pos = buf.writeUInt32BE(part.value, pos);
          break;
        case "cstring":
          pos += buf.write(part.value, pos, part.bytes, "utf8");
          buf[pos++] = 0;
          break;
        case "bytes":
          buf.set(part.value, pos);
          pos += part.value.length;
          break;
      }
    }
    buf.writeInt32BE(4 + this.size, head);
    return buf;
  }
}

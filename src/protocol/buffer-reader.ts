import { ProtocolError } from "./protocol-error.js";

/**
 * Reads a message body field by field. Every read checks bounds and throws ProtocolError, so a
 * malformed message never surfaces as a RangeError from Buffer.
 * https://www.postgresql.org/docs/17/protocol-message-types.html
 */
export class BufferReader {
  private pos = 0;

  constructor(
    private readonly buf: Buffer,
    /** Message name for error text, e.g. "RowDescription". */
    private readonly what: string,
  ) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  fail(problem: string): ProtocolError {
    return new ProtocolError(`malformed ${this.what}: ${problem}`);
  }

  private need(n: number): number {
    if (this.buf.length - this.pos < n) {
      throw this.fail(`needs ${n} more bytes at offset ${this.pos}, has ${this.remaining}`);
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  byte(): number {
    return this.buf[this.need(1)]!;
  }

  int16(): number {
    return this.buf.readInt16BE(this.need(2));
  }

  uint16(): number {
    return this.buf.readUInt16BE(this.need(2));
  }

  int32(): number {
    return this.buf.readInt32BE(this.need(4));
  }

  uint32(): number {
    return this.buf.readUInt32BE(this.need(4));
  }

  /** String: UTF-8 up to a NUL terminator. */
  cstring(): string {
    const nul = this.buf.indexOf(0, this.pos);
    if (nul === -1) throw this.fail(`unterminated string at offset ${this.pos}`);
    const s = this.buf.toString("utf8", this.pos, nul);
    this.pos = nul + 1;
    return s;
  }

  /** A view of the next n bytes. */
  bytes(n: number): Buffer {
    const at = this.need(n);
    return this.buf.subarray(at, at + n);
  }

  /** A view of everything left. */
  rest(): Buffer {
    return this.bytes(this.remaining);
  }

  /** Throws when bytes are left over. */
  end(): void {
    if (this.pos !== this.buf.length) {
      throw this.fail(`${this.remaining} unexpected bytes at offset ${this.pos}`);
    }
  }
}

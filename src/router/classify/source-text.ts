// The parser reports positions as byte offsets into the UTF-8 text (libpg_query's stmt_location,
// stmt_len and node locations); JavaScript strings index UTF-16 code units. SourceText converts,
// and skips the conversion for ASCII text, where both agree.

// any UTF-16 code unit above 0x7f, surrogates included
const nonAscii = /[\u0080-\uffff]/;

/** A statement string addressed by UTF-8 byte offsets. */
export class SourceText {
  readonly byteLength: number;
  private readonly utf8: Buffer | undefined;

  constructor(readonly text: string) {
    this.utf8 = nonAscii.test(text) ? Buffer.from(text, "utf8") : undefined;
    this.byteLength = this.utf8 === undefined ? text.length : this.utf8.length;
  }

  /** The text between two byte offsets. */
  slice(start: number, end: number): string {
    return this.utf8 === undefined
      ? this.text.slice(start, end)
      : this.utf8.toString("utf8", start, end);
  }

  /** The string index (UTF-16) of a byte offset. */
  index(byte: number): number {
    return this.utf8 === undefined ? byte : this.utf8.toString("utf8", 0, byte).length;
  }
}

import { ProtocolError } from "./protocol-error.js";

/**
 * Receives one message. `code` is the type byte, or 0 for an untyped startup-phase message;
 * `body` follows the Int32 length; `frame` is the whole message as received. Both are views of
 * the parser's input or of a buffer the parser never writes to again, so they may be kept.
 */
export type OnMessage = (code: number, body: Buffer, frame: Buffer) => void;

/**
 * Receives one message as positions in `buffer`: the frame is [frameStart, end), the body
 * [bodyStart, end). No view is made. `buffer` is the parser's input or a buffer the parser never
 * writes to again; the caller decides how long the input stays valid.
 */
export type OnSpan = (
  code: number,
  buffer: Buffer,
  frameStart: number,
  bodyStart: number,
  end: number,
) => void;

export interface FrameParserOptions {
  /**
   * Largest accepted Int32 length of a typed message (the length counts itself, not the type
   * byte). Default 1 GiB, the most a backend message can hold (MaxAllocSize); a router reading
   * clients should pass much less.
   */
  readonly maxLength?: number;
  /**
   * Parse the first message as an untyped startup-phase message (Int32 length, no type byte):
   * StartupMessage, SSLRequest, GSSENCRequest or CancelRequest. For the server side.
   */
  readonly startup?: boolean;
}

// Typed message: Byte1 type, Int32 length counting itself.
// https://www.postgresql.org/docs/17/protocol-overview.html#PROTOCOL-MESSAGE-CONCEPTS
const TYPED_HEADER = 5;
// Startup-phase message: Int32 length counting itself, no type byte.
// https://www.postgresql.org/docs/17/protocol-flow.html#PROTOCOL-FLOW-START-UP
const UNTYPED_HEADER = 4;
// PostgreSQL rejects a startup packet whose payload after the length is shorter than the Int32
// version/request code or longer than MAX_STARTUP_PACKET_LENGTH (10000, libpq/pqcomm.h).
const MIN_STARTUP_LENGTH = 4 + 4;
const MAX_STARTUP_LENGTH = 4 + 10_000;
const DEFAULT_MAX_LENGTH = 1024 * 1024 * 1024;
// Smallest buffer allocated for a message that straddles chunks; later straddling messages fill
// its unused tail, so one allocation serves many of them.
const ARENA_SIZE = 16 * 1024;
const EMPTY = Buffer.alloc(0);

function letter(code: number): string {
  return code >= 0x20 && code < 0x7f ? `'${String.fromCharCode(code)}'` : `0x${code.toString(16)}`;
}

/**
 * Splits a byte stream into protocol messages without decoding them. A message wholly inside a
 * chunk is delivered as views of that chunk; only a message that straddles chunks is copied, into
 * an arena that grows with the bytes actually received (never with the declared length) and is
 * never overwritten once delivered. After a ProtocolError, or an exception from `onMessage`, the
 * stream position is lost and every later `parse` call throws.
 */
export class FrameParser {
  private readonly maxLength: number;
  private untypedNext: boolean;
  // The straddling message received so far is arena[start, end); start === end when none.
  private arena: Buffer = EMPTY;
  private start = 0;
  private end = 0;
  // Header size of the straddling message (5 typed, 4 untyped), 0 when none.
  private pendingHeader = 0;
  // Its total size once its header is complete, else 0.
  private pendingSize = 0;
  // Bytes of the current chunk after the message being delivered.
  private unparsed = 0;
  private failure: ProtocolError | undefined;
  // The receiver of the current parse() or parseSpans() call.
  private onMessage: OnMessage | undefined;
  private onSpan: OnSpan | undefined;

  constructor(options: FrameParserOptions = {}) {
    const max = options.maxLength ?? DEFAULT_MAX_LENGTH;
    if (!Number.isInteger(max) || max < 4 || max > 0x7fffffff) {
      throw new RangeError(`maxLength must be an integer from 4 to 2^31-1, got ${max}`);
    }
    this.maxLength = max;
    this.untypedNext = options.startup === true;
  }

  /**
   * Bytes received and not yet delivered. Inside `onMessage` this includes the rest of the
   * current chunk: a server checks it after an SSLRequest or GSSENCRequest, because a client
   * must not send anything more before the one-byte answer (CVE-2021-23214).
   * https://www.postgresql.org/docs/17/protocol-flow.html#PROTOCOL-FLOW-SSL
   */
  get buffered(): number {
    return this.end - this.start + this.unparsed;
  }

  /**
   * The next message is untyped again: after an SSLRequest or GSSENCRequest answered 'N' the
   * client sends a new startup-phase message. Call it from `onMessage` or between chunks.
   * https://www.postgresql.org/docs/17/protocol-flow.html#PROTOCOL-FLOW-SSL
   */
  expectStartup(): void {
    if (this.pendingHeader !== 0) {
      throw new ProtocolError("client sent data before the answer to its SSL or GSS request");
    }
    this.untypedNext = true;
  }

  parse(chunk: Buffer, onMessage: OnMessage): void {
    this.onMessage = onMessage;
    this.onSpan = undefined;
    this.consume(chunk, chunk.length);
  }

  /**
   * As parse(), for chunk[0, size), delivering positions instead of views: a caller that
   * forwards most messages untouched makes no object per message.
   */
  parseSpans(chunk: Buffer, onSpan: OnSpan, size = chunk.length): void {
    this.onMessage = undefined;
    this.onSpan = onSpan;
    this.consume(chunk, size);
  }

  private consume(chunk: Buffer, size: number): void {
    if (this.failure) throw this.failure;
    try {
      this.run(chunk, size);
    } catch (e) {
      this.failure =
        e instanceof ProtocolError
          ? e
          : new ProtocolError("stream abandoned: a message handler threw", "08P01", { cause: e });
      throw e;
    } finally {
      this.unparsed = 0;
      this.onMessage = undefined;
      this.onSpan = undefined;
    }
  }

  private deliver(code: number, buffer: Buffer, start: number, header: number, end: number): void {
    const onSpan = this.onSpan;
    if (onSpan !== undefined) onSpan(code, buffer, start, start + header, end);
    else {
      const frame = buffer.subarray(start, end);
      this.onMessage!(code, frame.subarray(header), frame);
    }
  }

  private run(chunk: Buffer, size: number): void {
    let pos = 0;
    if (this.pendingHeader !== 0) {
      pos = this.fill(chunk, 0, size);
      if (this.pendingHeader !== 0) return;
    }
    while (pos < size) {
      const header = this.untypedNext ? UNTYPED_HEADER : TYPED_HEADER;
      if (size - pos < header) break;
      const code = header === TYPED_HEADER ? chunk[pos]! : 0;
      const frameSize = this.frameSize(code, chunk.readInt32BE(pos + header - 4), header);
      if (size - pos < frameSize) {
        this.pendingSize = frameSize;
        break;
      }
      const start = pos;
      pos += frameSize;
      this.untypedNext = false;
      this.unparsed = size - pos;
      this.deliver(code, chunk, start, header, pos);
    }
    if (pos < size) {
      this.pendingHeader = this.untypedNext ? UNTYPED_HEADER : TYPED_HEADER;
      this.fill(chunk, pos, size);
    }
  }

  /** Appends chunk[pos, size) to the straddling message, delivers it when complete; returns the new pos. */
  private fill(chunk: Buffer, pos: number, size: number): number {
    const header = this.pendingHeader;
    if (this.pendingSize === 0) {
      const take = Math.min(header - (this.end - this.start), size - pos);
      this.append(chunk, pos, pos + take);
      pos += take;
      if (this.end - this.start < header) return pos;
      const code = header === TYPED_HEADER ? this.arena[this.start]! : 0;
      const length = this.arena.readInt32BE(this.start + header - 4);
      this.pendingSize = this.frameSize(code, length, header);
    }
    const take = Math.min(this.pendingSize - (this.end - this.start), size - pos);
    this.append(chunk, pos, pos + take);
    pos += take;
    if (this.end - this.start < this.pendingSize) return pos;
    const arena = this.arena;
    const start = this.start;
    this.start = this.end;
    this.pendingHeader = 0;
    this.pendingSize = 0;
    this.untypedNext = false;
    this.unparsed = size - pos;
    this.deliver(header === TYPED_HEADER ? arena[start]! : 0, arena, start, header, this.end);
    return pos;
  }

  private append(src: Buffer, from: number, to: number): void {
    const n = to - from;
    if (n === 0) return;
    const held = this.end - this.start;
    const need = held + n;
    if (this.start + need > this.arena.length) {
      // Doubling what is held keeps copying linear in the message size, and sizing by bytes
      // received (at most 4x) means a bogus length costs nothing. Once the declared size is
      // within reach it is allocated exactly.
      const total = this.pendingSize;
      const size = total > 0 && total <= 4 * need ? total : Math.max(need, 2 * held);
      const next = Buffer.allocUnsafe(Math.max(size, need, ARENA_SIZE));
      this.arena.copy(next, 0, this.start, this.end);
      this.arena = next;
      this.start = 0;
      this.end = held;
    }
    src.copy(this.arena, this.end, from, to);
    this.end += n;
  }

  private frameSize(code: number, length: number, header: number): number {
    if (header === UNTYPED_HEADER) {
      if (length < MIN_STARTUP_LENGTH || length > MAX_STARTUP_LENGTH) {
        throw new ProtocolError(`invalid length of startup packet: ${length}`);
      }
      return length;
    }
    if (length < 4 || length > this.maxLength) {
      // Too large is program_limit_exceeded (54000), so a peer can tell a bound it hit from a
      // garbled stream (08P01).
      throw new ProtocolError(
        `invalid length ${length} of message type ${letter(code)} (allowed 4 to ${this.maxLength})`,
        length > this.maxLength ? "54000" : "08P01",
      );
    }
    return length + 1;
  }
}

import type { Socket } from "node:net";

/**
 * Bytes waiting to be written to one socket, sent in one write per event-loop turn of the
 * reader. Frames that sit back to back in the same received chunk are merged into one view, so
 * forwarding a whole chunk of messages costs one write of one slice and no copy.
 */
export class Outbox {
  private readonly parts: Buffer[] = [];
  // The current contiguous run: [runStart, runEnd) of runBuffer.
  private runBuffer: ArrayBufferLike | undefined = undefined;
  private runStart = 0;
  private runEnd = 0;
  // The buffer given to push() when the run is exactly that buffer: written as it is, no view.
  private runWhole: Buffer | undefined = undefined;
  private bytes = 0;
  // The last buffer given to pushSpan and where it lies in its ArrayBuffer: a server connection
  // passes the same read buffer every time, so `.buffer` (a runtime call) is read once.
  private spanSource: Buffer | undefined = undefined;
  private spanBuffer: ArrayBufferLike | undefined = undefined;
  private spanOffset = 0;

  constructor(private readonly socket: Socket) {}

  get pending(): number {
    return this.bytes;
  }

  /**
   * Whether bytes pushed here may still be read later: queued in the outbox, or handed to the
   * socket and not yet written (a partial write keeps the buffer until it completes).
   */
  holdsBytes(): boolean {
    return this.bytes > 0 || this.socket.writableLength > 0;
  }

  push(b: Buffer): void {
    this.bytes += b.length;
    if (b.buffer === this.runBuffer && b.byteOffset === this.runEnd) {
      this.runEnd += b.length;
      this.runWhole = undefined;
      return;
    }
    this.closeRun();
    this.runBuffer = b.buffer;
    this.runStart = b.byteOffset;
    this.runEnd = b.byteOffset + b.length;
    this.runWhole = b;
  }

  /** Pushes source[start, end) without making a view of it. */
  pushSpan(source: Buffer, start: number, end: number): void {
    if (source !== this.spanSource) {
      this.spanSource = source;
      this.spanBuffer = source.buffer;
      this.spanOffset = source.byteOffset;
    }
    const from = this.spanOffset + start;
    this.bytes += end - start;
    if (this.spanBuffer === this.runBuffer && from === this.runEnd) {
      this.runEnd += end - start;
      this.runWhole = undefined;
      return;
    }
    this.closeRun();
    this.runBuffer = this.spanBuffer;
    this.runStart = from;
    this.runEnd = this.spanOffset + end;
  }

  /**
   * Writes what is pending; returns false when the socket's buffer is full (the caller pauses
   * its reader until 'drain'). Several pieces go out corked, as one writev.
   */
  flush(): boolean {
    this.closeRun();
    const parts = this.parts;
    const n = parts.length;
    if (n === 0) return true;
    this.bytes = 0;
    const socket = this.socket;
    if (socket.destroyed || !socket.writable) {
      parts.length = 0;
      return true;
    }
    let ok: boolean;
    if (n === 1) ok = socket.write(parts[0]!);
    else {
      socket.cork();
      for (let i = 0; i < n - 1; i++) socket.write(parts[i]!);
      ok = socket.write(parts[n - 1]!);
      socket.uncork();
    }
    parts.length = 0;
    return ok;
  }

  /** Drops what is pending (the peer is gone). */
  clear(): void {
    this.parts.length = 0;
    this.runBuffer = undefined;
    this.runWhole = undefined;
    this.spanSource = undefined;
    this.spanBuffer = undefined;
    this.bytes = 0;
  }

  private closeRun(): void {
    const buffer = this.runBuffer;
    if (buffer === undefined) return;
    this.parts.push(
      this.runWhole ?? Buffer.from(buffer, this.runStart, this.runEnd - this.runStart),
    );
    this.runBuffer = undefined;
    this.runWhole = undefined;
  }
}

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
  private bytes = 0;

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
      return;
    }
    this.closeRun();
    this.runBuffer = b.buffer;
    this.runStart = b.byteOffset;
    this.runEnd = b.byteOffset + b.length;
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
    this.bytes = 0;
  }

  private closeRun(): void {
    const buffer = this.runBuffer;
    if (buffer === undefined) return;
    this.parts.push(Buffer.from(buffer, this.runStart, this.runEnd - this.runStart));
    this.runBuffer = undefined;
  }
}

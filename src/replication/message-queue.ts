import type { Socket } from "node:net";
import { FrameParser } from "../protocol/index.js";

export interface BackendMessage {
  readonly code: number;
  /** After the Int32 length; a view the parser never overwrites. */
  readonly body: Buffer;
}

// Reading from the socket pauses while this many message bytes wait to be consumed, and resumes
// below the low mark, so a slow consumer (disk) throttles the server through TCP flow control.
const HIGH_WATER = 4 * 1024 * 1024;
const LOW_WATER = 1024 * 1024;

/**
 * The backend messages of one socket, taken one at a time with next(). When the socket ends or
 * errs, the messages already received are still delivered first, then next() rejects with
 * `closed(cause)`; destroy() rejects at once.
 */
export class MessageQueue {
  private readonly parser = new FrameParser();
  private queue: BackendMessage[] = [];
  private head = 0;
  private queuedBytes = 0;
  private paused = false;
  private waiter:
    | { resolve: (m: BackendMessage) => void; reject: (e: unknown) => void }
    | undefined;
  private ended: unknown;
  private hasEnded = false;
  private destroyed: { reason: unknown } | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly closed: (cause: Error | undefined) => Error,
  ) {
    socket.on("data", (chunk: Buffer) => {
      try {
        this.parser.parse(chunk, (code, body) => this.push({ code, body }));
      } catch (e) {
        this.end(e);
        socket.destroy();
        return;
      }
      if (this.queuedBytes > HIGH_WATER && !this.paused) {
        this.paused = true;
        socket.pause();
      }
    });
    socket.on("error", (e) => this.end(this.closed(e)));
    socket.on("close", () => this.end(this.closed(undefined)));
  }

  next(): Promise<BackendMessage> {
    if (this.destroyed) return Promise.reject(this.destroyed.reason);
    if (this.head < this.queue.length) {
      const m = this.queue[this.head++]!;
      this.queuedBytes -= m.body.length;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      if (this.paused && this.queuedBytes < LOW_WATER) {
        this.paused = false;
        this.socket.resume();
      }
      return Promise.resolve(m);
    }
    if (this.hasEnded) return Promise.reject(this.ended);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** Drops what is queued; next() rejects with `reason` from now on. */
  destroy(reason: unknown): void {
    if (this.destroyed) return;
    this.destroyed = { reason };
    this.queue = [];
    this.head = 0;
    this.queuedBytes = 0;
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(reason);
  }

  private push(m: BackendMessage): void {
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w.resolve(m);
      return;
    }
    this.queue.push(m);
    this.queuedBytes += m.body.length;
  }

  private end(e: unknown): void {
    if (this.hasEnded) return;
    this.hasEnded = true;
    this.ended = e;
    if (this.head < this.queue.length) return;
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(e);
  }
}

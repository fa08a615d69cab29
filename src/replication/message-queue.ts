import type { OnReadOpts, Socket } from "node:net";
import { FrameParser } from "../protocol/index.js";

export interface BackendMessage {
  readonly code: number;
  /**
   * After the Int32 length. Valid until the next call to next(): the queue then reuses the
   * memory it was read into. Copy what must be kept.
   */
  readonly body: Buffer;
}

interface Queued extends BackendMessage {
  /** The read buffer `body` is a view of; unset when the parser copied a straddling message. */
  readonly region: Region | undefined;
}

interface Region {
  readonly bytes: Buffer;
  /** Messages in it not consumed yet, plus one while a read may go into it. */
  refs: number;
}

// Reading from the socket pauses while this many message bytes wait to be consumed, and resumes
// below the low mark, so a slow consumer (disk) throttles the server through TCP flow control.
const HIGH_WATER = 4 * 1024 * 1024;
const LOW_WATER = 1024 * 1024;
// The socket reads into buffers of this size that are reused once every message in them was
// consumed (net.connect's onread), instead of a new 64 kB buffer per read. During a base backup
// (32 kB CopyData messages) that spared ~16k buffer allocations per GiB, their GC, and the copy
// of the message straddling each read into a new buffer (one in 8 messages now, every other one
// before); a read takes up to 256 kB when the server is ahead.
const READ_SIZE = 256 * 1024;

function release(region: Region | undefined): void {
  if (region) region.refs--;
}

/**
 * The backend messages of one socket, taken one at a time with next(). Create the socket with
 * `onread: queue.onread`, then attach() it. When the socket ends or errs, the messages already
 * received are still delivered first, then next() rejects with `closed(cause)`; destroy()
 * rejects at once.
 */
export class MessageQueue {
  /** For net.connect: reads go into the queue's reusable buffers. */
  readonly onread: OnReadOpts = {
    buffer: () => this.readBuffer(),
    callback: (n, buf) => this.received(n, buf as Buffer),
  };
  private readonly parser = new FrameParser();
  private socket: Socket | undefined;
  private queue: Queued[] = [];
  private head = 0;
  private queuedBytes = 0;
  private paused = false;
  private waiter: { resolve: (m: Queued) => void; reject: (e: unknown) => void } | undefined;
  private ended: unknown;
  private hasEnded = false;
  private destroyed: { reason: unknown } | undefined;
  private readonly regions: Region[] = [];
  private reading: Region | undefined;
  /** The message next() returned last, consumed at the next call. */
  private current: Queued | undefined;

  constructor(private readonly closed: (cause: Error | undefined) => Error) {}

  attach(socket: Socket): void {
    this.socket = socket;
    socket.on("error", (e) => this.end(this.closed(e)));
    socket.on("close", () => this.end(this.closed(undefined)));
  }

  next(): Promise<BackendMessage> {
    if (this.destroyed) return Promise.reject(this.destroyed.reason);
    release(this.current?.region);
    this.current = undefined;
    if (this.head < this.queue.length) {
      const m = this.queue[this.head++]!;
      this.current = m;
      this.queuedBytes -= m.body.length;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      if (this.paused && this.queuedBytes < LOW_WATER) {
        this.paused = false;
        this.socket?.resume();
      }
      return Promise.resolve(m);
    }
    if (this.hasEnded) return Promise.reject(this.ended);
    return new Promise((resolve, reject) => {
      this.waiter = {
        resolve: (m) => {
          this.current = m;
          resolve(m);
        },
        reject,
      };
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

  /** The buffer for the next read: a free region, or a new one. */
  private readBuffer(): Buffer {
    let region = this.regions.find((r) => r.refs === 0);
    if (!region) {
      region = { bytes: Buffer.allocUnsafeSlow(READ_SIZE), refs: 0 };
      this.regions.push(region);
    }
    region.refs++;
    this.reading = region;
    return region.bytes;
  }

  /** `n` bytes were read into `buf`; returns false to stop reading. */
  private received(n: number, buf: Buffer): boolean {
    const region = this.reading?.bytes === buf ? this.reading : undefined;
    try {
      this.parser.parse(buf.subarray(0, n), (code, body) => {
        const inRegion = region && body.buffer === buf.buffer ? region : undefined;
        if (inRegion) inRegion.refs++;
        this.push({ code, body, region: inRegion });
      });
    } catch (e) {
      this.end(e);
      this.socket?.destroy();
      return false;
    } finally {
      // The parser copied what straddles the end of the read; the next read goes elsewhere.
      release(region);
      this.reading = undefined;
    }
    if (this.queuedBytes > HIGH_WATER && !this.paused) {
      this.paused = true;
      return false;
    }
    return true;
  }

  private push(m: Queued): void {
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

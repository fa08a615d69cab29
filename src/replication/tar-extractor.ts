import { chmod, chown, type FileHandle, lstat, mkdir, open } from "node:fs/promises";
import { join } from "node:path";
import { BackgroundCrc32c } from "./background-crc32c.js";
import {
  isZeroBlock,
  readPaxRecords,
  readTarHeader,
  TAR_BLOCK,
  TarFormatError,
  type TarHeader,
  TarType,
} from "./tar-header.js";
import { syncDirectory } from "./write-file-durable.js";

export interface ExtractedFile {
  readonly size: number;
  /** CRC-32C of the content, computed while it was written; final once finish() resolved. */
  readonly crc32c: number;
}

export interface TarExtractorOptions {
  /** An existing, empty directory to extract into. */
  readonly root: string;
  /** chown every file and directory created to this user. */
  readonly owner?: { readonly uid: number; readonly gid: number } | undefined;
  /** fsync every file and directory before finish() resolves (default true). */
  readonly sync?: boolean | undefined;
  /** Size of each slot of the receive buffer, at least 64; default 1 MiB (tests use small ones). */
  readonly slotBytes?: number | undefined;
  /** Number of slots of the receive buffer, at least 4; default 8. */
  readonly slots?: number | undefined;
}

// Extended headers (pax 'x', GNU 'L'/'K') hold a name or a few attributes, never much.
const MAX_META = 1024 * 1024;
// Background file work (small files written whole; fsync and close of large ones) in flight.
const MAX_PENDING_CLOSE = 8;
// File data is written in batches of this size, several in flight while the next ones arrive.
// One awaited 32 kB write per CopyData message gave 780 MB/s on ext4 here. 1 MiB writes reach
// 5 GB/s into warm page cache but cost 4x the kernel time of 256 kB writes when the page cache
// must grow (a 1 GiB backup: 4.26 s at 1 MiB, 2.88 s at 256 kB, fsync on).
const WRITE_BATCH = 256 * 1024;
// File data is copied out of the incoming chunks into a ring of slots in a SharedArrayBuffer,
// written from there, and checksummed there by a worker thread (BackgroundCrc32c). Keeping
// views of the socket's chunks until they were written made them survive young-generation GC
// (~0.4 s of GC per GiB), and MessageQueue now reuses its read buffers; the aligned copy costs
// ~0.05 s/GiB. A slot is reused once its data is written and checksummed, so memory stays at
// slots × slotBytes.
const SLOT_BYTES = 1024 * 1024;
const SLOTS = 8;
// Most files of a data directory are small (972 of 974 in a 1 GiB backup); creating a file
// costs ~1 ms here, so files up to this size are created, written and synced in the background,
// several at a time, while the stream goes on.
const SMALL_FILE = 128 * 1024;

type Mode = "header" | "data" | "padding" | "end";

/** A part of the receive buffer; `refs` counts the pending writes and checksums of its data. */
interface Slot {
  /** Offset in the shared buffer. */
  readonly start: number;
  readonly bytes: Buffer;
  fill: number;
  refs: number;
  /** Full (or the archive ended): no more data goes in. */
  sealed: boolean;
  /** Checksum work for its data: triples (file id, offset in the shared buffer, length). */
  spans: number[];
}

/** Data of a file in a slot, not yet written. */
interface Span {
  readonly slot: Slot;
  readonly start: number;
  length: number;
}

interface FileRecord {
  size: number;
  crc32c: number;
}

interface OpenFile {
  readonly path: string;
  readonly id: number;
  /** Unset for a small file: its data is kept and written in the background at its end. */
  fh: FileHandle | undefined;
  readonly size: number;
  /** Received, not yet handed to the kernel. */
  pending: Span[];
  pendingBytes: number;
  /** File offset of the first pending byte. */
  position: number;
  /** Writes in flight; they never reject (failures go to fail()). */
  readonly writes: Set<Promise<void>>;
}

interface Meta {
  readonly type: number;
  readonly data: Buffer;
  fill: number;
}

function padding(size: number): number {
  return (TAR_BLOCK - (size % TAR_BLOCK)) % TAR_BLOCK;
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash === -1 ? "" : path.slice(0, slash);
}

function typeName(type: number): string {
  return type >= 0x20 && type < 0x7f ? `'${String.fromCharCode(type)}'` : `0x${type.toString(16)}`;
}

/**
 * A relative path inside the extraction root: no absolute paths, no "." or ".." components, no
 * empty components. A leading "./" (PostgreSQL writes "./pg_wal/archive_status/") and a
 * trailing "/" (directories, and PostgreSQL's symlinks) are dropped.
 */
function safePath(raw: Buffer): string {
  const text = raw
    .toString("utf8")
    .replace(/^(?:\.\/+)+/, "")
    .replace(/\/+$/, "");
  const parts = text.split("/");
  if (
    text === "" ||
    text.startsWith("/") ||
    parts.some((p) => p === "" || p === "." || p === "..")
  ) {
    throw new TarFormatError(`unsafe entry name ${JSON.stringify(raw.toString("utf8"))}`);
  }
  return text;
}

/**
 * Writes a tar stream into a directory as it arrives, in chunks cut anywhere. Regular files get
 * mode 0600 and directories 0700 whatever the archive says (PostgreSQL's data directory
 * permissions); symbolic links, hard links and special files are refused. Each file's size and
 * CRC-32C are recorded in `files` for verification against the backup manifest. File data is
 * copied into a receive buffer of slots × slotBytes (8 MiB), written from there in batches with
 * several in flight, and checksummed there on a worker thread; write() waits while the buffer is
 * full. write() keeps no reference to its chunk.
 */
export class TarExtractor {
  /** Regular files extracted, by relative path. */
  readonly files = new Map<string, ExtractedFile>();
  /** Directories created, by relative path. */
  readonly directories = new Set<string>();
  /** Archive bytes consumed. */
  bytes = 0;
  /** Whether the end-of-archive marker (an all-zero block) was seen. */
  ended = false;

  private readonly root: string;
  private readonly owner: TarExtractorOptions["owner"];
  private readonly sync: boolean;
  private mode: Mode = "header";
  private readonly header = Buffer.alloc(TAR_BLOCK);
  private headerFill = 0;
  /** Data bytes left in the current entry, and the padding after them. */
  private remaining = 0;
  private pad = 0;
  private file: OpenFile | undefined;
  private meta: Meta | undefined;
  /** Set by pax or GNU extended headers for the next entry. */
  private nextName: Buffer | undefined;
  private nextSize: number | undefined;
  private readonly closing: Promise<void>[] = [];
  private failure: unknown;
  private failed = false;
  /** Every regular file by id (the order of the archive), for the checksums. */
  private readonly records: FileRecord[] = [];
  private readonly shared: SharedArrayBuffer;
  private readonly crc: BackgroundCrc32c;
  private readonly checksums = new Set<Promise<void>>();
  private readonly free: Slot[] = [];
  private slot: Slot | undefined;
  /** Woken when a slot is freed or the extraction fails. */
  private wake: (() => void) | undefined;

  constructor(options: TarExtractorOptions) {
    this.root = options.root;
    this.owner = options.owner;
    this.sync = options.sync ?? true;
    const slotBytes = options.slotBytes ?? SLOT_BYTES;
    const slots = options.slots ?? SLOTS;
    if (!Number.isInteger(slotBytes) || slotBytes < 64 || !Number.isInteger(slots) || slots < 4) {
      throw new RangeError(
        `slotBytes ${slotBytes} and slots ${slots}: need integers >= 64 and >= 4`,
      );
    }
    this.shared = new SharedArrayBuffer(slotBytes * slots);
    for (let i = 0; i < slots; i++) {
      const start = i * slotBytes;
      const bytes = Buffer.from(this.shared, start, slotBytes);
      this.free.push({ start, bytes, fill: 0, refs: 0, sealed: false, spans: [] });
    }
    this.crc = new BackgroundCrc32c(this.shared);
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.failed) throw this.failure;
    try {
      await this.consume(chunk);
    } catch (e) {
      this.fail(e);
      throw e;
    }
    if (this.failed) throw this.failure;
  }

  /** Checks the archive is complete and waits until every file is closed (and synced). */
  async finish(): Promise<void> {
    if (this.failed) throw this.failure;
    try {
      if (this.mode === "data" || this.mode === "padding" || this.headerFill !== 0) {
        const what = this.file ? `inside ${this.file.path}` : "inside an entry";
        throw new TarFormatError(`archive truncated ${what} after ${this.bytes} bytes`);
      }
      if (this.nextName !== undefined || this.nextSize !== undefined) {
        throw new TarFormatError("archive ends after an extended header");
      }
      await Promise.all(this.closing.splice(0));
      if (this.failed) throw this.failure;
      const last = this.slot;
      if (last) {
        this.slot = undefined;
        last.sealed = true;
        this.checksum(last, true);
      }
      await Promise.all(this.checksums);
      if (this.failed) throw this.failure;
      this.crc.close();
      if (this.sync) {
        const dirs = [...this.directories].map((d) => join(this.root, d));
        for (const dir of [...dirs, this.root]) await syncDirectory(dir);
      }
    } catch (e) {
      this.fail(e);
      throw e;
    }
  }

  /** Closes whatever is open; later calls to write() and finish() fail. */
  async abort(reason: unknown = new Error("extraction aborted")): Promise<void> {
    this.fail(reason);
    const file = this.file;
    this.file = undefined;
    if (file) {
      await Promise.all(file.writes);
      await file.fh?.close().catch(() => {});
    }
    await Promise.all(this.closing.splice(0));
    this.crc.close(reason);
  }

  private fail(e: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.failure = e;
    this.crc.close(e);
    this.wakeUp();
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async consume(chunk: Buffer): Promise<void> {
    let pos = 0;
    const size = chunk.length;
    while (pos < size) {
      switch (this.mode) {
        case "header": {
          let block: Buffer;
          if (this.headerFill === 0 && size - pos >= TAR_BLOCK) {
            block = chunk.subarray(pos, pos + TAR_BLOCK);
            pos += TAR_BLOCK;
          } else {
            const take = Math.min(TAR_BLOCK - this.headerFill, size - pos);
            chunk.copy(this.header, this.headerFill, pos, pos + take);
            this.headerFill += take;
            pos += take;
            if (this.headerFill < TAR_BLOCK) break;
            this.headerFill = 0;
            block = this.header;
          }
          this.bytes += TAR_BLOCK;
          await this.onHeader(block);
          break;
        }
        case "data": {
          const take = Math.min(this.remaining, size - pos);
          const part = chunk.subarray(pos, pos + take);
          pos += take;
          this.bytes += take;
          this.remaining -= take;
          await this.onData(part);
          if (this.remaining === 0) await this.endEntry();
          break;
        }
        case "padding": {
          const take = Math.min(this.pad, size - pos);
          pos += take;
          this.bytes += take;
          this.pad -= take;
          if (this.pad === 0) this.mode = "header";
          break;
        }
        case "end": {
          // After the end-of-archive block only zero blocks may follow.
          for (let i = pos; i < size; i++) {
            if (chunk[i] !== 0) throw new TarFormatError("data after the end-of-archive marker");
          }
          this.bytes += size - pos;
          pos = size;
          break;
        }
      }
    }
  }

  private async onHeader(block: Buffer): Promise<void> {
    if (isZeroBlock(block)) {
      if (this.nextName !== undefined || this.nextSize !== undefined) {
        throw new TarFormatError("end-of-archive marker after an extended header");
      }
      this.mode = "end";
      this.ended = true;
      return;
    }
    const h = readTarHeader(block);
    switch (h.type) {
      case TarType.PaxNext:
      case TarType.GnuLongName:
      case TarType.GnuLongLink:
        if (h.size > MAX_META) {
          throw new TarFormatError(`extended header of ${h.size} bytes is too large`);
        }
        this.meta = { type: h.type, data: Buffer.alloc(h.size), fill: 0 };
        this.beginData(h.size);
        if (h.size === 0) await this.endEntry();
        return;
      case TarType.PaxGlobal:
        return this.beginData(h.size);
      case TarType.File:
      case TarType.FileOld:
      case TarType.Contiguous:
        return this.beginFile(h);
      case TarType.Directory: {
        const path = this.takeName(h);
        this.takeSize(h);
        await this.ensureDir(path);
        return this.beginData(0);
      }
      case TarType.Symlink: {
        const path = this.takeName(h);
        const tablespace = path.startsWith("pg_tblspc/") ? " (a tablespace)" : "";
        throw new TarFormatError(
          `symbolic link ${path}${tablespace} -> ${h.linkName.toString("utf8")} is not supported; only the default tablespace can be copied`,
        );
      }
      default: {
        const path = this.takeName(h);
        const kind = h.type === TarType.HardLink ? "hard link" : `entry type ${typeName(h.type)}`;
        throw new TarFormatError(`${kind} ${path} is not supported`);
      }
    }
  }

  private takeName(h: TarHeader): string {
    const raw = this.nextName ?? h.name;
    this.nextName = undefined;
    return safePath(raw);
  }

  private takeSize(h: TarHeader): number {
    const size = this.nextSize ?? h.size;
    this.nextSize = undefined;
    return size;
  }

  private beginData(size: number): void {
    this.remaining = size;
    this.pad = padding(size);
    this.mode = size > 0 ? "data" : this.pad > 0 ? "padding" : "header";
  }

  private async beginFile(h: TarHeader): Promise<void> {
    const path = this.takeName(h);
    const size = this.takeSize(h);
    if (this.files.has(path) || this.directories.has(path)) {
      throw new TarFormatError(`duplicate entry ${path}`);
    }
    await this.ensureDir(parentOf(path));
    const fh = size <= SMALL_FILE ? undefined : await this.create(path);
    const id = this.records.length;
    const record = { size, crc32c: 0 };
    this.records.push(record);
    this.files.set(path, record);
    this.file = {
      path,
      id,
      fh,
      size,
      pending: [],
      pendingBytes: 0,
      position: 0,
      writes: new Set(),
    };
    this.beginData(size);
    if (size === 0) await this.endEntry();
  }

  /** Creates a file that must not exist yet, owned by the server user. */
  private async create(path: string): Promise<FileHandle> {
    // "wx": O_CREAT|O_EXCL, so nothing that already exists is written through.
    const fh = await open(join(this.root, path), "wx", 0o600);
    try {
      if (this.owner) await fh.chown(this.owner.uid, this.owner.gid);
    } catch (e) {
      await fh.close().catch(() => {});
      throw e;
    }
    return fh;
  }

  private async onData(part: Buffer): Promise<void> {
    const file = this.file;
    if (file) {
      let pos = 0;
      while (pos < part.length) {
        const slot = this.slot ?? (await this.nextSlot(file));
        // Copying into a SharedArrayBuffer goes word by word only when source and target have
        // the same alignment, else byte by byte (V8's Relaxed_Memcpy): 45 vs 350 ms/GiB here.
        // So the copy starts at the source's offset modulo 8, leaving a gap of up to 7 bytes.
        const gap = (part.byteOffset + pos - slot.start - slot.fill) & 7;
        slot.fill = Math.min(slot.fill + gap, slot.bytes.length);
        const take = Math.min(part.length - pos, slot.bytes.length - slot.fill);
        if (take > 0) {
          part.copy(slot.bytes, slot.fill, pos, pos + take);
          this.append(file, slot, take);
          pos += take;
        }
        if (slot.fill === slot.bytes.length) {
          this.slot = undefined;
          slot.sealed = true;
          this.checksum(slot, false);
        }
      }
      if (file.fh && file.pendingBytes >= WRITE_BATCH) this.flush(file);
      return;
    }
    const meta = this.meta;
    if (meta) {
      part.copy(meta.data, meta.fill);
      meta.fill += part.length;
    }
  }

  private async endEntry(): Promise<void> {
    this.mode = this.pad > 0 ? "padding" : "header";
    const file = this.file;
    if (file) {
      this.file = undefined;
      if (!file.fh) {
        const spans = file.pending;
        file.pending = [];
        await this.inBackground(async () => {
          try {
            const fh = await this.create(file.path);
            try {
              await writeAll(fh, spans.map(view), 0);
              if (this.sync) await fh.sync();
            } finally {
              await fh.close();
            }
          } finally {
            for (const s of spans) this.release(s.slot);
          }
        });
        return;
      }
      this.flush(file);
      const fh = file.fh;
      await this.inBackground(async () => {
        try {
          await Promise.all(file.writes);
          if (this.failed) return;
          if (this.sync) await fh.sync();
        } finally {
          await fh.close();
        }
      });
      return;
    }
    const meta = this.meta;
    if (meta) {
      this.meta = undefined;
      this.applyMeta(meta);
    }
  }

  private applyMeta(meta: Meta): void {
    if (meta.type === TarType.GnuLongName) {
      const nul = meta.data.indexOf(0);
      this.nextName = nul === -1 ? meta.data : meta.data.subarray(0, nul);
      return;
    }
    if (meta.type !== TarType.PaxNext) return;
    const records = readPaxRecords(meta.data);
    const path = records.get("path");
    if (path !== undefined) this.nextName = path;
    const size = records.get("size")?.toString("latin1");
    if (size !== undefined) {
      if (!/^[0-9]+$/.test(size) || !Number.isSafeInteger(Number(size))) {
        throw new TarFormatError(`pax size ${JSON.stringify(size)} is not a byte count`);
      }
      this.nextSize = Number(size);
    }
  }

  /** Records `length` bytes just copied to the end of `slot` as data of `file`. */
  private append(file: OpenFile, slot: Slot, length: number): void {
    const start = slot.fill;
    slot.fill += length;
    file.pendingBytes += length;
    const last = file.pending.at(-1);
    if (last?.slot === slot && last.start + last.length === start) last.length += length;
    else {
      file.pending.push({ slot, start, length });
      slot.refs++;
    }
    const spans = slot.spans;
    const n = spans.length;
    if (n > 0 && spans[n - 3] === file.id && spans[n - 2]! + spans[n - 1]! === slot.start + start) {
      spans[n - 1]! += length;
    } else spans.push(file.id, slot.start + start, length);
  }

  /** Starts writing what is pending of a file being written (positional, several in flight). */
  private flush(file: OpenFile): void {
    if (file.pendingBytes === 0 || !file.fh) return;
    const spans = file.pending;
    const position = file.position;
    file.pending = [];
    file.position += file.pendingBytes;
    file.pendingBytes = 0;
    const write = writeAll(file.fh, spans.map(view), position)
      .catch((e: unknown) => this.fail(e))
      .finally(() => {
        file.writes.delete(write);
        for (const s of spans) this.release(s.slot);
      });
    file.writes.add(write);
  }

  /** A slot to copy into; waits until one is free. */
  private async nextSlot(file: OpenFile): Promise<Slot> {
    for (;;) {
      if (this.failed) throw this.failure;
      const slot = this.free.shift();
      if (slot) {
        this.slot = slot;
        return slot;
      }
      // What this file holds keeps its slots busy: write it before waiting (creating it now if it
      // is a small one, which would otherwise be written at its end).
      file.fh ??= await this.create(file.path);
      this.flush(file);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  /** Checksums a sealed slot's data in the background; `last` when no slot follows. */
  private checksum(slot: Slot, last: boolean): void {
    const spans = slot.spans;
    if (spans.length === 0) {
      slot.refs++;
      this.release(slot);
      return;
    }
    slot.refs++;
    const job = (last ? this.crc.runLast(spans) : this.crc.run(spans))
      .then(
        (crcs) => {
          for (let i = 0; i < crcs.length; i += 2) this.records[crcs[i]!]!.crc32c = crcs[i + 1]!;
        },
        (e: unknown) => this.fail(e),
      )
      .finally(() => {
        this.checksums.delete(job);
        this.release(slot);
      });
    this.checksums.add(job);
  }

  /** Drops a reference to a slot; a sealed slot without any goes back to the free list. */
  private release(slot: Slot): void {
    slot.refs--;
    if (slot.refs > 0 || !slot.sealed) return;
    slot.fill = 0;
    slot.sealed = false;
    slot.spans = [];
    this.free.push(slot);
    this.wakeUp();
  }

  /** Work that may finish after the stream moves on; at most MAX_PENDING_CLOSE at a time. */
  private async inBackground(work: () => Promise<void>): Promise<void> {
    this.closing.push(work().catch((e: unknown) => this.fail(e)));
    if (this.closing.length >= MAX_PENDING_CLOSE) await this.closing.shift();
  }

  private async ensureDir(path: string): Promise<void> {
    if (path === "" || this.directories.has(path)) return;
    if (this.files.has(path)) throw new TarFormatError(`${path} is both a file and a directory`);
    await this.ensureDir(parentOf(path));
    const full = join(this.root, path);
    try {
      await mkdir(full, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST" || !(await lstat(full)).isDirectory()) {
        throw e;
      }
    }
    // PostgreSQL refuses a data directory with group or other access beyond 0750; mkdir's mode
    // is filtered by the umask, so set it outright.
    await chmod(full, 0o700);
    if (this.owner) await chown(full, this.owner.uid, this.owner.gid);
    this.directories.add(path);
  }
}

function view(s: Span): Buffer {
  return s.slot.bytes.subarray(s.start, s.start + s.length);
}

/** pwritev at `position` until every byte is written (a regular file may take less than asked). */
async function writeAll(fh: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  let rest = buffers;
  while (rest.length > 0) {
    const total = rest.reduce((n, b) => n + b.length, 0);
    const { bytesWritten } = await fh.writev(rest, position);
    position += bytesWritten;
    if (bytesWritten === total) return;
    let skip = bytesWritten;
    const next: Buffer[] = [];
    for (const b of rest) {
      if (skip >= b.length) skip -= b.length;
      else {
        next.push(skip > 0 ? b.subarray(skip) : b);
        skip = 0;
      }
    }
    rest = next;
  }
}

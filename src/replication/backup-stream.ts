import { performance } from "node:perf_hooks";
import { BackendCode, BaseBackupCode, ProtocolError, readCopyResponse } from "../protocol/index.js";
import { isLsn } from "./lsn.js";
import type { BackendMessage } from "./message-queue.js";
import { ReplicationError } from "./replication-error.js";
import { type ResultSet, ResultSets } from "./result-sets.js";

export interface BackupProgress {
  /** Archive bytes received so far (or the server's count, when it is ahead). */
  doneBytes: number;
  /** The server's estimate of the data directory size, never below doneBytes; null if unknown. */
  totalBytes: number | null;
  /** doneBytes over the time since the archive started. */
  bytesPerSecond: number;
}

/** Where the archive bytes go: the tar extractor, or a test's collector. */
export interface ArchiveSink {
  /** `chunk` is valid only until the returned promise settles: copy what must be kept. */
  write(chunk: Buffer): Promise<void>;
}

export interface BackupStreamOptions {
  readonly node: string;
  readonly archive: ArchiveSink;
  readonly onProgress?: ((p: BackupProgress) => void) | undefined;
  /** Least time between two onProgress calls; default 200 ms. */
  readonly progressIntervalMs?: number | undefined;
  /** Clock in milliseconds; default performance.now. */
  readonly now?: (() => number) | undefined;
}

export interface BackupStreamResult {
  readonly startLsn: string;
  readonly startTimeline: number;
  readonly endLsn: string;
  readonly endTimeline: number;
  /** Sum of the tablespace sizes the server estimated, in bytes; null without PROGRESS. */
  readonly totalBytes: number | null;
  /** Archive bytes received. */
  readonly archiveBytes: number;
  /** The backup_manifest document as received. */
  readonly manifest: Buffer;
}

const DEFAULT_PROGRESS_INTERVAL_MS = 200;
const ARCHIVE_NAME = "base.tar";

function lsnRow(set: ResultSet | undefined, which: string): { lsn: string; timeline: number } {
  // Columns recptr (text) and tli (int8).
  const row = set?.rows[0];
  const lsn = row?.[0];
  const tli = row?.[1];
  if (set?.rows.length !== 1 || !lsn || !isLsn(lsn) || !tli || !/^\d+$/.test(tli)) {
    throw new ProtocolError(`BASE_BACKUP ${which} result set is malformed`);
  }
  return { lsn, timeline: Number(tli) };
}

/**
 * Follows the answer to BASE_BACKUP (PostgreSQL 15+, TARGET 'client'), one backend message at a
 * time, ReadyForQuery and ErrorResponse excluded:
 *   1. a result set with the start LSN and timeline (recptr, tli);
 *   2. a result set with one row per tablespace (spcoid, spclocation, size in kB), the data
 *      directory last with spcoid and spclocation NULL;
 *   3. CopyOutResponse, then CopyData whose first byte is 'n' (new archive: name and
 *      tablespace location as Strings), 'd' (archive or manifest bytes), 'p' (Int64 bytes
 *      done) or 'm' (the manifest follows); then CopyDone;
 *   4. a result set with the end LSN and timeline; CommandComplete.
 * Archive bytes go to `archive` as they arrive; only the default tablespace is accepted.
 * https://www.postgresql.org/docs/17/protocol-replication.html#PROTOCOL-REPLICATION-BASE-BACKUP
 */
export class BackupStream {
  private readonly sets = new ResultSets();
  private phase: "before" | "copy" | "after" = "before";
  private target: "none" | "archive" | "manifest" = "none";
  private readonly manifest: Buffer[] = [];
  private received = 0;
  private serverDone = 0;
  private total: number | null = null;
  private start: { lsn: string; timeline: number } | undefined;
  private startedAt = 0;
  private reportedAt: number | undefined;
  private readonly now: () => number;
  private readonly interval: number;

  constructor(private readonly options: BackupStreamOptions) {
    this.now = options.now ?? (() => performance.now());
    this.interval = options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS;
  }

  async handle(m: BackendMessage): Promise<void> {
    switch (this.phase) {
      case "before":
        if (this.sets.take(m.code, m.body)) return;
        if (m.code !== BackendCode.CopyOutResponse) break;
        readCopyResponse(m.body);
        this.beginCopy();
        return;
      case "copy":
        if (m.code === BackendCode.CopyData) return this.copyData(m.body);
        if (m.code !== BackendCode.CopyDone) break;
        if (this.target === "none") throw new ProtocolError("BASE_BACKUP sent no archive");
        this.phase = "after";
        this.report(true);
        return;
      case "after":
        if (this.sets.take(m.code, m.body)) return;
        break;
    }
    throw new ProtocolError(
      `unexpected message type ${m.code} in the BASE_BACKUP answer (${this.phase} the copy)`,
    );
  }

  /** What the stream said, once it is complete (after the final result set). */
  result(): BackupStreamResult {
    if (this.phase !== "after" || !this.start) {
      throw new ProtocolError("BASE_BACKUP answer ended before the copy was complete");
    }
    const end = lsnRow(this.sets.sets[2], "end");
    if (this.manifest.length === 0) throw new ProtocolError("BASE_BACKUP sent no backup manifest");
    return {
      startLsn: this.start.lsn,
      startTimeline: this.start.timeline,
      endLsn: end.lsn,
      endTimeline: end.timeline,
      totalBytes: this.total,
      archiveBytes: this.received,
      manifest: Buffer.concat(this.manifest),
    };
  }

  private beginCopy(): void {
    const [startSet, spaces] = this.sets.sets;
    this.start = lsnRow(startSet, "start");
    if (spaces?.columns.length !== 3) {
      throw new ProtocolError("BASE_BACKUP sent no tablespace result set before the copy");
    }
    const others = spaces.rows.filter((r) => r[0] !== null);
    if (others.length > 0) {
      const where = others.map((r) => `${r[1]} (oid ${r[0]})`).join(", ");
      throw new ReplicationError({
        kind: "server",
        node: this.options.node,
        problem: `the server has tablespaces outside its data directory: ${where}; dbmesh copies only pg_default and pg_global`,
        hint: "move their objects to pg_default (ALTER TABLE ... SET TABLESPACE pg_default) and drop those tablespaces, or copy this server with pg_basebackup",
      });
    }
    const sizes = spaces.rows.map((r) => r[2]);
    if (sizes.length > 0 && sizes.every((s) => s !== null && s !== undefined && /^\d+$/.test(s))) {
      this.total = sizes.reduce((sum, s) => sum + Number(s) * 1024, 0);
    }
    this.phase = "copy";
    this.startedAt = this.now();
  }

  private async copyData(body: Buffer): Promise<void> {
    switch (body[0]) {
      case BaseBackupCode.NewArchive: {
        // String archive name, String tablespace location ("" for the data directory).
        const nameEnd = body.indexOf(0, 1);
        const locationEnd = nameEnd === -1 ? -1 : body.indexOf(0, nameEnd + 1);
        if (locationEnd === -1) throw new ProtocolError("malformed new-archive message");
        const name = body.toString("utf8", 1, nameEnd);
        const location = body.toString("utf8", nameEnd + 1, locationEnd);
        if (this.target !== "none" || name !== ARCHIVE_NAME || location !== "") {
          throw new ProtocolError(
            `unexpected archive ${JSON.stringify(name)}${location ? ` for tablespace ${location}` : ""}: only ${ARCHIVE_NAME} of the data directory is expected`,
          );
        }
        this.target = "archive";
        return;
      }
      case BaseBackupCode.Data: {
        const data = body.subarray(1);
        if (this.target === "archive") {
          await this.options.archive.write(data);
          this.received += data.length;
          this.report(false);
        } else if (this.target === "manifest") {
          // A message's body is valid only while it is handled (MessageQueue reuses it).
          this.manifest.push(Buffer.from(data));
        } else {
          throw new ProtocolError("archive data before any new-archive message");
        }
        return;
      }
      case BaseBackupCode.Progress:
        if (body.length !== 9) throw new ProtocolError("malformed progress message");
        this.serverDone = Number(body.readBigInt64BE(1));
        this.report(false);
        return;
      case BaseBackupCode.Manifest:
        if (this.target !== "archive") throw new ProtocolError("manifest before the archive");
        this.target = "manifest";
        return;
      default:
        throw new ProtocolError(`unknown BASE_BACKUP CopyData type ${body[0]}`);
    }
  }

  private report(final: boolean): void {
    const onProgress = this.options.onProgress;
    if (!onProgress) return;
    const now = this.now();
    if (!final && this.reportedAt !== undefined && now - this.reportedAt < this.interval) return;
    this.reportedAt = now;
    const done = Math.max(this.received, this.serverDone);
    const seconds = (now - this.startedAt) / 1000;
    onProgress({
      doneBytes: done,
      totalBytes: final ? done : this.total === null ? null : Math.max(this.total, done),
      bytesPerSecond: seconds > 0 ? done / seconds : 0,
    });
  }
}

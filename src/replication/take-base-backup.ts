import { chmod, chown, mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { isProtocolError } from "../protocol/index.js";
import { ManifestError, parseBackupManifest } from "./backup-manifest.js";
import { type BackupProgress, BackupStream } from "./backup-stream.js";
import { baseBackup, checkSlotName } from "./replication-command.js";
import { ReplicationConnection, type ReplicationTarget } from "./replication-connection.js";
import { isReplicationError, ReplicationError } from "./replication-error.js";
import { standbySettings, writeStandbyConfig } from "./standby-config.js";
import { TarExtractor } from "./tar-extractor.js";
import { TarFormatError } from "./tar-header.js";
import { verifyBackup } from "./verify-backup.js";
import { syncDirectory, writeFileDurable } from "./write-file-durable.js";

export interface BaseBackupOptions {
  /** The upstream, as a role with REPLICATION (or a superuser). */
  source: ReplicationTarget;
  /** The standby's data directory to create; must not exist or be empty. */
  dataDir: string;
  /** chown everything to this user (when dbmesh runs as root and servers do not). */
  owner?: { uid: number; gid: number };
  /** Physical slot on the upstream to create (if missing) and record as primary_slot_name. */
  slot?: string;
  /**
   * Written to postgresql.auto.conf as primary_conninfo (with primary_slot_name), as
   * pg_basebackup -R does. Leave it out when the caller configures the standby itself:
   * postgresql.auto.conf is read last and would override that configuration.
   */
  primaryConninfo?: string;
  /** backup_label LABEL; default "dbmesh base backup". */
  label?: string;
  /** Called at most every 200 ms while the archive arrives, and once at its end. */
  onProgress?: (p: BackupProgress) => void;
  signal?: AbortSignal;
  /** Server-side rate limit (MAX_RATE) in kB/s, 32 to 1048576; unlimited when absent. */
  maxRate?: number;
  /** fsync every file and directory before the rename (default true, as pg_basebackup). */
  sync?: boolean;
}

export interface BaseBackupResult {
  systemId: string;
  /** Timeline the backup started on. */
  timeline: number;
  startLsn: string;
  endLsn: string;
  /** Archive bytes received (data files and WAL, tar headers included). */
  bytes: number;
  /** Regular files extracted (WAL segments included). */
  /** Every file was checked against the server's backup manifest (a mismatch throws). */
  files: number;
  ms: number;
}

const TMP_SUFFIX = ".backup-tmp";
// Verification problems listed in the error message; all of them go to `detail`.
const PROBLEMS_IN_MESSAGE = 3;
const DROP_SLOT_TIMEOUT_MS = 3000;

async function isNonEmpty(dir: string, node: string): Promise<boolean> {
  try {
    const st = await stat(dir);
    if (!st.isDirectory()) return true;
    return (await readdir(dir)).length > 0;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw ioError(e, node, dir);
  }
}

function targetExists(dataDir: string, node: string): ReplicationError {
  return new ReplicationError({
    kind: "target-exists",
    node,
    problem: `${dataDir} already exists and is not empty`,
    hint: `move it away or remove it (this deletes whatever it holds), then take the backup again`,
  });
}

function ioError(e: unknown, node: string, path: string): ReplicationError {
  const code = (e as NodeJS.ErrnoException).code;
  return new ReplicationError({
    kind: "io",
    node,
    problem: `writing the backup under ${path} failed: ${(e as Error).message}`,
    hint:
      code === "ENOSPC"
        ? `free space on the file system of ${path}`
        : `check that ${dirname(path)} is writable by this process`,
    cause: e,
  });
}

function asReplicationError(
  e: unknown,
  node: string,
  tmp: string,
  signal: AbortSignal | undefined,
): ReplicationError {
  if (signal?.aborted && !(isReplicationError(e) && e.kind === "aborted")) {
    return new ReplicationError({
      kind: "aborted",
      node,
      problem: "the base backup was aborted",
      hint: "take it again when wanted",
      cause: signal.reason,
    });
  }
  if (isReplicationError(e)) return e;
  if (e instanceof TarFormatError) {
    return new ReplicationError({
      kind: "protocol",
      node,
      problem: `the backup archive cannot be extracted: ${e.message}`,
      hint: "check that the upstream is a PostgreSQL 15 or later server with only the default tablespaces",
      cause: e,
    });
  }
  if (e instanceof ManifestError) {
    return new ReplicationError({
      kind: "verify",
      node,
      problem: `the backup manifest is invalid: ${e.message}`,
      hint: "take the backup again; if it fails the same way, check the upstream's storage and server log",
      cause: e,
    });
  }
  if (isProtocolError(e)) {
    return new ReplicationError({
      kind: "protocol",
      node,
      problem: `protocol error during the base backup: ${e.message}`,
      hint: "check that the upstream is a PostgreSQL 15 or later server",
      sqlstate: e.code,
      cause: e,
    });
  }
  if (typeof (e as NodeJS.ErrnoException)?.code === "string") return ioError(e, node, tmp);
  return new ReplicationError({
    kind: "protocol",
    node,
    problem: `unexpected failure during the base backup: ${(e as Error)?.message ?? String(e)}`,
    hint: "this is a bug in dbmesh; report it with the message",
    cause: e,
  });
}

/** Drops a slot this call created, on a fresh connection; failures are ignored. */
async function dropSlotQuietly(source: ReplicationTarget, slot: string): Promise<void> {
  try {
    const conn = await ReplicationConnection.connect(source, DROP_SLOT_TIMEOUT_MS);
    try {
      await conn.dropSlot(slot);
    } finally {
      await conn.close();
    }
  } catch {}
}

/**
 * Copies the upstream's data directory into `dataDir` over the replication protocol and makes
 * it a streaming standby of it, like pg_basebackup -X fetch -R with a manifest:
 *   IDENTIFY_SYSTEM; CREATE_REPLICATION_SLOT (if asked and missing); BASE_BACKUP, with the tar
 *   extracted into `dataDir`.backup-tmp as it arrives; verification against the manifest;
 *   backup_manifest, standby.signal and postgresql.auto.conf written; rename to `dataDir`.
 * On any failure or abort the temporary directory is removed (and a slot this call created is
 * dropped), so `dataDir` is either absent or a complete, verified standby.
 */
export async function takeBaseBackup(opts: BaseBackupOptions): Promise<BaseBackupResult> {
  const startedAt = performance.now();
  const node = opts.source.node;
  if (opts.slot !== undefined) checkSlotName(opts.slot);
  const command = baseBackup({ label: opts.label ?? "dbmesh base backup", maxRate: opts.maxRate });
  // Invalid arguments fail here, not after the copy.
  if (opts.primaryConninfo !== undefined) {
    standbySettings({ primaryConninfo: opts.primaryConninfo, slot: opts.slot });
  }
  const sync = opts.sync ?? true;
  const owner = opts.owner;
  const dataDir = resolve(opts.dataDir);
  const tmp = `${dataDir}${TMP_SUFFIX}`;
  if (await isNonEmpty(dataDir, node)) throw targetExists(dataDir, node);

  const signal = opts.signal;
  let conn: ReplicationConnection | undefined;
  let extractor: TarExtractor | undefined;
  let createdSlot = false;
  try {
    signal?.throwIfAborted();
    await rm(tmp, { recursive: true, force: true });
    await mkdir(dirname(dataDir), { recursive: true });
    await mkdir(tmp, { mode: 0o700 });
    await chmod(tmp, 0o700);
    if (owner) await chown(tmp, owner.uid, owner.gid);

    conn = await ReplicationConnection.connect(opts.source, undefined, signal);
    const identity = await conn.identifySystem();
    if (opts.slot !== undefined) {
      try {
        await conn.createPhysicalSlot(opts.slot, { reserveWal: true });
        createdSlot = true;
      } catch (e) {
        // 42710 duplicate_object: the slot exists, which is what is wanted.
        if (!(isReplicationError(e) && e.sqlstate === "42710")) throw e;
      }
    }

    extractor = new TarExtractor({ root: tmp, owner, sync });
    const stream = new BackupStream({ node, archive: extractor, onProgress: opts.onProgress });
    await conn.stream(command, (m) => stream.handle(m));
    const received = stream.result();
    await extractor.finish();
    await conn.close();

    const manifest = parseBackupManifest(received.manifest);
    const problems = verifyBackup({
      manifest,
      files: extractor.files,
      systemId: identity.systemId,
    });
    if (problems.length > 0) {
      const shown = problems.slice(0, PROBLEMS_IN_MESSAGE).join("; ");
      const more =
        problems.length > PROBLEMS_IN_MESSAGE
          ? ` (and ${problems.length - PROBLEMS_IN_MESSAGE} more)`
          : "";
      throw new ReplicationError({
        kind: "verify",
        node,
        problem: `the backup does not match its manifest: ${shown}${more}`,
        hint: "take the backup again; if it fails the same way, check the upstream's storage and server log",
        detail: problems.join("\n"),
      });
    }
    const fileOpts = { owner, sync };
    await writeFileDurable(join(tmp, "backup_manifest"), received.manifest, fileOpts);
    await writeStandbyConfig(
      tmp,
      opts.primaryConninfo === undefined
        ? undefined
        : { primaryConninfo: opts.primaryConninfo, slot: opts.slot },
      fileOpts,
    );
    if (sync) await syncDirectory(tmp);

    signal?.throwIfAborted();
    try {
      // rename(2) replaces an empty directory and fails with ENOTEMPTY/EEXIST on a non-empty one.
      await rename(tmp, dataDir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOTEMPTY" || code === "EEXIST" || code === "ENOTDIR") {
        throw targetExists(dataDir, node);
      }
      throw e;
    }
    if (sync) await syncDirectory(dirname(dataDir));
    return {
      systemId: identity.systemId,
      timeline: received.startTimeline,
      startLsn: received.startLsn,
      endLsn: received.endLsn,
      bytes: extractor.bytes,
      files: extractor.files.size,
      ms: Math.round(performance.now() - startedAt),
    };
  } catch (e) {
    const err = asReplicationError(e, node, tmp, signal);
    conn?.destroy(err);
    await extractor?.abort(err);
    await rm(tmp, { recursive: true, force: true }).catch(() => {});
    if (createdSlot && opts.slot !== undefined) await dropSlotQuietly(opts.source, opts.slot);
    throw err;
  }
}

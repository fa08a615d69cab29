import type { BackupManifest } from "./backup-manifest.js";
import { parseLsn } from "./lsn.js";
import type { ExtractedFile } from "./tar-extractor.js";

export interface VerifyBackupInput {
  readonly manifest: BackupManifest;
  /** Regular files extracted from the archive, by relative path. */
  readonly files: ReadonlyMap<string, ExtractedFile>;
  /** From IDENTIFY_SYSTEM. */
  readonly systemId: string;
}

// WAL segment file: timeline, then the segment number as two 32-bit halves, 8 hex digits each.
// https://www.postgresql.org/docs/17/wal-internals.html
const WAL_SEGMENT = /^pg_wal\/([0-9A-F]{8})([0-9A-F]{16})$/;

/**
 * A manifest CRC32C is the 4 bytes of the server's uint32 in its native order
 * (pg_checksum_final in src/common/checksum_helper.c copies the integer), so little-endian
 * servers write the reverse of the conventional big-endian hex. Both orders are accepted.
 */
function crcMatches(crc: number, stated: string): boolean {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(crc);
  if (b.toString("hex") === stated) return true;
  b.writeUInt32BE(crc);
  return b.toString("hex") === stated;
}

/**
 * Everything that disagrees between the manifest and the extracted archive, the way
 * pg_verifybackup checks a backup directory: each listed file present with its size and
 * checksum, no unlisted file outside pg_wal, the system identifier, and the WAL segments that
 * cover each WAL range (by segment number, on any timeline, as BASE_BACKUP selects them).
 * https://www.postgresql.org/docs/17/app-pgverifybackup.html
 */
export function verifyBackup(input: VerifyBackupInput): string[] {
  const { manifest, files, systemId } = input;
  const problems: string[] = [];
  if (manifest.systemId !== null && manifest.systemId !== systemId) {
    problems.push(
      `manifest system identifier ${manifest.systemId} is not the server's ${systemId}`,
    );
  }
  const listed = new Set<string>();
  for (const entry of manifest.files) {
    listed.add(entry.path);
    const file = files.get(entry.path);
    if (!file) {
      problems.push(`${entry.path} is in the manifest but not in the archive`);
      continue;
    }
    if (file.size !== entry.size) {
      problems.push(`${entry.path} has size ${file.size}, the manifest says ${entry.size}`);
      continue;
    }
    if (entry.checksumAlgorithm === undefined) continue;
    if (entry.checksumAlgorithm.toUpperCase() !== "CRC32C") {
      problems.push(`${entry.path} has checksum algorithm ${entry.checksumAlgorithm}, not CRC32C`);
    } else if (!crcMatches(file.crc32c, entry.checksum ?? "")) {
      problems.push(`${entry.path} has a CRC-32C checksum mismatch`);
    }
  }
  const segments = new Map<string, number>();
  for (const [path, file] of files) {
    const wal = WAL_SEGMENT.exec(path);
    if (wal) segments.set(wal[2]!, file.size);
    else if (!listed.has(path) && !path.startsWith("pg_wal/")) {
      problems.push(`${path} is in the archive but not in the manifest`);
    }
  }
  problems.push(...checkWal(manifest, segments));
  return problems;
}

/** segments: the last 16 hex digits of each WAL file name (its segment number) to its size. */
function checkWal(manifest: BackupManifest, segments: ReadonlyMap<string, number>): string[] {
  if (manifest.walRanges.length === 0) return [];
  const sizes = new Set(segments.values());
  const [segmentSize] = sizes;
  if (segmentSize === undefined) return ["the archive has no WAL segments in pg_wal"];
  // wal_segment_size is a power of two from 1 MB to 1 GB.
  // https://www.postgresql.org/docs/17/app-initdb.html
  if (sizes.size !== 1 || segmentSize < 1 << 20 || (segmentSize & (segmentSize - 1)) !== 0) {
    return [`WAL segments in pg_wal have inconsistent sizes: ${[...sizes].join(", ")}`];
  }
  const size = BigInt(segmentSize);
  // The name holds the segment number as (segno / segsPerId, segno % segsPerId), 8 hex digits
  // each, with segsPerId = 2^32 / segment size.
  const perId = 0x100000000n / size;
  const name = (segno: bigint) =>
    (((segno / perId) << 32n) | (segno % perId)).toString(16).toUpperCase().padStart(16, "0");
  const problems: string[] = [];
  for (const range of manifest.walRanges) {
    const start = parseLsn(range.startLsn);
    const end = parseLsn(range.endLsn);
    // The last byte needed is end - 1 (XLByteToPrevSeg), unless the range is empty.
    const first = start / size;
    const last = end > start ? (end - 1n) / size : first;
    for (let s = first; s <= last; s++) {
      if (!segments.has(name(s))) {
        problems.push(
          `WAL segment ${name(s)} for ${range.startLsn}..${range.endLsn} (timeline ${range.timeline}) is not in pg_wal`,
        );
      }
    }
  }
  return problems;
}

// The backup_manifest JSON document BASE_BACKUP sends with MANIFEST 'yes'.
// https://www.postgresql.org/docs/17/backup-manifest-format.html
import { createHash } from "node:crypto";
import { isLsn } from "./lsn.js";

export interface ManifestFile {
  /** Relative to the data directory; from "Path", or "Encoded-Path" hex-decoded as UTF-8. */
  readonly path: string;
  readonly size: number;
  /** "CRC32C", "SHA256", ...; absent when the backup was taken without file checksums. */
  readonly checksumAlgorithm?: string;
  /** Lower-case hex. */
  readonly checksum?: string;
}

export interface ManifestWalRange {
  readonly timeline: number;
  readonly startLsn: string;
  readonly endLsn: string;
}

export interface BackupManifest {
  /** PostgreSQL-Backup-Manifest-Version: 1, or 2 since PostgreSQL 17 (adds System-Identifier). */
  readonly version: number;
  /** System-Identifier (version 2) as decimal text: a uint64 does not fit a JS number. */
  readonly systemId: string | null;
  readonly files: readonly ManifestFile[];
  readonly walRanges: readonly ManifestWalRange[];
}

export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ManifestError";
  }
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ManifestError(`${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

function list(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new ManifestError(`${what} is not a JSON array`);
  return value;
}

function count(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new ManifestError(`${what} is not a non-negative integer`);
  }
  return value;
}

function text(value: unknown, what: string): string {
  if (typeof value !== "string") throw new ManifestError(`${what} is not a string`);
  return value;
}

function hex(value: unknown, what: string): string {
  const s = text(value, what);
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(s)) throw new ManifestError(`${what} is not hexadecimal`);
  return s.toLowerCase();
}

function fileEntry(value: unknown, index: number): ManifestFile {
  const o = record(value, `Files[${index}]`);
  let path: string;
  if ("Path" in o) path = text(o.Path, `Files[${index}].Path`);
  else if ("Encoded-Path" in o) {
    path = Buffer.from(hex(o["Encoded-Path"], `Files[${index}].Encoded-Path`), "hex").toString();
  } else throw new ManifestError(`Files[${index}] has neither Path nor Encoded-Path`);
  const size = count(o.Size, `Files[${index}].Size (${path})`);
  if (!("Checksum-Algorithm" in o)) return { path, size };
  return {
    path,
    size,
    checksumAlgorithm: text(o["Checksum-Algorithm"], `Files[${index}].Checksum-Algorithm`),
    checksum: hex(o.Checksum, `Files[${index}].Checksum (${path})`),
  };
}

function walRange(value: unknown, index: number): ManifestWalRange {
  const o = record(value, `WAL-Ranges[${index}]`);
  const startLsn = text(o["Start-LSN"], `WAL-Ranges[${index}].Start-LSN`);
  const endLsn = text(o["End-LSN"], `WAL-Ranges[${index}].End-LSN`);
  if (!isLsn(startLsn) || !isLsn(endLsn)) {
    throw new ManifestError(`WAL-Ranges[${index}] has a malformed LSN`);
  }
  return { timeline: count(o.Timeline, `WAL-Ranges[${index}].Timeline`), startLsn, endLsn };
}

/**
 * The manifest's own checksum: its last line holds "Manifest-Checksum", the SHA-256 (hex) of
 * every byte up to and including the newline that ends the line before it; the document must
 * end with a newline. Same rule as pg_verifybackup (src/common/parse_manifest.c).
 * https://www.postgresql.org/docs/17/backup-manifest-toplevel.html
 */
export function checkManifestChecksum(raw: Buffer, stated: string): void {
  if (raw.length === 0 || raw[raw.length - 1] !== 0x0a) {
    throw new ManifestError("last line not newline-terminated");
  }
  const penultimate = raw.lastIndexOf(0x0a, raw.length - 2);
  if (penultimate === -1) throw new ManifestError("expected at least 2 lines");
  const actual = createHash("sha256")
    .update(raw.subarray(0, penultimate + 1))
    .digest("hex");
  if (!/^[0-9a-fA-F]{64}$/.test(stated)) {
    throw new ManifestError(`invalid manifest checksum ${JSON.stringify(stated)}`);
  }
  if (actual !== stated.toLowerCase()) {
    throw new ManifestError(`manifest checksum mismatch: stated ${stated}, computed ${actual}`);
  }
}

/** Parses the manifest and checks its Manifest-Checksum; throws ManifestError. */
export function parseBackupManifest(raw: Buffer): BackupManifest {
  const json = raw.toString("utf8");
  let doc: Record<string, unknown>;
  try {
    doc = record(JSON.parse(json), "the manifest");
  } catch (e) {
    if (e instanceof ManifestError) throw e;
    throw new ManifestError(`not valid JSON: ${(e as Error).message}`);
  }
  const version = count(
    doc["PostgreSQL-Backup-Manifest-Version"],
    "PostgreSQL-Backup-Manifest-Version",
  );
  if (version !== 1 && version !== 2) {
    throw new ManifestError(`unsupported manifest version ${version}`);
  }
  checkManifestChecksum(raw, text(doc["Manifest-Checksum"], "Manifest-Checksum"));
  let systemId: string | null = null;
  if (version >= 2) {
    // JSON.parse rounds integers above 2^53, so the identifier is read from the text.
    const m = /"System-Identifier"\s*:\s*([0-9]+)/.exec(json);
    if (!m) throw new ManifestError("version 2 manifest has no System-Identifier");
    systemId = m[1]!;
  }
  return {
    version,
    systemId,
    files: list(doc.Files, "Files").map(fileEntry),
    walRanges: list(doc["WAL-Ranges"], "WAL-Ranges").map(walRange),
  };
}

// A BASE_BACKUP answer for tests, message by message as a PostgreSQL 17 walsender sends it
// (src/backend/backup/basebackup_copy.c), and a backup_manifest in the server's layout
// (src/backend/backup/backup_manifest.c).
import { createHash } from "node:crypto";
import { BackendCode, BaseBackupCode, BufferWriter } from "../protocol/index.js";
import { crc32c } from "./crc32c.js";

const TEXT_OID = 25;
const INT8_OID = 20;
const OID_OID = 26;

function rowDescription(columns: readonly [string, number][]): Buffer {
  const w = new BufferWriter().int16(columns.length);
  for (const [name, type] of columns) {
    w.cstring(name)
      .int32(0)
      .int16(0)
      .int32(type)
      .int16(type === TEXT_OID ? -1 : 8)
      .int32(-1)
      .int16(0);
  }
  return w.finish(BackendCode.RowDescription);
}

function dataRow(values: readonly (string | null)[]): Buffer {
  const w = new BufferWriter().int16(values.length);
  for (const v of values) {
    if (v === null) w.int32(-1);
    else w.int32(Buffer.byteLength(v)).bytes(Buffer.from(v));
  }
  return w.finish(BackendCode.DataRow);
}

function commandComplete(tag: string): Buffer {
  return new BufferWriter().cstring(tag).finish(BackendCode.CommandComplete);
}

function copyData(kind: number, payload: Uint8Array = Buffer.alloc(0)): Buffer {
  return new BufferWriter().int8(kind).bytes(payload).finish(BackendCode.CopyData);
}

export interface ManifestFixtureFile {
  readonly path: string;
  readonly content: Buffer;
}

export interface ManifestFixtureOptions {
  readonly systemId: string;
  readonly walRanges?: readonly { timeline: number; start: string; end: string }[];
}

/** A manifest as the server writes it: one file per line, checksum over all lines before the last. */
export function buildManifest(
  files: readonly ManifestFixtureFile[],
  opts: ManifestFixtureOptions,
): Buffer {
  const lines = [
    `{ "PostgreSQL-Backup-Manifest-Version": 2,`,
    `"System-Identifier": ${opts.systemId},`,
    `"Files": [`,
  ];
  files.forEach((f, i) => {
    const crc = Buffer.alloc(4);
    // The server's uint32 in little-endian byte order, as an x86 server writes it.
    crc.writeUInt32LE(crc32c(f.content));
    const sep = i === files.length - 1 ? "" : ",";
    lines.push(
      `{ "Path": ${JSON.stringify(f.path)}, "Size": ${f.content.length}, "Last-Modified": "2025-01-01 00:00:00 GMT", "Checksum-Algorithm": "CRC32C", "Checksum": "${crc.toString("hex")}" }${sep}`,
    );
  });
  lines.push("],", `"WAL-Ranges": [`);
  const ranges = opts.walRanges ?? [];
  ranges.forEach((r, i) => {
    const sep = i === ranges.length - 1 ? "" : ",";
    lines.push(
      `{ "Timeline": ${r.timeline}, "Start-LSN": "${r.start}", "End-LSN": "${r.end}" }${sep}`,
    );
  });
  lines.push("],");
  const body = `${lines.join("\n")}\n`;
  const checksum = createHash("sha256").update(body).digest("hex");
  return Buffer.from(`${body}"Manifest-Checksum": "${checksum}"}\n`);
}

export interface BackupAnswerOptions {
  readonly archive: Buffer;
  readonly manifest: Buffer;
  readonly startLsn: string;
  readonly endLsn: string;
  /** Estimated size of the data directory in kB. */
  readonly sizeKb: number;
  /** Size of each CopyData payload; the server uses 32 kB. */
  readonly chunk?: number;
  /** Extra tablespaces: [oid, location]. */
  readonly tablespaces?: readonly [string, string][];
}

/** Every message of the answer to BASE_BACKUP except the final ReadyForQuery. */
export function backupAnswer(opts: BackupAnswerOptions): Buffer[] {
  const chunk = opts.chunk ?? 32768;
  const lsnColumns: [string, number][] = [
    ["recptr", TEXT_OID],
    ["tli", INT8_OID],
  ];
  const out = [
    rowDescription(lsnColumns),
    dataRow([opts.startLsn, "1"]),
    commandComplete("SELECT"),
    rowDescription([
      ["spcoid", OID_OID],
      ["spclocation", TEXT_OID],
      ["size", INT8_OID],
    ]),
    ...(opts.tablespaces ?? []).map(([oid, location]) => dataRow([oid, location, "8"])),
    dataRow([null, null, String(opts.sizeKb)]),
    commandComplete("SELECT"),
    new BufferWriter().int8(0).int16(0).finish(BackendCode.CopyOutResponse),
    copyData(BaseBackupCode.NewArchive, Buffer.from("base.tar\0\0")),
  ];
  for (let at = 0; at < opts.archive.length; at += chunk) {
    out.push(copyData(BaseBackupCode.Data, opts.archive.subarray(at, at + chunk)));
    const done = Buffer.alloc(8);
    done.writeBigInt64BE(BigInt(Math.min(at + chunk, opts.archive.length)));
    out.push(copyData(BaseBackupCode.Progress, done));
  }
  out.push(copyData(BaseBackupCode.Manifest));
  for (let at = 0; at < opts.manifest.length; at += chunk) {
    out.push(copyData(BaseBackupCode.Data, opts.manifest.subarray(at, at + chunk)));
  }
  out.push(
    new BufferWriter().finish(BackendCode.CopyDone),
    rowDescription(lsnColumns),
    dataRow([opts.endLsn, "1"]),
    commandComplete("SELECT"),
    commandComplete("BASE_BACKUP"),
  );
  return out;
}

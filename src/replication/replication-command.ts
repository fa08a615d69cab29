// The replication commands dbmesh sends, built in one place.
// https://www.postgresql.org/docs/17/protocol-replication.html
import { ident } from "../pgadmin/quote.js";

/**
 * Slot names: lower-case letters, digits and underscores, at most NAMEDATALEN - 1 (63) bytes
 * (ReplicationSlotValidateName). Quoted anyway, so a name such as "physical" is not a keyword.
 * https://www.postgresql.org/docs/17/warm-standby.html#STREAMING-REPLICATION-SLOTS-MANIPULATION
 */
export function checkSlotName(name: string): void {
  if (!/^[a-z0-9_]{1,63}$/.test(name)) {
    throw new TypeError(
      `replication slot name ${JSON.stringify(name)} must be 1-63 lower-case letters, digits or underscores`,
    );
  }
}

/**
 * A string literal for the replication command parser (repl_scanner.l): single quotes with
 * embedded quotes doubled. Backslashes are literal there, and there is no E'' form.
 */
export function replicationLiteral(value: string): string {
  if (value.includes("\0")) throw new TypeError("replication command literal contains a NUL byte");
  return `'${value.replace(/'/g, "''")}'`;
}

export function identifySystem(): string {
  return "IDENTIFY_SYSTEM";
}

/** CREATE_REPLICATION_SLOT name [TEMPORARY] PHYSICAL [(RESERVE_WAL)] */
export function createPhysicalSlot(
  name: string,
  opts: { reserveWal?: boolean | undefined; temporary?: boolean | undefined } = {},
): string {
  checkSlotName(name);
  const temporary = opts.temporary ? " TEMPORARY" : "";
  const reserve = opts.reserveWal ? " (RESERVE_WAL)" : "";
  return `CREATE_REPLICATION_SLOT ${ident(name)}${temporary} PHYSICAL${reserve}`;
}

/** DROP_REPLICATION_SLOT name, without WAIT: an active slot is an error, not a hang. */
export function dropSlot(name: string): string {
  checkSlotName(name);
  return `DROP_REPLICATION_SLOT ${ident(name)}`;
}

export interface BaseBackupCommandOptions {
  readonly label: string;
  /** MAX_RATE in kB/s, 32 to 1048576; unlimited when absent. */
  readonly maxRate?: number | undefined;
}

// backup_label's LABEL line is limited to MAXPGPATH - 1 bytes.
const MAX_LABEL_BYTES = 1023;

/**
 * BASE_BACKUP with the PostgreSQL 15+ option list: TARGET 'client' streams every archive and the
 * manifest in one CopyOut; WAL appends the WAL needed for consistency to base.tar; WAIT true
 * waits until that WAL is complete; MANIFEST_CHECKSUMS 'CRC32C' puts a checksum per file in the
 * manifest.
 * https://www.postgresql.org/docs/17/protocol-replication.html#PROTOCOL-REPLICATION-BASE-BACKUP
 */
export function baseBackup(opts: BaseBackupCommandOptions): string {
  if (Buffer.byteLength(opts.label) > MAX_LABEL_BYTES) {
    throw new TypeError(`backup label is longer than ${MAX_LABEL_BYTES} bytes`);
  }
  const options = [
    `LABEL ${replicationLiteral(opts.label)}`,
    "PROGRESS",
    "CHECKPOINT 'fast'",
    "WAIT true",
    "MANIFEST 'yes'",
    "MANIFEST_CHECKSUMS 'CRC32C'",
    "WAL",
    "TARGET 'client'",
  ];
  if (opts.maxRate !== undefined) {
    if (!Number.isInteger(opts.maxRate) || opts.maxRate < 32 || opts.maxRate > 1048576) {
      throw new TypeError(
        `MAX_RATE must be an integer from 32 to 1048576 kB/s, got ${opts.maxRate}`,
      );
    }
    options.push(`MAX_RATE ${opts.maxRate}`);
  }
  return `BASE_BACKUP (${options.join(", ")})`;
}

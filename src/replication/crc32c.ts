// CRC-32C (Castagnoli): reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF.
// The checksum PostgreSQL uses for WAL records and for backup manifest entries with
// MANIFEST_CHECKSUMS 'CRC32C'. https://www.postgresql.org/docs/17/backup-manifest-files.html
// Slicing-by-8 tables: eight table lookups per 8 input bytes instead of one per byte.

const POLY = 0x82f63b78;
const TABLES = new Int32Array(8 * 256);

for (let i = 0; i < 256; i++) {
  let c = i;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
  TABLES[i] = c;
}
for (let t = 1; t < 8; t++) {
  for (let i = 0; i < 256; i++) {
    const prev = TABLES[(t - 1) * 256 + i]!;
    TABLES[t * 256 + i] = (prev >>> 8) ^ TABLES[prev & 0xff]!;
  }
}

/**
 * CRC-32C of `data`, continuing from `previous` (the CRC of the bytes before it, 0 to start):
 * crc32c(b, crc32c(a)) === crc32c(a ‖ b). Returns an unsigned 32-bit integer.
 */
export function crc32c(data: Uint8Array, previous = 0): number {
  const t = TABLES;
  let crc = ~previous;
  let i = 0;
  const n = data.length;
  const fast = n - (n % 8);
  while (i < fast) {
    const a = crc ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24));
    crc =
      t[1792 + (a & 0xff)]! ^
      t[1536 + ((a >>> 8) & 0xff)]! ^
      t[1280 + ((a >>> 16) & 0xff)]! ^
      t[1024 + (a >>> 24)]! ^
      t[768 + data[i + 4]!]! ^
      t[512 + data[i + 5]!]! ^
      t[256 + data[i + 6]!]! ^
      t[data[i + 7]!]!;
    i += 8;
  }
  while (i < n) {
    crc = (crc >>> 8) ^ t[(crc ^ data[i]!) & 0xff]!;
    i++;
  }
  return ~crc >>> 0;
}

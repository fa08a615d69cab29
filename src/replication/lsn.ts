// A WAL location (pg_lsn) as text: two hexadecimal 32-bit halves, "16/B374D848".
// https://www.postgresql.org/docs/17/datatype-pg-lsn.html

const LSN = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

export function isLsn(text: string): boolean {
  return LSN.test(text);
}

/** The LSN as a 64-bit byte position; throws RangeError on malformed text. */
export function parseLsn(text: string): bigint {
  const m = LSN.exec(text);
  if (!m) throw new RangeError(`not a WAL location: ${JSON.stringify(text)}`);
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

export function formatLsn(lsn: bigint): string {
  const hi = (lsn >> 32n).toString(16).toUpperCase();
  const lo = (lsn & 0xffffffffn).toString(16).toUpperCase();
  return `${hi}/${lo}`;
}

import { literal } from "./quote.js";

/** A physical slot that reserves WAL from now on. https://www.postgresql.org/docs/17/functions-admin.html */
export function createPhysicalSlot(name: string): string {
  return `SELECT pg_create_physical_replication_slot(${literal(name)}, true)`;
}

/** Ends recovery and waits (up to 60 s) until the server accepts writes. */
export const promote = "SELECT pg_promote(true, 60) AS promoted";

/** Drops a physical slot unless a standby is streaming from it at this moment. */
export function dropInactiveSlot(name: string): string {
  return `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = ${literal(name)} AND NOT active`;
}

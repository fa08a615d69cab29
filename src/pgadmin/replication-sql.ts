import { literal } from "./quote.js";

/** A physical slot that reserves WAL from now on. https://www.postgresql.org/docs/17/functions-admin.html */
export function createPhysicalSlot(name: string): string {
  return `SELECT pg_create_physical_replication_slot(${literal(name)}, true)`;
}

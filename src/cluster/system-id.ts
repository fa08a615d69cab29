import { open } from "node:fs/promises";
import { join } from "node:path";
import type { LocalNode } from "./local-node.js";
import { nodePaths } from "./paths.js";

/**
 * The database system identifier of a node's data directory, or null if it has none: the first
 * field of global/pg_control (a uint64 in the machine's byte order), the value
 * pg_control_system() and IDENTIFY_SYSTEM report. Read without starting the server.
 */
export async function dataSystemId(node: LocalNode): Promise<string | null> {
  try {
    const fh = await open(join(nodePaths(node).dataDir, "global", "pg_control"), "r");
    try {
      const buf = Buffer.alloc(8);
      const { bytesRead } = await fh.read(buf, 0, 8, 0);
      return bytesRead === 8 ? buf.readBigUInt64LE(0).toString() : null;
    } finally {
      await fh.close();
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}

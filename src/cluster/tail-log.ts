import { open } from "node:fs/promises";
import type { LocalNode } from "./local-node.js";
import { nodePaths } from "./paths.js";

/** The last `lines` lines of a text file, reading only its end; "" when it does not exist. */
export async function tailFile(file: string, lines: number): Promise<string> {
  if (lines <= 0) return "";
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(file, "r");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw e;
  }
  try {
    const { size } = await fh.stat();
    let chunk = 16 * 1024;
    for (;;) {
      const start = Math.max(0, size - chunk);
      const buf = Buffer.alloc(size - start);
      await fh.read(buf, 0, buf.length, start);
      const text = buf.toString("utf8");
      const all = text.replace(/\n$/, "").split("\n");
      if (all.length > lines || start === 0) {
        return all.slice(-lines).join("\n");
      }
      chunk *= 4;
    }
  } finally {
    await fh.close();
  }
}

/** The last lines of the node's server log (postgres.log). */
export function tailLog(node: LocalNode, lines = 50): Promise<string> {
  return tailFile(nodePaths(node).logFile, lines);
}

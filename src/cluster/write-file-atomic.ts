import { randomBytes } from "node:crypto";
import { chmod, chown, readFile, rename, rm, writeFile } from "node:fs/promises";
import type { ServerUser } from "./server-user.js";

export interface WriteOptions {
  mode: number;
  /** chown the file to this user; null keeps the current process user. */
  owner: ServerUser | null;
}

async function readIfExists(path: string): Promise<string | null> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}

/**
 * Writes through a temporary file and rename(2), so a server reading the file during a reload
 * sees either the old or the new content. Returns whether the content changed.
 */
export async function writeFileAtomic(
  path: string,
  content: string,
  opts: WriteOptions,
): Promise<boolean> {
  if ((await readIfExists(path)) === content) return false;
  const tmp = `${path}.dbmesh-${randomBytes(6).toString("hex")}`;
  try {
    await writeFile(tmp, content, { mode: opts.mode, flag: "wx" });
    await chmod(tmp, opts.mode);
    if (opts.owner) await chown(tmp, opts.owner.uid, opts.owner.gid);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  return true;
}

import { open } from "node:fs/promises";

export interface DurableWriteOptions {
  /** chown the file to this user. */
  readonly owner?: { readonly uid: number; readonly gid: number } | undefined;
  /** fsync the file before closing it. */
  readonly sync: boolean;
}

/** Creates or replaces `path` with mode 0600 (PostgreSQL data directory files). */
export async function writeFileDurable(
  path: string,
  content: string | Buffer,
  opts: DurableWriteOptions,
): Promise<void> {
  const fh = await open(path, "w", 0o600);
  try {
    await fh.chmod(0o600);
    if (opts.owner) await fh.chown(opts.owner.uid, opts.owner.gid);
    await fh.writeFile(content);
    if (opts.sync) await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsync a directory, so the entries created in it survive a crash. */
export async function syncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

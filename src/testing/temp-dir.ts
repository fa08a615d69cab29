import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A fresh directory under os.tmpdir(). mkdtemp creates it with mode 0700; it is opened to 0755
 * because when tests run as root the PostgreSQL servers run as an unprivileged user that must
 * traverse it.
 */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix.endsWith("-") ? prefix : `${prefix}-`));
  await chmod(dir, 0o755);
  return dir;
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

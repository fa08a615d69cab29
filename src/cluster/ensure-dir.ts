import { chmod, mkdir } from "node:fs/promises";
import { dirname, relative, sep } from "node:path";

/**
 * mkdir -p where every directory created is mode 0755 regardless of umask, so an unprivileged
 * server user can traverse it.
 */
export async function ensureDir(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true, mode: 0o755 });
  if (first === undefined) return;
  const created = [first];
  let current = first;
  for (const part of relative(first, dir)
    .split(sep)
    .filter((p) => p !== "")) {
    current = `${current}${sep}${part}`;
    created.push(current);
  }
  for (const d of created) await chmod(d, 0o755);
}

export function ancestors(dir: string): string[] {
  const out = [dir];
  let current = dir;
  while (dirname(current) !== current) {
    current = dirname(current);
    out.push(current);
  }
  return out.reverse();
}

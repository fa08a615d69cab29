import { realpath, stat } from "node:fs/promises";
import { ClusterError } from "./cluster-error.js";
import { ancestors } from "./ensure-dir.js";
import type { ServerUser } from "./server-user.js";

/**
 * Mode-bit check for search (x) permission as the kernel applies it to a process with only a
 * primary group: the owner bits when the uid matches, else the group bits when the gid matches,
 * else the other bits. Node drops supplementary groups (setgroups(0)) when spawning with uid/gid.
 * ACLs are not considered.
 */
function canSearch(st: { uid: number; gid: number; mode: number }, user: ServerUser): boolean {
  if (st.uid === user.uid) return (st.mode & 0o100) !== 0;
  if (st.gid === user.gid) return (st.mode & 0o010) !== 0;
  return (st.mode & 0o001) !== 0;
}

/** Fails with kind "dir-not-accessible" when the server user cannot reach `dir`. */
export async function assertTraversable(
  dir: string,
  user: ServerUser,
  node: string | undefined,
  purpose: string,
): Promise<void> {
  const real = await realpath(dir).catch(() => dir);
  const dirs = new Set([...ancestors(dir), ...ancestors(real)]);
  for (const d of dirs) {
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(d);
    } catch {
      continue;
    }
    if (!st.isDirectory()) continue;
    if (!canSearch(st, user)) {
      throw new ClusterError({
        kind: "dir-not-accessible",
        node,
        problem: `the ${purpose} ${dir} is not reachable by the server user "${user.name}" (uid ${user.uid}), which cannot enter ${d}; PostgreSQL refuses to run as root, so dbmesh runs servers as "${user.name}"`,
        hint: `run: chmod o+x ${d}`,
      });
    }
  }
}

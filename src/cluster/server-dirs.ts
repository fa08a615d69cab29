import { chown, lstat, mkdir, open, stat } from "node:fs/promises";
import type { PgBinaries } from "./binaries.js";
import { ClusterError } from "./cluster-error.js";
import { ensureDir } from "./ensure-dir.js";
import type { LocalNode } from "./local-node.js";
import type { NodePaths } from "./paths.js";
import type { ServerUser } from "./server-user.js";
import { assertTraversable } from "./traversable.js";

/** Creates stateDir and checks the server user can reach it and the binaries. */
export async function prepareStateDir(
  node: LocalNode,
  bins: PgBinaries,
  user: ServerUser | null,
): Promise<void> {
  await ensureDir(node.stateDir);
  if (!user) return;
  await assertTraversable(node.stateDir, user, node.name, "state directory");
  await assertTraversable(bins.binDir, user, node.name, "PostgreSQL bin directory");
}

/**
 * The socket directory must exist before the server starts and be writable by the server user.
 * A directory under a shared temp dir that someone else owns could be used to intercept
 * connections, so an existing one must be a real directory owned by the expected user.
 */
export async function prepareSocketDir(
  node: Pick<LocalNode, "name">,
  paths: Pick<NodePaths, "socketDir">,
  user: ServerUser | null,
): Promise<void> {
  const dir = paths.socketDir;
  const expectedUid = user ? user.uid : (process.getuid?.() ?? 0);
  try {
    await mkdir(dir, { mode: 0o755 });
    if (user) await chown(dir, user.uid, user.gid);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      await ensureDir(dir);
      if (user) await chown(dir, user.uid, user.gid);
    } else if ((e as NodeJS.ErrnoException).code !== "EEXIST") {
      throw e;
    }
  }
  const st = await lstat(dir);
  if (!st.isDirectory() || st.uid !== expectedUid) {
    throw new ClusterError({
      kind: "dir-not-accessible",
      node: node.name,
      problem: `socket directory ${dir} is not a directory owned by uid ${expectedUid}`,
      hint: `remove ${dir} and start the node again`,
    });
  }
  if (user) await assertTraversable(dir, user, node.name, "socket directory");
}

/** pg_ctl opens the log file as the server user, which cannot create files in stateDir. */
export async function prepareLogFile(
  paths: Pick<NodePaths, "logFile">,
  user: ServerUser | null,
): Promise<void> {
  if (!user) return;
  const fh = await open(paths.logFile, "a", 0o640);
  try {
    const st = await fh.stat();
    if (st.uid !== user.uid) await fh.chown(user.uid, user.gid);
  } finally {
    await fh.close();
  }
}

/** The server refuses a data directory it does not own; report it before pg_ctl does. */
export async function assertDataDirOwner(
  node: LocalNode,
  paths: NodePaths,
  user: ServerUser | null,
): Promise<void> {
  const st = await stat(paths.dataDir);
  const expected = user ? user.uid : (process.getuid?.() ?? 0);
  if (st.uid !== expected) {
    const name = user ? user.name : "the current user";
    throw new ClusterError({
      kind: "start-failed",
      node: node.name,
      problem: `data directory ${paths.dataDir} is owned by uid ${st.uid}, but the server runs as ${name} (uid ${expected})`,
      hint: `run: chown -R ${expected} ${paths.dataDir}, or run dbmesh as the user that created the node`,
    });
  }
}

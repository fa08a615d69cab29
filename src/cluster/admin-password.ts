import { randomBytes } from "node:crypto";
import { chmod, link, readFile, rm, stat, writeFile } from "node:fs/promises";
import { ClusterError } from "./cluster-error.js";
import { ensureDir } from "./ensure-dir.js";
import type { LocalNode } from "./local-node.js";
import { nodePaths } from "./paths.js";

async function readSecret(file: string): Promise<string | null> {
  try {
    const st = await stat(file);
    if ((st.mode & 0o077) !== 0) await chmod(file, 0o600);
    return (await readFile(file, "utf8")).trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}

/**
 * The admin superuser's password: the declared one, or from stateDir/admin.secret, created on first use: 32 random
 * bytes, base64url, mode 0600, owned by the user running dbmesh (not the server user).
 */
export async function adminPassword(
  node: Pick<LocalNode, "name" | "stateDir" | "adminPassword">,
): Promise<string> {
  if (node.adminPassword !== undefined) return node.adminPassword;
  const { secretFile } = nodePaths(node);
  let secret = await readSecret(secretFile);
  if (secret === null) {
    await ensureDir(node.stateDir);
    const fresh = randomBytes(32).toString("base64url");
    const tmp = `${secretFile}.${randomBytes(6).toString("hex")}`;
    // link(2) publishes the complete file or fails with EEXIST when another process won.
    try {
      await writeFile(tmp, `${fresh}\n`, { mode: 0o600, flag: "wx" });
      await chmod(tmp, 0o600);
      await link(tmp, secretFile);
      secret = fresh;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      secret = await readSecret(secretFile);
    } finally {
      await rm(tmp, { force: true });
    }
  }
  if (!secret) {
    throw new ClusterError({
      kind: "init-failed",
      node: node.name,
      problem: `${secretFile} is empty`,
      hint: "restore the admin password into it, or purge and re-create the node",
    });
  }
  return secret;
}

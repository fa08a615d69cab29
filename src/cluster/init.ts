import { randomBytes } from "node:crypto";
import { chmod, chown, mkdir, readdir, rename, rm, rmdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { adminPassword } from "./admin-password.js";
import { findBinaries, type PgBinaries } from "./binaries.js";
import { ClusterError } from "./cluster-error.js";
import { renderConf, renderNodeHba, writeConfigIn } from "./config-file.js";
import type { LocalNode } from "./local-node.js";
import { nodePaths } from "./paths.js";
import { runCommand } from "./run-command.js";
import { prepareStateDir } from "./server-dirs.js";
import { ensureServerUser, type ServerUser } from "./server-user.js";

export interface InitResult {
  created: boolean;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw e;
  }
}

/**
 * Creates the data directory with initdb (or keeps the existing one) and writes dbmesh.conf and
 * pg_hba.conf. Idempotent: an initialised data directory (with PG_VERSION) is only reconfigured.
 */
export async function initNode(node: LocalNode): Promise<InitResult> {
  const paths = nodePaths(node);
  if (node.adminUser === "" || node.adminUser.includes("\0")) {
    throw new ClusterError({
      kind: "config-invalid",
      node: node.name,
      problem: `admin user name ${JSON.stringify(node.adminUser)} is not valid`,
      hint: 'set a non-empty admin user such as "postgres"',
    });
  }
  // Invalid settings or hba lines fail here rather than after a full initdb.
  renderConf(node);
  renderNodeHba(node);
  const bins = await findBinaries(node.binaries);
  const user = await ensureServerUser();
  await prepareStateDir(node, bins, user);

  if (await exists(join(paths.dataDir, "PG_VERSION"))) {
    await writeConfigIn(node, paths.dataDir, user);
    return { created: false };
  }
  if (await exists(paths.dataDir)) {
    if ((await readdir(paths.dataDir)).length > 0) {
      throw new ClusterError({
        kind: "init-failed",
        node: node.name,
        problem: `${paths.dataDir} exists but is not an initialised PostgreSQL data directory (no PG_VERSION)`,
        hint: `move it away or remove it (rm -rf ${paths.dataDir}), then initialise again`,
      });
    }
    await rmdir(paths.dataDir);
  }

  // initdb works in a side directory that is renamed into place only after success, so a failed
  // or interrupted run never leaves a data directory that looks initialised.
  const tmpDir = `${paths.dataDir}.init-tmp`;
  await rm(tmpDir, { recursive: true, force: true });
  try {
    const password = await adminPassword(node);
    let result = await runInitdb(node, bins, user, tmpDir, password, "C.UTF-8");
    if (result.code !== 0 && /locale/i.test(result.output)) {
      result = await runInitdb(node, bins, user, tmpDir, password, "C");
    }
    if (result.code !== 0) {
      // initdb echoes failing statements, which can include ALTER USER ... PASSWORD.
      const output = result.output.split(password).join("********");
      const error = output
        .split("\n")
        .filter((l) => /\b(error|FATAL|PANIC):/.test(l))
        .at(-1);
      throw new ClusterError({
        kind: "init-failed",
        node: node.name,
        problem: `initdb failed (${result.signal ? `signal ${result.signal}` : `exit code ${result.code}`})${error ? `: ${error.trim()}` : ""}`,
        hint: "see the initdb output in the error detail",
        detail: output,
      });
    }
    await writeConfigIn(node, tmpDir, user);
    await rename(tmpDir, paths.dataDir);
  } catch (e) {
    await rm(tmpDir, { recursive: true, force: true });
    if (e instanceof ClusterError) throw e;
    throw new ClusterError({
      kind: "init-failed",
      node: node.name,
      problem: `could not initialise ${paths.dataDir}: ${(e as Error).message}`,
      hint: `check that ${node.stateDir} is writable and the PostgreSQL binaries in ${bins.binDir} run`,
      cause: e,
    });
  }
  return { created: true };
}

async function runInitdb(
  node: LocalNode,
  bins: PgBinaries,
  user: ServerUser | null,
  dir: string,
  password: string,
  locale: string,
) {
  await rm(dir, { recursive: true, force: true });
  // PostgreSQL requires the data directory to be owned by the server user with mode 0700 (or 0750).
  await mkdir(dir, { mode: 0o700 });
  await chmod(dir, 0o700);
  if (user) await chown(dir, user.uid, user.gid);

  // The password file must be readable by the server user; it lives only for the initdb run.
  const pwfile = join(node.stateDir, `.initdb-pw-${randomBytes(6).toString("hex")}`);
  await writeFile(pwfile, `${password}\n`, { mode: 0o600, flag: "wx" });
  try {
    await chmod(pwfile, 0o600);
    if (user) await chown(pwfile, user.uid, user.gid);
    const args = [
      "-D",
      dir,
      "-U",
      node.adminUser,
      `--pwfile=${pwfile}`,
      "--auth=scram-sha-256",
      "-E",
      "UTF8",
      `--locale=${locale}`,
    ];
    // --no-sync skips fsync of the new cluster's files: faster, but a crash soon after init can
    // leave it corrupt, so only tests opt in.
    if (process.env.DBMESH_FAST_INIT === "1") args.push("--no-sync");
    return await runCommand(bins.initdb, args, { user, cwd: node.stateDir, timeoutMs: 300_000 });
  } finally {
    await rm(pwfile, { force: true });
  }
}

import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { ClusterError } from "./cluster-error.js";
import type { LocalNode } from "./local-node.js";

export interface NodePaths {
  dataDir: string;
  logFile: string;
  secretFile: string;
  socketDir: string;
  /** The dbmesh-managed include file inside dataDir. */
  confFile: string;
}

export const CONF_FILE_NAME = "dbmesh.conf";

/**
 * Unix socket paths are limited by sizeof(sun_path) (108 bytes on Linux, 104 on BSD/macOS);
 * PostgreSQL refuses socket paths that do not fit. The socket file is named ".s.PGSQL.<port>".
 * https://www.postgresql.org/docs/current/runtime-config-connection.html#GUC-UNIX-SOCKET-DIRECTORIES
 */
const MAX_SOCKET_PATH_BYTES = 99;
const SOCKET_FILE_WORST_CASE = "/.s.PGSQL.65535";

function socketPathFits(dir: string): boolean {
  return Buffer.byteLength(dir + SOCKET_FILE_WORST_CASE) <= MAX_SOCKET_PATH_BYTES;
}

/** Socket directory for a node; a short per-node dir under the temp dir when stateDir is too long. */
export function socketDirFor(stateDir: string): { dir: string; short: boolean } {
  const preferred = join(stateDir, "socket");
  if (socketPathFits(preferred)) return { dir: preferred, short: false };
  const name = `dbmesh-${createHash("sha256").update(stateDir).digest("hex").slice(0, 16)}`;
  const underTmp = join(tmpdir(), name);
  return { dir: socketPathFits(underTmp) ? underTmp : join("/tmp", name), short: true };
}

export function nodePaths(node: Pick<LocalNode, "name" | "stateDir">): NodePaths {
  if (!isAbsolute(node.stateDir)) {
    throw new ClusterError({
      kind: "config-invalid",
      node: node.name,
      problem: `stateDir "${node.stateDir}" is not an absolute path`,
      hint: "pass an absolute state directory",
    });
  }
  const stateDir = resolve(node.stateDir);
  const dataDir = dataDirIn(stateDir);
  return {
    dataDir,
    logFile: join(stateDir, "postgres.log"),
    secretFile: join(stateDir, "admin.secret"),
    socketDir: socketDirFor(stateDir).dir,
    confFile: join(dataDir, CONF_FILE_NAME),
  };
}

/** Whether a node's data directory has been initialised (it holds PG_VERSION). */
export function hasData(node: Pick<LocalNode, "stateDir">): boolean {
  return existsSync(join(dataDirIn(resolve(node.stateDir)), "PG_VERSION"));
}

function dataDirIn(stateDir: string): string {
  return join(stateDir, "data");
}

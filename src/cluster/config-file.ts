import { appendFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import { ClusterError } from "./cluster-error.js";
import { renderHba } from "./hba-file.js";
import type { LocalNode } from "./local-node.js";
import { CONF_FILE_NAME, nodePaths } from "./paths.js";
import { ensureServerUser, type ServerUser } from "./server-user.js";
import { writeFileAtomic } from "./write-file-atomic.js";

export type ConfValue = string | number | boolean;

export const CONF_HEADER = "# managed by dbmesh: edit the topology file, not this file";
export const INCLUDE_LINE = `include_if_exists = '${CONF_FILE_NAME}'`;

/** Settings dbmesh derives from the node itself or that would move files out of its control. */
const MANAGED_SETTINGS: Readonly<Record<string, string>> = {
  listen_addresses: "set the node's host instead",
  port: "set the node's port instead",
  unix_socket_directories: "dbmesh chooses the socket directory",
  data_directory: "dbmesh manages the data directory",
  config_file: "dbmesh manages the configuration files",
  hba_file: "dbmesh manages pg_hba.conf",
  ident_file: "dbmesh manages the configuration files",
  include: "includes are not supported in settings",
  include_if_exists: "includes are not supported in settings",
  include_dir: "includes are not supported in settings",
};

/** Overridable by node.settings. */
const DEFAULT_SETTINGS: Readonly<Record<string, ConfValue>> = {
  password_encryption: "scram-sha-256",
  // The server log goes to stderr, which pg_ctl -l redirects to postgres.log.
  logging_collector: false,
  log_line_prefix: "%m [%p] ",
  log_connections: false,
  shared_buffers: "32MB",
  max_connections: 100,
};

function invalidSetting(node: string, problem: string, hint: string): ClusterError {
  return new ClusterError({ kind: "config-invalid", node, problem, hint });
}

/**
 * A value as written in postgresql.conf. Quoted strings use '' for a quote, and the parser also
 * treats backslash as an escape (\n, \t, \\, octal), so backslashes are doubled and newlines,
 * which may not appear raw inside a value, are written as \n.
 * https://www.postgresql.org/docs/current/config-setting.html#CONFIG-SETTING-CONFIGURATION-FILE
 */
export function quoteConfValue(value: ConfValue): string {
  if (typeof value === "boolean") return value ? "on" : "off";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError(`not a finite number: ${value}`);
    if (Number.isSafeInteger(value)) return String(value);
    return `'${value}'`;
  }
  if (value.includes("\0")) throw new TypeError("configuration values cannot contain NUL");
  const escaped = value
    .replace(/\\/g, "\\\\")
    .replace(/'/g, "''")
    .replace(/\n/g, "\\n")
    .replace(/\r/g, "\\r");
  return `'${escaped}'`;
}

/** GUC names are identifiers, optionally qualified with one dot (custom options); case-insensitive. */
const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;

/** The content of the dbmesh-managed include file. */
export function renderConf(node: LocalNode): string {
  const paths = nodePaths(node);
  if (!Number.isInteger(node.port) || node.port < 1 || node.port > 65535) {
    throw invalidSetting(node.name, `port ${node.port} is not a TCP port`, "use a port in 1-65535");
  }
  const merged = new Map<string, [string, ConfValue]>();
  for (const [key, value] of Object.entries(DEFAULT_SETTINGS)) merged.set(key, [key, value]);
  for (const [key, value] of Object.entries(node.settings)) {
    if (!SETTING_NAME.test(key)) {
      throw invalidSetting(
        node.name,
        `setting name ${JSON.stringify(key)} is not a valid PostgreSQL parameter name`,
        "fix the settings in the topology file",
      );
    }
    const lower = key.toLowerCase();
    const managed = MANAGED_SETTINGS[lower];
    if (managed !== undefined) {
      throw invalidSetting(node.name, `setting ${key} cannot be set in settings`, managed);
    }
    try {
      quoteConfValue(value);
    } catch (e) {
      throw invalidSetting(node.name, `setting ${key}: ${(e as Error).message}`, "fix its value");
    }
    merged.set(lower, [key, value]);
  }
  const lines = [
    CONF_HEADER,
    `listen_addresses = ${quoteConfValue(node.host)}`,
    `port = ${node.port}`,
    `unix_socket_directories = ${quoteConfValue(paths.socketDir)}`,
  ];
  for (const [key, value] of merged.values()) lines.push(`${key} = ${quoteConfValue(value)}`);
  return `${lines.join("\n")}\n`;
}

/** renderHba for a node, with the node named in validation errors. */
export function renderNodeHba(node: LocalNode): string {
  try {
    return renderHba(node.hba);
  } catch (e) {
    if (!(e instanceof ClusterError) || e.node !== undefined) throw e;
    throw new ClusterError({
      kind: e.kind,
      node: node.name,
      problem: e.problem,
      hint: e.hint,
      cause: e,
    });
  }
}

async function ensureInclude(dataDir: string): Promise<void> {
  const file = join(dataDir, "postgresql.conf");
  const text = await readFile(file, "utf8");
  if (text.split("\n").some((l) => l.trim() === INCLUDE_LINE)) return;
  // Later settings override earlier ones, so the include goes last.
  await appendFile(file, `${text.endsWith("\n") ? "" : "\n"}\n${INCLUDE_LINE}\n`);
}

/** Writes the include file, the include line and pg_hba.conf into a data directory. */
export async function writeConfigIn(
  node: LocalNode,
  dataDir: string,
  owner: ServerUser | null,
): Promise<{ changed: boolean }> {
  const conf = renderConf(node);
  const hba = renderNodeHba(node);
  await ensureInclude(dataDir);
  const opts = { mode: 0o600, owner };
  const confChanged = await writeFileAtomic(join(dataDir, CONF_FILE_NAME), conf, opts);
  const hbaChanged = await writeFileAtomic(join(dataDir, "pg_hba.conf"), hba, opts);
  return { changed: confChanged || hbaChanged };
}

async function isInitialised(dataDir: string): Promise<boolean> {
  try {
    await readFile(join(dataDir, "PG_VERSION"));
    return true;
  } catch {
    return false;
  }
}

/** Rewrites dbmesh.conf and pg_hba.conf; changed is true if either file's content changed. */
export async function writeConfig(node: LocalNode): Promise<{ changed: boolean }> {
  const { dataDir } = nodePaths(node);
  if (!(await isInitialised(dataDir))) {
    throw new ClusterError({
      kind: "init-failed",
      node: node.name,
      problem: `has no initialised data directory at ${dataDir}`,
      hint: "initialise the node before writing its configuration",
    });
  }
  return writeConfigIn(node, dataDir, await ensureServerUser());
}

/** The current pg_hba.conf text, or null when the node has no data directory. */
export async function readHba(node: LocalNode): Promise<string | null> {
  try {
    return await readFile(join(nodePaths(node).dataDir, "pg_hba.conf"), "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}

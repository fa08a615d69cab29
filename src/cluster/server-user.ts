import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { ClusterError } from "./cluster-error.js";

const execFileAsync = promisify(execFile);

export interface ServerUser {
  name: string;
  uid: number;
  gid: number;
}

export const SERVER_USER_NAME = "dbmesh";

let cached: Promise<ServerUser | null> | undefined;

/**
 * PostgreSQL refuses to run as root ("root" execution of the PostgreSQL server is not permitted),
 * so when dbmesh runs as root the servers run as an unprivileged system user.
 * https://www.postgresql.org/docs/current/postgres-user.html
 */
export function ensureServerUser(): Promise<ServerUser | null> {
  if (process.getuid?.() !== 0) return Promise.resolve(null);
  if (!cached) {
    cached = lookupOrCreate(SERVER_USER_NAME).catch((e: unknown) => {
      cached = undefined;
      throw e;
    });
  }
  return cached;
}

async function lookupOrCreate(name: string): Promise<ServerUser> {
  const existing = await lookupUser(name);
  if (existing) return existing;
  try {
    await execFileAsync(
      "useradd",
      ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
      { env: { ...process.env, PATH: `${process.env.PATH ?? ""}:/usr/sbin:/sbin` } },
    );
  } catch (e) {
    // useradd exits 9 when the name is already in use, e.g. created concurrently.
    const code = (e as { code?: unknown }).code;
    if (code !== 9) {
      const stderr = String((e as { stderr?: unknown }).stderr ?? "").trim();
      throw new ClusterError({
        kind: "user-failed",
        problem: `could not create the system user "${name}" that runs PostgreSQL when dbmesh runs as root`,
        hint: `create it yourself (useradd --system --no-create-home --shell /usr/sbin/nologin ${name}) or run dbmesh as a non-root user`,
        detail: stderr || String(e),
        cause: e,
      });
    }
  }
  const created = await lookupUser(name);
  if (!created) {
    throw new ClusterError({
      kind: "user-failed",
      problem: `system user "${name}" was created but cannot be looked up`,
      hint: `check that "getent passwd ${name}" prints it`,
    });
  }
  return created;
}

function parsePasswdLine(line: string, name: string): ServerUser | null {
  const fields = line.trim().split(":");
  if (fields[0] !== name || fields.length < 4) return null;
  const uid = Number(fields[2]);
  const gid = Number(fields[3]);
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) return null;
  return { name, uid, gid };
}

async function lookupUser(name: string): Promise<ServerUser | null> {
  try {
    const { stdout } = await execFileAsync("getent", ["passwd", name]);
    return parsePasswdLine(stdout, name);
  } catch (e) {
    // getent exits 2 when the key is not found.
    if ((e as { code?: unknown }).code === 2) return null;
  }
  const passwd = await readFile("/etc/passwd", "utf8").catch(() => "");
  for (const line of passwd.split("\n")) {
    const user = parsePasswdLine(line, name);
    if (user) return user;
  }
  return null;
}

import { spawn } from "node:child_process";
import type { ServerUser } from "./server-user.js";

export interface RunOptions {
  /** Run as this user (requires root); null or undefined runs as the current user. */
  user?: ServerUser | null;
  cwd?: string;
  /** Start the child in its own session so terminal signals sent to dbmesh do not reach it. */
  detached?: boolean;
  timeoutMs?: number;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr joined, trimmed, for error messages. */
  output: string;
}

const MAX_OUTPUT = 256 * 1024;

/**
 * The environment of initdb, pg_ctl and the servers they start: an allow-list, because the
 * caller's environment holds the secrets that `env:` references point at, and every variable
 * would otherwise be readable by the server (e.g. COPY … FROM PROGRAM 'env' as a superuser, or
 * /proc/PID/environ as the server user). PG* variables are left out too: dbmesh passes
 * everything explicitly. https://www.postgresql.org/docs/current/libpq-envars.html
 */
export function serverEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(PATH|LANG|LANGUAGE|LC_[A-Z]+|TZ|TZDIR|TMPDIR)$/.test(key)) env[key] = value;
  }
  return env;
}

export function runCommand(
  file: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: opts.cwd ?? "/",
      env: serverEnv(),
      stdio: ["ignore", "pipe", "pipe"],
      detached: opts.detached ?? false,
      ...(opts.user ? { uid: opts.user.uid, gid: opts.user.gid } : {}),
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let errLen = 0;
    child.stdout.on("data", (b: Buffer) => {
      if (outLen < MAX_OUTPUT) out.push(b);
      outLen += b.length;
    });
    child.stderr.on("data", (b: Buffer) => {
      if (errLen < MAX_OUTPUT) err.push(b);
      errLen += b.length;
    });
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs !== undefined) {
      timer = setTimeout(() => child.kill("SIGTERM"), opts.timeoutMs);
    }
    let settled = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      const stdout = Buffer.concat(out).toString("utf8");
      const stderr = Buffer.concat(err).toString("utf8");
      resolve({
        code,
        signal,
        stdout,
        stderr,
        output: [stdout.trim(), stderr.trim()].filter((s) => s !== "").join("\n"),
      });
    };
    child.on("error", (e) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      reject(e);
    });
    child.on("exit", (code, signal) => {
      // A grandchild that inherited the pipes keeps them open after the child exits, so the
      // pipes are drained for a short grace period only.
      const grace = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish(code, signal);
      }, 200);
      child.on("close", () => {
        clearTimeout(grace);
        finish(code, signal);
      });
    });
  });
}

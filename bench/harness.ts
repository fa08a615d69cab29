import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname } from "node:path";
import { localNode } from "../src/cli/mesh.js";
import type { Output } from "../src/cli/output.js";
import { purgeNode } from "../src/cluster/index.js";
import type { ApplyResult } from "../src/provision/index.js";
import type { Topology } from "../src/topology/index.js";

// What every benchmark here shares: a run that always cleans up (also on ^C), a failure that
// means the code under test is wrong, and results written beside the printed figures.

/** The code under test misbehaved while being measured: a bug to report, not a timing. */
export class BenchFailure extends Error {}
export class Interrupted extends Error {}

let interrupted = false;
/** Work that must finish before cleaning up (e.g. an initdb, so its node can be purged). */
let pending: Promise<unknown> | undefined;

/** Throws once SIGINT arrived, so the benchmark stops at its next step. */
export function checkInterrupt(): void {
  if (interrupted) throw new Interrupted("interrupted");
}

/** Runs `work` letting an interrupt wait for it before cleaning up. */
export async function uninterrupted<T>(work: Promise<T>): Promise<T> {
  pending = work;
  try {
    return await work;
  } finally {
    pending = undefined;
  }
}

export function out(s = ""): void {
  process.stdout.write(`${s}\n`);
}

/** Writes the figures as JSON and says where, with the load the run ended under. */
export function writeResults(file: string, results: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  out(`load average (1 min) at the end: ${loadavg()[0]!.toFixed(2)}`);
  out(`\nwrote ${file}`);
}

/**
 * Runs a benchmark and exits with its code: 130 when interrupted, 1 when it failed. `cleanUp`
 * runs in every case; a second ^C gives up at once.
 */
export async function runBenchmark(opts: {
  main: () => Promise<number>;
  cleanUp: () => Promise<void>;
  /** Stops what is running right now (a backup, a child process) on ^C. */
  onInterrupt?: () => void;
  cleaning: string;
}): Promise<never> {
  process.on("SIGINT", () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write(`\ninterrupted: ${opts.cleaning}\n`);
    opts.onInterrupt?.();
    void (async () => {
      await pending?.catch(() => {});
      await opts.cleanUp();
      process.exit(130);
    })();
  });
  let code = 1;
  try {
    code = await opts.main();
  } catch (e) {
    code = interrupted || e instanceof Interrupted ? 130 : 1;
    if (code === 130) {
      // the SIGINT handler reports and cleans up
    } else if (e instanceof BenchFailure) {
      process.stderr.write(`\nbenchmark failed: ${e.message}\n`);
    } else {
      process.stderr.write(`\nbenchmark failed: ${(e as Error).stack ?? String(e)}\n`);
    }
  } finally {
    out(`\n${opts.cleaning}`);
    await opts.cleanUp();
  }
  process.exit(code);
}

/** An Output that collects startNodes' lines, and stops at the next node after an interrupt. */
export function quietOutput(lines: string[]): Output {
  return {
    json: false,
    line: (text) => {
      if (text === undefined) return;
      lines.push(text);
      // startNodes reports each node when it is up: stop there rather than init the next one.
      checkInterrupt();
    },
    data: () => {},
  };
}

/** Throws when an apply failed a step or reported a problem, listing them. */
export function checkConverged(what: string, res: ApplyResult): void {
  if (!res.failures.length && !res.problems.length) return;
  throw new BenchFailure(
    [
      `${what} did not converge: ${res.failures.length} failed, ${res.problems.length} problems`,
      ...res.failures.map((f) => `  failure on ${f.node}: ${f.error} (${f.hint})`),
      ...res.problems.map((p) => `  problem on ${p.node}: ${p.message} (${p.hint})`),
    ].join("\n"),
  );
}

/** Stops and deletes every node of a topology; a node that fails is reported, not thrown. */
export async function purgeNodes(t: Topology): Promise<void> {
  const purged = await Promise.allSettled(
    [...t.nodes.values()].map((n) => purgeNode(localNode(t, n))),
  );
  for (const p of purged)
    if (p.status === "rejected") process.stderr.write(`cleanup: ${(p.reason as Error).message}\n`);
}

export async function timed<T>(f: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await f();
  return { ms: performance.now() - t0, value };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function round(x: number, digits = 2): number {
  return Math.round(x * 10 ** digits) / 10 ** digits;
}

/** Milliseconds as printed: whole from 100 up, one decimal below. */
export function ms(x: number): string {
  return x >= 100 ? x.toFixed(0) : x.toFixed(1);
}

/** A rate as printed: whole, with thousands separators. */
export function perSec(x: number): string {
  return Math.round(x).toLocaleString("en-US");
}

/** Rows as aligned columns: the first left-aligned, the figures right-aligned. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
        .join("   ")
        .trimEnd(),
    )
    .join("\n");
}

/** An integer setting from the environment (e.g. BENCH_SECONDS); exits 2 when malformed. */
export function intEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`${name}=${raw} is not an integer >= ${min}\n`);
    process.exit(2);
  }
  return n;
}

/** The command `run` is waiting for, if any. */
let child: ChildProcess | undefined;

/** Sends `signal` to the command `run` is waiting for, if any (on ^C and when cleaning up). */
export function stopRunning(signal: NodeJS.Signals = "SIGTERM"): void {
  child?.kill(signal);
}

export interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  timedOut: boolean;
}

/** Runs a command to its end (or `timeoutMs`, then SIGINT); its output is collected or shown. */
export function run(
  file: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; inherit?: boolean; timeoutMs?: number } = {},
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const c = spawn(file, args, {
      cwd: "/",
      env: opts.env ?? process.env,
      stdio: opts.inherit ? "inherit" : ["ignore", "pipe", "pipe"],
    });
    child = c;
    let output = "";
    let timedOut = false;
    const collect = (b: Buffer) => {
      if (output.length < 64 * 1024) output += b.toString("utf8");
    };
    c.stdout?.on("data", collect);
    c.stderr?.on("data", collect);
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            c.kill("SIGINT");
            setTimeout(() => c.kill("SIGKILL"), 5000).unref();
          }, opts.timeoutMs);
    c.once("error", (e) => {
      clearTimeout(timer);
      child = undefined;
      reject(e);
    });
    c.once("close", (code, signal) => {
      clearTimeout(timer);
      child = undefined;
      resolve({ code, signal, output: output.trim(), timedOut });
    });
  });
}

/**
 * `apt-get update`, then `apt-get install -y` of `packages`, as root and non-interactively;
 * answers apt-get install's exit code. Name only what is missing: naming an installed package
 * would upgrade it under running servers.
 */
export async function aptInstall(packages: readonly string[]): Promise<number | null> {
  if (process.getuid?.() !== 0) {
    throw new BenchFailure(
      `${packages.join(", ")} not installed; run as root to have them installed, or: sudo apt-get install -y ${packages.join(" ")}`,
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  out(`installing ${packages.join(", ")} with apt-get…`);
  await uninterrupted(run("apt-get", ["update"], { env, inherit: true }));
  checkInterrupt();
  const r = await uninterrupted(
    run("apt-get", ["install", "-y", ...packages], { env, inherit: true }),
  );
  checkInterrupt();
  return r.code;
}

import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { MeshFixture } from "./mesh-fixture.js";

const bin = join(fileURLToPath(new URL("../../../", import.meta.url)), "bin", "dbmesh.js");

/** `dbmesh serve` for a fixture's file, as a child process, once it says it listens. */
export interface Served {
  /** What it printed so far (stdout and stderr). */
  output(): string;
  /** SIGTERM, then its exit code. */
  stop(): Promise<number | null>;
}

export async function serve(m: MeshFixture): Promise<Served> {
  const child = spawn(process.execPath, [bin, "-f", m.file, "serve"], {
    env: { ...process.env, ...m.env },
    cwd: m.dir,
  });
  let text = "";
  child.stdout.on("data", (d: Buffer) => {
    text += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    text += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  for (let i = 0; i < 600 && !/listening on/.test(text) && child.exitCode === null; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!/listening on/.test(text)) {
    child.kill("SIGKILL");
    throw new Error(`dbmesh serve did not start:\n${text}`);
  }
  return {
    output: () => text,
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

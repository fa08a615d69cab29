import { execFile } from "node:child_process";
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { enableFastInit } from "./fast-init.js";
import { freePorts } from "./free-port.js";
import { removeDir, tempDir } from "./temp-dir.js";
import { textRows } from "./text-rows.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const bin = join(root, "bin", "dbmesh.js");

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A topology file in its own temp directory, driven through the real `dbmesh` command. */
export interface MeshFixture {
  readonly dir: string;
  readonly file: string;
  readonly ports: readonly number[];
  readonly env: Record<string, string>;
  /** Runs `dbmesh -f FILE ...args` as a user would. */
  run(...args: string[]): Promise<RunResult>;
  /** A connection as `user` (password from `env`, or the node's admin secret when omitted). */
  connect(port: number, database: string, user?: string, password?: string): Promise<pg.Client>;
  /** Rows of one query, every value as text. */
  rows(
    port: number,
    database: string,
    sql: string,
    user?: string,
    password?: string,
  ): Promise<string[][]>;
  rewrite(edit: (text: string) => string): void;
  /** `down --purge` and remove the directory. */
  destroy(): Promise<void>;
}

/**
 * Writes `yaml(ports)` as dbmesh.yaml in a fresh directory with `files` beside it.
 * Passwords are env references; `env` holds their values for the spawned commands.
 */
export async function meshFixture(opts: {
  name: string;
  ports: number;
  yaml: (ports: readonly number[]) => string;
  files?: Record<string, string>;
  env?: Record<string, string>;
}): Promise<MeshFixture> {
  enableFastInit();
  const dir = await tempDir(`dbmesh-${opts.name}`);
  const ports = await freePorts(opts.ports);
  const file = join(dir, "dbmesh.yaml");
  writeFileSync(file, opts.yaml(ports));
  for (const [name, src] of Object.entries(opts.files ?? {})) copyFileSync(src, join(dir, name));
  const env = { ...(opts.env ?? {}) };
  // A standby's admin password is its primary's: follow replicaOf to a node with a secret.
  const adminSecret = (port: number) => {
    const lines = [...readFileSync(file, "utf8").matchAll(/^ {2}(\S[^:]*):(.*port: (\d+).*)$/gm)];
    let line = lines.find((m) => Number(m[3]) === port);
    for (let hops = 0; line && hops < lines.length; hops++) {
      const secret = join(dir, ".dbmesh", line[1]!, "admin.secret");
      if (existsSync(secret)) return readFileSync(secret, "utf8").trim();
      const up = line[2]!.match(/replicaOf: ([^,}\s]+)/)?.[1];
      line = lines.find((m) => m[1] === up);
    }
    throw new Error(`no admin secret for the node on port ${port}`);
  };
  const fixture: MeshFixture = {
    dir,
    file,
    ports,
    env,
    run: (...args) =>
      new Promise((resolve) => {
        execFile(
          process.execPath,
          [bin, "-f", file, ...args],
          { env: { ...process.env, ...env }, cwd: dir, timeout: 240_000 },
          (error, stdout, stderr) => {
            const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
            resolve({ code, stdout, stderr });
          },
        );
      }),
    connect: async (port, database, user, password) => {
      const client = new pg.Client({
        host: "127.0.0.1",
        port,
        database,
        user: user ?? "postgres",
        password: password ?? (user ? env[`${user.toUpperCase()}_PASSWORD`] : adminSecret(port)),
      });
      await client.connect();
      return client;
    },
    rows: async (port, database, sql, user, password) => {
      const c = await fixture.connect(port, database, user, password);
      try {
        return await textRows(c, sql);
      } finally {
        await c.end();
      }
    },
    rewrite: (edit) => writeFileSync(file, edit(readFileSync(file, "utf8"))),
    destroy: async () => {
      await fixture.run("down", "--purge");
      await removeDir(dir);
    },
  };
  return fixture;
}

/** An example under examples/ on free ports, with its SQL files, passwords in the environment. */
export async function exampleFixture(
  name: string,
  example: string,
  env: Record<string, string>,
): Promise<MeshFixture> {
  const dir = join(root, "examples", example);
  const text = readFileSync(join(dir, "dbmesh.yaml"), "utf8");
  // Node ports (`port: N`) and listen addresses (`listen: HOST:N`), in the file's order.
  const declared = [...text.matchAll(/port: (\d+)|listen: [^\s:,}]+:(\d+)/g)].map((m) => m[0]!);
  const files = Object.fromEntries(
    readdirSync(dir)
      .filter((f) => f.endsWith(".sql"))
      .map((f) => [f, join(dir, f)]),
  );
  return meshFixture({
    name,
    ports: declared.length,
    yaml: (ports) =>
      declared.reduce((y, p, i) => y.replace(p, p.replace(/\d+$/, String(ports[i]))), text),
    files,
    env,
  });
}

/** The scott example (examples/scott) on free ports, with passwords in the environment. */
export function scottFixture(name: string): Promise<MeshFixture> {
  return exampleFixture(name, "scott", {
    PABLO1_PASSWORD: "pablo1 'secret' \\ one",
    PABLO2_PASSWORD: "pablo2-secret-two",
  });
}

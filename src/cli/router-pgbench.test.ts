import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { type MeshFixture, meshFixture, type Served, serve } from "../testing/index.js";

// pgbench through `dbmesh serve` in transaction mode, more clients than server connections:
// simple, extended and named prepared statements, the TPC-B-like script's writes included.
const PGBENCH = "/usr/lib/postgresql/15/bin/pgbench";
const skip = existsSync(PGBENCH) ? false : `${PGBENCH} is missing (apt-get install postgresql-15)`;

function pgbench(port: number, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      PGBENCH,
      ["-h", "127.0.0.1", "-p", String(port), "-U", "bench", ...args, "bench"],
      { env: { ...process.env, PGPASSWORD: "bench-pw" }, timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, out: stdout + stderr });
      },
    );
  });
}

describe("pgbench through the router", { skip }, () => {
  let m: MeshFixture;
  let served: Served | undefined;
  before(async () => {
    m = await meshFixture({
      name: "pgbench",
      ports: 2,
      yaml: ([node, router]) => `version: 1
nodes:
  main: { port: ${node} }
roles:
  bench: { password: env:BENCH_PASSWORD, nodes: [main] }
databases:
  bench: { node: main, owner: bench }
router: { listen: 127.0.0.1:${router}, poolSize: 3 }
`,
      env: { BENCH_PASSWORD: "bench-pw" },
    });
    const up = await m.run("up");
    assert.equal(up.code, 0, up.stdout + up.stderr);
    served = await serve(m);
    const init = await pgbench(m.ports[1]!, ["-i", "-s", "1", "-q"]);
    assert.equal(init.code, 0, init.out);
  });
  after(async () => {
    await served?.stop();
    await m?.destroy();
  });

  for (const protocol of ["simple", "extended", "prepared"]) {
    test(`TPC-B-like and select-only, 8 clients on 3 server connections, -M ${protocol}`, async () => {
      for (const script of [[], ["-S"]]) {
        // -M prepared: pgbench prepares each statement with a blocking PQprepare, so a thread
        // that shares clients would wait for a pool connection its own other clients hold.
        const threads = protocol === "prepared" ? "8" : "2";
        const args = ["-M", protocol, "-c", "8", "-j", threads, "-t", "50", "-n"];
        const r = await pgbench(m.ports[1]!, [...script, ...args]);
        assert.equal(r.code, 0, r.out);
        assert.match(r.out, /number of transactions actually processed: 400\/400/);
        assert.match(r.out, /number of failed transactions: 0 /);
      }
    });
  }

  test("the writes landed: one history row per TPC-B-like transaction", async () => {
    const [[rows] = []] = await m.rows(
      m.ports[0]!,
      "bench",
      "SELECT count(*) FROM pgbench_history",
      "bench",
      "bench-pw",
    );
    assert.equal(rows, String(3 * 400));
  });
});

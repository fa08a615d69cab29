import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { type MeshFixture, meshFixture } from "../testing/index.js";

// `dbmesh serve` as a user runs it: TLS towards clients, SIGHUP reloads the file without
// dropping anyone, SIGTERM tells connected clients (57P01) and exits 0.

const bin = fileURLToPath(new URL("../../../bin/dbmesh.js", import.meta.url));
const env = { APP_PASSWORD: "app-pw", LATE_PASSWORD: "late-pw" };

describe("dbmesh serve", () => {
  let m: MeshFixture;
  let child: ChildProcess | undefined;
  let stderr = "";
  let routerPort = 0;

  const yaml = (withLate: boolean) => (ports: readonly number[]) =>
    `version: 1
nodes:
  main: { port: ${ports[0]} }
roles:
  app: { password: env:APP_PASSWORD, nodes: [main] }
${withLate ? "  late: { password: env:LATE_PASSWORD, nodes: [main] }\n" : ""}databases:
  appdb: { node: main, owner: app }
${withLate ? "  latedb: { node: main, owner: late }\n" : ""}router: { listen: 127.0.0.1:${ports[1]}, tls: { cert: cert.pem, key: key.pem } }
`;

  function client(user = "app", ssl: pg.ClientConfig["ssl"] = false): pg.Client {
    const c = new pg.Client({
      host: "127.0.0.1",
      port: routerPort,
      user,
      database: user === "app" ? "appdb" : "latedb",
      password: user === "app" ? env.APP_PASSWORD : env.LATE_PASSWORD,
      ssl,
    });
    c.on("error", () => {});
    return c;
  }

  async function waitFor(pattern: RegExp, stream: () => string): Promise<void> {
    for (let i = 0; i < 600 && !pattern.test(stream()); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(stream(), pattern);
  }

  before(async () => {
    m = await meshFixture({ name: "serve", ports: 2, yaml: yaml(false), env });
    routerPort = m.ports[1]!;
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-days",
        "1",
        "-keyout",
        join(m.dir, "key.pem"),
        "-out",
        join(m.dir, "cert.pem"),
      ],
      { stdio: "ignore" },
    );
    const up = await m.run("up");
    assert.equal(up.code, 0, up.stdout + up.stderr);
    let stdout = "";
    child = spawn(process.execPath, [bin, "-f", m.file, "serve"], {
      env: { ...process.env, ...env },
      cwd: m.dir,
    });
    child.stdout!.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    await waitFor(/listening on 127\.0\.0\.1:\d+/, () => stdout);
  });
  after(async () => {
    if (child && child.exitCode === null) child.kill("SIGKILL");
    await m?.destroy();
  });

  test("clients connect with and without TLS", async () => {
    const plain = client();
    await plain.connect();
    const tls = client("app", { rejectUnauthorized: false });
    await tls.connect();
    try {
      assert.equal((await plain.query("SELECT 1 AS one")).rows[0].one, 1);
      assert.equal((await tls.query("SELECT 2 AS two")).rows[0].two, 2);
      const socket = (tls as unknown as { connection: { stream: { encrypted?: boolean } } })
        .connection.stream;
      assert.equal(socket.encrypted, true);
    } finally {
      await plain.end();
      await tls.end();
    }
    const psql = ["/usr/lib/postgresql/15/bin/psql", "/usr/bin/psql"].find((p) => existsSync(p));
    if (psql) {
      const info = execFileSync(
        psql,
        [
          "-X",
          "-h",
          "127.0.0.1",
          "-p",
          String(routerPort),
          "-U",
          "app",
          "-d",
          "appdb",
          "-c",
          "\\conninfo",
        ],
        { env: { ...process.env, PGPASSWORD: env.APP_PASSWORD, PGSSLMODE: "require" } },
      ).toString();
      assert.match(info, /SSL connection/);
    }
  });

  test("SIGHUP: a role and a database added to the file are served, connected clients stay", async () => {
    const before = client();
    await before.connect();
    try {
      await assert.rejects(client("late").connect(), { code: "28000" });
      m.rewrite(() => yaml(true)(m.ports));
      const apply = await m.run("apply");
      assert.equal(apply.code, 0, apply.stdout + apply.stderr);
      child!.kill("SIGHUP");
      await waitFor(/reloaded \(SIGHUP\)/, () => stderr);
      const late = client("late");
      await late.connect();
      assert.equal((await late.query("SELECT current_user AS u")).rows[0].u, "late");
      await late.end();
      assert.equal((await before.query("SELECT 3 AS three")).rows[0].three, 3);
    } finally {
      await before.end();
    }
  });

  test("SIGTERM: connected clients get 57P01 and the command exits 0", async () => {
    const c = client();
    await c.connect();
    await c.query("SELECT 1");
    const told = new Promise<string | undefined>((resolve) => {
      c.removeAllListeners("error");
      c.on("error", (e: Error) => resolve((e as pg.DatabaseError).code));
      c.on("end", () => resolve(undefined));
    });
    const exited = new Promise<number | null>((resolve) => child!.on("exit", resolve));
    child!.kill("SIGTERM");
    assert.equal(await told, "57P01");
    assert.equal(await exited, 0);
  });
});

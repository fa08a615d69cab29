import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, writeFileSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { ensureServerUser } from "../cluster/index.js";
import { serialize } from "../protocol/index.js";
import { freePort, type MeshFixture, meshFixture } from "../testing/index.js";
import { loadTopology } from "../topology/index.js";
import { classifierRouting } from "./classifier-routing.js";
import { Router } from "./router.js";
import { routerConfig } from "./router-config.js";
import { WireClient } from "./wire-client.test-helper.js";

// router.nodeTls on real servers: two nodes with ssl = on, their certificates (for 127.0.0.1)
// signed by two different CAs, and one node without TLS. What each mode does is read back
// from pg_stat_ssl on the node, through a client of the router.

const env = { APP_PASSWORD: "app-Secret-1" };
const SSL_OF_SESSION = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()";

describe("router: TLS towards the nodes (router.nodeTls)", () => {
  let m: MeshFixture;

  before(async () => {
    m = await meshFixture({
      name: "node-tls",
      ports: 3,
      env,
      yaml: ([secure, other, plain]) => `version: 1
nodes:
  secure: { port: ${secure}, settings: { ssl: "on", ssl_cert_file: "@DIR@/secure.pem", ssl_key_file: "@DIR@/secure.key" } }
  other: { port: ${other}, settings: { ssl: "on", ssl_cert_file: "@DIR@/other.pem", ssl_key_file: "@DIR@/other.key" } }
  plain: { port: ${plain} }
roles:
  app: { password: env:APP_PASSWORD, nodes: [secure, other, plain] }
databases:
  securedb: { node: secure, owner: app }
  otherdb: { node: other, owner: app }
  plaindb: { node: plain, owner: app }
router: { listen: 127.0.0.1:1 }
`,
    });
    m.rewrite((text) => text.replaceAll("@DIR@", m.dir));
    const user = await ensureServerUser();
    for (const [node, ca] of [
      ["secure", "ca-a"],
      ["other", "ca-b"],
    ] as const) {
      certificate(m.dir, ca, node);
      // PostgreSQL reads the key only when its owner is the server's user and nobody else can.
      // https://www.postgresql.org/docs/17/ssl-tcp.html#SSL-SETUP
      if (user) chownSync(join(m.dir, `${node}.key`), user.uid, user.gid);
      chmodSync(join(m.dir, `${node}.key`), 0o600);
    }
    const up = await m.run("up");
    assert.equal(up.code, 0, up.stdout + up.stderr);
  });
  after(async () => {
    await m?.destroy();
  });

  /** A router (with the classifier and health checks, as `dbmesh serve`) for `nodeTls`. */
  async function serving(
    nodeTls: string,
    run: (port: number, log: readonly string[]) => Promise<void>,
    withRouting = true,
    /** Ports server connections use instead of the nodes' own, by node. */
    via: Record<string, number> = {},
  ): Promise<void> {
    const port = await freePort();
    m.rewrite((text) =>
      text.replace(/^router: .*$/m, `router: { listen: 127.0.0.1:${port}, nodeTls: ${nodeTls} }`),
    );
    Object.assign(process.env, env);
    const declared = routerConfig(loadTopology(m.file));
    const config = {
      ...declared,
      nodes: new Map(
        [...declared.nodes].map(([name, n]) => [
          name,
          via[name] === undefined ? n : { ...n, port: via[name] },
        ]),
      ),
    };
    const log: string[] = [];
    const push = (line: string) => log.push(line);
    const router = new Router(config, {
      log: push,
      ...(withRouting ? { routing: await classifierRouting(config, { log: push }) } : {}),
    });
    await router.start();
    try {
      await run(port, log);
    } finally {
      await router.stop();
    }
  }

  async function sslOf(port: number, database: string, sql = SSL_OF_SESSION): Promise<unknown[]> {
    const c = new pg.Client({
      host: "127.0.0.1",
      port,
      user: "app",
      database,
      password: env.APP_PASSWORD,
    });
    c.on("error", () => {});
    await c.connect();
    try {
      return (await c.query<{ ssl: unknown }>(sql)).rows.map((r) => r.ssl);
    } finally {
      await c.end();
    }
  }

  /** The error a client of the router gets for a query on `database`. */
  async function failureOf(port: number, database: string): Promise<pg.DatabaseError> {
    try {
      await sslOf(port, database);
    } catch (e) {
      return e as pg.DatabaseError;
    }
    return assert.fail(`a query on ${database} succeeded`);
  }

  test("require: server connections and health checks are encrypted; a node without TLS is refused with the fix", async () => {
    await serving("{ mode: require }", async (port, log) => {
      assert.deepEqual(await sslOf(port, "securedb"), [true]);
      assert.deepEqual(await sslOf(port, "otherdb"), [true]);
      const health = await sslOf(
        port,
        "securedb",
        "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'dbmesh router health'",
      );
      assert.deepEqual(health, [true]);
      const e = await failureOf(port, "plaindb");
      assert.match(e.code ?? "", /^08/);
      assert.match(
        e.message,
        /node plain does not accept TLS: set ssl = on on it, or router\.nodeTls\.mode: prefer/,
      );
      // The catalog loader connected over TLS too.
      assert.ok(
        !log.some((l) => /volatility of database (secure|other)db/.test(l)),
        log.join("\n"),
      );
    });
  });

  test("require without health checks: the server connection itself refuses the plain node (08001)", async () => {
    await serving(
      "{ mode: require }",
      async (port) => {
        const e = await failureOf(port, "plaindb");
        assert.equal(e.code, "08001");
        assert.equal(
          e.message,
          "node plain does not accept TLS: set ssl = on on it, or router.nodeTls.mode: prefer",
        );
        assert.deepEqual(await sslOf(port, "securedb"), [true]);
      },
      false,
    );
  });

  test("prefer: TLS where the node has it, plain text where it does not", async () => {
    await serving("{ mode: prefer }", async (port) => {
      assert.deepEqual(await sslOf(port, "securedb"), [true]);
      assert.deepEqual(await sslOf(port, "plaindb"), [false]);
    });
  });

  test("a cancel request goes to the node inside TLS (require), in plain text after the node's N (prefer)", async () => {
    const cancelCode = serialize.cancelRequest(0, 0).subarray(0, 8);
    const sslRequest = serialize.sslRequest();
    for (const [mode, database, nodePort, node] of [
      ["require", "securedb", m.ports[0]!, "secure"],
      ["prefer", "plaindb", m.ports[2]!, "plain"],
    ] as const) {
      const r = await relay(nodePort);
      try {
        await serving(
          `{ mode: ${mode} }`,
          async (port) => {
            const connect = async (application_name: string) => {
              const c = new pg.Client({
                host: "127.0.0.1",
                port,
                user: "app",
                database,
                password: env.APP_PASSWORD,
                application_name,
              });
              c.on("error", () => {});
              await c.connect();
              return c;
            };
            const c = await connect("to be cancelled");
            const watcher = await connect("watcher");
            try {
              const done = c.query("SELECT pg_sleep(60)").then(
                () => undefined,
                (e: pg.DatabaseError) => e,
              );
              const sleeping = async () =>
                (
                  await watcher.query(
                    "SELECT 1 FROM pg_stat_activity WHERE state = 'active' AND query = 'SELECT pg_sleep(60)'",
                  )
                ).rowCount === 1;
              while (!(await sleeping())) await new Promise((resolve) => setImmediate(resolve));
              const opened = r.streams.length;
              const { processID, secretKey } = c as unknown as {
                processID: number;
                secretKey: number;
              };
              const cancel = await WireClient.open(port);
              cancel.socket.end(serialize.cancelRequest(processID, secretKey));
              assert.equal((await done)?.code, "57014", mode);
              // The connection the router opened for the cancel request, as the node got it.
              const sent = r.streams.slice(opened);
              assert.equal(sent.length, 1, mode);
              const bytes = Buffer.concat(sent[0]!);
              assert.deepEqual(bytes.subarray(0, 8), sslRequest, mode);
              if (mode === "require") {
                assert.equal(bytes.indexOf(cancelCode), -1, "a CancelRequest in plain text");
              } else {
                assert.equal(bytes.length, 8 + 16, node);
                assert.deepEqual(bytes.subarray(8, 16), cancelCode, node);
              }
            } finally {
              await c.end();
              await watcher.end();
            }
          },
          false,
          { [node]: r.port },
        );
      } finally {
        r.close();
      }
    }
  });

  test("verify-full and verify-ca with the CA that signed the node's certificate", async () => {
    await serving(`{ mode: verify-full, ca: ca-a.pem }`, async (port) => {
      assert.deepEqual(await sslOf(port, "securedb"), [true]);
    });
    await serving(`{ mode: verify-ca, ca: ca-b.pem }`, async (port) => {
      assert.deepEqual(await sslOf(port, "otherdb"), [true]);
    });
  });

  test("verify-full with another CA: that node's clients get a connection error naming it, other databases are served", async () => {
    await serving(`{ mode: verify-full, ca: ca-b.pem }`, async (port) => {
      const e = await failureOf(port, "securedb");
      assert.match(e.code ?? "", /^08/);
      assert.match(e.message, /TLS with node secure failed \(router\.nodeTls\.mode: verify-full\)/);
      assert.match(e.message, /router\.nodeTls\.ca/);
      assert.deepEqual(await sslOf(port, "otherdb"), [true]);
    });
    await serving(
      `{ mode: verify-full, ca: ca-b.pem }`,
      async (port) => {
        const e = await failureOf(port, "securedb");
        assert.equal(e.code, "08001");
        assert.match(
          e.message,
          /^TLS with node secure failed \(router\.nodeTls\.mode: verify-full\)/,
        );
        assert.deepEqual(await sslOf(port, "otherdb"), [true]);
      },
      false,
    );
  });
});

/**
 * A TCP relay on a free port to `target` on 127.0.0.1, keeping what each connection sent towards
 * the target (a chunk is kept before it is passed on).
 */
async function relay(
  target: number,
): Promise<{ port: number; streams: Buffer[][]; close: () => void }> {
  const streams: Buffer[][] = [];
  const sockets = new Set<Socket>();
  const server = createServer((from) => {
    const sent: Buffer[] = [];
    streams.push(sent);
    const to = connect({ host: "127.0.0.1", port: target });
    for (const s of [from, to]) {
      sockets.add(s);
      s.on("error", () => {
        from.destroy();
        to.destroy();
      });
      s.on("close", () => sockets.delete(s));
    }
    from.on("data", (chunk: Buffer) => {
      sent.push(chunk);
      to.write(chunk);
    });
    to.on("data", (chunk: Buffer) => from.write(chunk));
    from.on("end", () => to.end());
    to.on("end", () => from.end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    streams,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/** `dir/NODE.pem` and `dir/NODE.key` for 127.0.0.1, signed by `dir/CA.pem` (made if missing). */
function certificate(dir: string, ca: string, node: string): void {
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(
    "req",
    "-x509",
    ...ec,
    "-subj",
    `/CN=dbmesh test ${ca}`,
    "-days",
    "1",
    "-keyout",
    `${ca}.key`,
    "-out",
    `${ca}.pem`,
  );
  openssl("req", ...ec, "-subj", "/CN=127.0.0.1", "-keyout", `${node}.key`, "-out", `${node}.csr`);
  writeFileSync(join(dir, "san.cnf"), "subjectAltName=IP:127.0.0.1\n");
  openssl(
    "x509",
    "-req",
    "-in",
    `${node}.csr`,
    "-CA",
    `${ca}.pem`,
    "-CAkey",
    `${ca}.key`,
    "-CAcreateserial",
    "-days",
    "1",
    "-extfile",
    "san.cnf",
    "-out",
    `${node}.pem`,
  );
}

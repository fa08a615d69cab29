import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { localNode } from "../cli/mesh.js";
import { startNode } from "../cluster/index.js";
import { exampleFixture, freePort, type MeshFixture } from "../testing/index.js";
import { loadTopology, type Topology, withCurrentPrimaries } from "../topology/index.js";
import { classifierRouting } from "./classifier-routing.js";
import { lsnNumber } from "./health.js";
import { Router } from "./router.js";
import { routerConfig } from "./router-config.js";

// The real classifier and health checks on examples/ha (primary 8, standby-sync 24,
// standby-async 8), as `dbmesh serve` runs them: balancing counted by the port each server
// reports, read-your-writes under load, SET dbmesh.route and hints, SET carried or rolled
// back, a pinned LISTEN, promote while clients run, and a returning old primary fenced.

const env = { REPLICATOR_PASSWORD: "repl-Secret-1", SHOP_PASSWORD: "shop-secret" };
/** SQLSTATEs a client may see while a node goes away: connection exceptions and shutdowns. */
const connectionClass = /^(08...|57P0[123])$/;

describe("router: classifier routing, health checks and failover on examples/ha", () => {
  let m: MeshFixture;
  let router: Router;
  let port: number;
  const logs: string[] = [];
  const ports = new Map<string, string>();

  function effective(): Topology {
    const t = loadTopology(m.file);
    let primaries: Record<string, string> = {};
    try {
      primaries = JSON.parse(readFileSync(join(m.dir, ".dbmesh", "primaries.json"), "utf8"));
    } catch {}
    return withCurrentPrimaries(t, primaries);
  }

  function client(database = "shop", at = port): pg.Client {
    const c = new pg.Client({
      host: "127.0.0.1",
      port: at,
      user: "shop",
      database,
      password: env.SHOP_PASSWORD,
    });
    c.on("error", () => {});
    return c;
  }

  async function node(c: pg.Client, sql: string, values?: unknown[]): Promise<string> {
    const r = await c.query({ text: sql, values, rowMode: "array" });
    if (r.rows.length === 0) throw new Error(`no row from ${sql}: ${r.command} ${r.rowCount}`);
    return ports.get(String((r.rows[0] as unknown[])[0]))!;
  }

  async function value(c: pg.Client, sql: string): Promise<string | null> {
    const r = await c.query({ text: sql, rowMode: "array" });
    return (r.rows[0] as (string | null)[])[0] ?? null;
  }

  async function admin(sql: string): Promise<Record<string, string | null>[]> {
    const c = client("dbmesh");
    await c.connect();
    try {
      return (await c.query(sql)).rows;
    } finally {
      await c.end();
    }
  }

  before(async () => {
    m = await exampleFixture("router-classifier", "ha", env);
    port = await freePort();
    m.rewrite((text) =>
      text.replace(/^router: .*$/m, `router: { listen: 127.0.0.1:${port}, poolSize: 4 }`),
    );
    const up = await m.run("up");
    assert.equal(up.code, 0, up.stdout + up.stderr);
    const [p, s, a] = m.ports;
    ports.set(String(p), "primary").set(String(s), "standby-sync").set(String(a), "standby-async");
    Object.assign(process.env, env);
    const config = routerConfig(effective());
    const log = (line: string) => logs.push(line);
    router = new Router(config, { routing: await classifierRouting(config, { log }), log });
    await router.start();
  });
  after(async () => {
    await router?.stop();
    await m?.destroy();
  });

  test("reads go to the standbys 24:8 by capacity, counted by the port each server reports", async () => {
    const c = client();
    await c.connect();
    try {
      const counts: Record<string, number> = {};
      for (let i = 0; i < 64; i++) {
        const n = await node(c, "SELECT inet_server_port()");
        counts[n] = (counts[n] ?? 0) + 1;
      }
      assert.deepEqual(counts, { "standby-sync": 48, "standby-async": 16 });
      // A volatile function, a write and a locking read go to the primary.
      assert.equal(await node(c, "SELECT inet_server_port() FROM (SELECT random()) r"), "primary");
      assert.equal(
        await node(c, "SELECT inet_server_port() FROM sales.orders LIMIT 1 FOR UPDATE"),
        "primary",
      );
      const nodes = await admin("SHOW NODES");
      assert.deepEqual(
        nodes.map((n) => [n.node, n.role, n.state]),
        [
          ["primary", "primary", "healthy"],
          ["standby-sync", "standby", "healthy"],
          ["standby-async", "standby", "healthy"],
        ],
      );
    } finally {
      await c.end();
    }
  });

  test("read-your-writes under load: every client reads its own row right after inserting it", async () => {
    const clients = Array.from({ length: 12 }, () => client());
    await Promise.all(clients.map((c) => c.connect()));
    const served: Record<string, number> = {};
    try {
      await Promise.all(
        clients.map(async (c, i) => {
          for (let k = 1; k <= 15; k++) {
            await c.query("INSERT INTO sales.orders (customer, amount) VALUES ($1, $2)", [
              `ryw-${i}`,
              k,
            ]);
            const r = await c.query({
              text: "SELECT (SELECT count(*) FROM sales.orders WHERE customer = $1)::int, inet_server_port()",
              values: [`ryw-${i}`],
              rowMode: "array",
            });
            const [count, at] = r.rows[0] as [number, number];
            assert.equal(count, k, `client ${i} read ${count} rows after its insert ${k}`);
            const n = ports.get(String(at))!;
            served[n] = (served[n] ?? 0) + 1;
          }
        }),
      );
      // Without a write since, the standbys serve reads again once they have replayed.
      for (const [i, c] of clients.entries()) {
        await c.query("SELECT 1"); // a read, so not a write: minLsn stays
        const r = await c.query({
          text: "SELECT count(*)::int FROM sales.orders WHERE customer = $1",
          values: [`ryw-${i}`],
          rowMode: "array",
        });
        assert.equal((r.rows[0] as number[])[0], 15);
      }
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
    // For the log of a failing run: which nodes served the reads right after the writes.
    process.stderr.write(`read-your-writes: reads served by ${JSON.stringify(served)}\n`);
  });

  test("reads right after a write go to a standby once it has replayed, without waiting for a health check", async () => {
    // A second router whose health checks never come again after the first one: only the
    // replay positions it asks standbys for on demand can tell it that they replayed a write.
    const config = {
      ...routerConfig(effective()),
      healthIntervalMs: 3_600_000,
      listen: { host: "127.0.0.1", port: await freePort() },
    };
    const log = (line: string) => logs.push(line);
    const fresh = new Router(config, {
      routing: await classifierRouting(config, { log, replayWaitMs: 600_000 }),
      log,
    });
    await fresh.start();
    const through = (database = "shop") =>
      client(database, fresh.config.listen.port) as pg.Client & {
        connection: { stream: { localPort: number } };
      };
    const direct = [m.ports[1]!, m.ports[2]!].map(
      (p) =>
        new pg.Client({
          host: "127.0.0.1",
          port: p,
          user: "shop",
          database: "shop",
          password: env.SHOP_PASSWORD,
        }),
    );
    const load = Array.from({ length: 6 }, () => through());
    const writer = through();
    await Promise.all([...direct, ...load, writer].map((c) => c.connect()));
    let running = true;
    const loadServed: Record<string, number> = {};
    let loaders: Promise<void>[] = [];
    try {
      // Load: clients writing and reading their own rows at once, through the same router.
      loaders = load.map(async (c, i) => {
        for (let k = 1; running; k++) {
          await c.query("INSERT INTO sales.orders (customer, amount) VALUES ($1, $2)", [
            `fresh-load-${i}`,
            k,
          ]);
          const n = await node(
            c,
            "SELECT inet_server_port() FROM (SELECT count(*) AS n FROM sales.orders WHERE customer = $1) c WHERE n = $2",
            [`fresh-load-${i}`, k],
          );
          loadServed[n] = (loadServed[n] ?? 0) + 1;
        }
      });
      const session = () =>
        [...fresh.clients()].find((s) => s.port === writer.connection.stream.localPort)!;
      for (let k = 1; k <= 10; k++) {
        await writer.query("INSERT INTO sales.orders (customer, amount) VALUES ('fresh', $1)", [k]);
        // The router read the primary's WAL position after the write, then let the connection go.
        while (session().server !== undefined) await new Promise((r) => setImmediate(r));
        const minLsn = session().minLsn;
        assert.ok(minLsn > 0 && Number.isFinite(minLsn), String(minLsn));
        for (const d of direct) {
          for (;;) {
            const r = await d.query<{ lsn: string }>(
              "SELECT pg_last_wal_replay_lsn()::text AS lsn",
            );
            if (lsnNumber(r.rows[0]!.lsn) >= minLsn) break;
          }
        }
        const n = await node(
          writer,
          "SELECT inet_server_port() FROM (SELECT count(*) AS n FROM sales.orders WHERE customer = 'fresh') c WHERE n = $1",
          [k],
        );
        assert.notEqual(n, "primary", `read ${k} after a write both standbys replayed`);
      }
    } finally {
      running = false;
      await Promise.all(loaders);
      await Promise.all([...direct, ...load, writer].map((c) => c.end()));
      await fresh.stop();
    }
    // For the log: where the load's reads right after their writes went.
    process.stderr.write(`reads right after writes under load: ${JSON.stringify(loadServed)}\n`);
  });

  test("readFromPrimary: a read after a write served by the primary has the standbys asked how far they replayed, and the next reads go to them too", async () => {
    const config = {
      ...routerConfig(effective()),
      readFromPrimary: true,
      healthIntervalMs: 3_600_000,
      listen: { host: "127.0.0.1", port: await freePort() },
    };
    const log = (line: string) => logs.push(line);
    const routing = await classifierRouting(config, { log, replayWaitMs: 600_000 });
    const withPrimary = new Router(config, { routing, log });
    await withPrimary.start();
    const c = client("shop", config.listen.port) as pg.Client & {
      connection: { stream: { localPort: number } };
    };
    await c.connect();
    try {
      await c.query("INSERT INTO sales.orders (customer, amount) VALUES ('from-primary', 1)");
      const session = () =>
        [...withPrimary.clients()].find((s) => s.port === c.connection.stream.localPort)!;
      while (session().server !== undefined) await new Promise((r) => setImmediate(r));
      const minLsn = session().minLsn;
      for (const p of [m.ports[1]!, m.ports[2]!]) {
        const d = new pg.Client({
          host: "127.0.0.1",
          port: p,
          user: "shop",
          database: "shop",
          password: env.SHOP_PASSWORD,
        });
        await d.connect();
        try {
          for (;;) {
            const r = await d.query<{ lsn: string }>(
              "SELECT pg_last_wal_replay_lsn()::text AS lsn",
            );
            if (lsnNumber(r.rows[0]!.lsn) >= minLsn) break;
          }
        } finally {
          await d.end();
        }
      }
      // The standbys replayed the write, but the router's positions (from its one health check)
      // predate it: only the primary may serve this read.
      assert.equal(await node(c, "SELECT inet_server_port()"), "primary");
      // Without another health check, the standbys' positions arrive by themselves.
      const replayed = () =>
        routing
          .nodes()
          .filter((n) => n.role === "standby")
          .every((n) => n.replayLsn !== null && lsnNumber(n.replayLsn) >= minLsn);
      while (!replayed()) await new Promise((r) => setImmediate(r));
      const next: string[] = [];
      for (let i = 0; i < 3; i++) next.push(await node(c, "SELECT inet_server_port()"));
      assert.ok(
        next.some((n) => n !== "primary"),
        `reads after the standbys replayed: ${next.join(", ")}`,
      );
    } finally {
      await c.end();
      await withPrimary.stop();
    }
  });

  test("SET dbmesh.route and comment hints route per session and statement, answered by the router", async () => {
    const c = client();
    await c.connect();
    try {
      assert.equal(await value(c, "SHOW dbmesh.route"), "auto");
      assert.equal(await node(c, "/* dbmesh:primary */ SELECT inet_server_port()"), "primary");
      await c.query("SET dbmesh.route = 'primary'");
      assert.equal(await value(c, "SHOW dbmesh.route"), "primary");
      for (let i = 0; i < 4; i++)
        assert.equal(await node(c, "SELECT inet_server_port()"), "primary");
      // The router answered the SET itself: the server never saw the setting.
      assert.equal(await value(c, "SELECT current_setting('dbmesh.route', true)"), null);
      await assert.rejects(c.query("SET dbmesh.route = 'anywhere'"), { code: "22023" });
      await c.query("SET dbmesh.route TO standby");
      // A volatile function goes to a standby when the session says so; a real write does not.
      assert.notEqual(
        await node(c, "SELECT inet_server_port() FROM (SELECT random()) r"),
        "primary",
      );
      await c.query("RESET dbmesh.route");
      assert.equal(await value(c, "SHOW dbmesh.route"), "auto");
      assert.equal(
        await node(
          c,
          "/* dbmesh:standby */ SELECT inet_server_port() FROM (SELECT random()) r",
        ).then((n) => n !== "primary"),
        true,
      );
      // A real write goes to the primary whatever the session says.
      assert.equal(
        await node(
          c,
          "INSERT INTO sales.orders (customer, amount) VALUES ('route', 1) RETURNING inet_server_port()",
        ),
        "primary",
      );
    } finally {
      await c.end();
    }
  });

  test("SET is carried to the next transaction's server connection; a rolled-back SET is not", async () => {
    const clients = Array.from({ length: 6 }, () => client());
    await Promise.all(clients.map((c) => c.connect()));
    try {
      const [a, b, c] = clients as [pg.Client, pg.Client, pg.Client];
      await a.query("SET search_path = sales, public");
      await b.query("BEGIN");
      await b.query("SET statement_timeout = '7s'");
      await b.query("ROLLBACK");
      await c.query("BEGIN");
      await c.query("SET statement_timeout = '9s'");
      await c.query("COMMIT");
      const defaults = await Promise.all(clients.map((x) => value(x, "SHOW search_path")));
      for (let round = 0; round < 4; round++) {
        const paths = await Promise.all(clients.map((x) => value(x, "SHOW search_path")));
        const timeouts = await Promise.all(clients.map((x) => value(x, "SHOW statement_timeout")));
        assert.equal(paths[0], "sales, public");
        assert.deepEqual(paths.slice(1), defaults.slice(1));
        assert.deepEqual(timeouts, ["0", "0", "9s", "0", "0", "0"]);
      }
      assert.equal(await value(a, "SELECT count(*) >= 0 FROM orders"), true);
    } finally {
      await Promise.all(clients.map((x) => x.end()));
    }
  });

  test("LISTEN pins the session to its primary connection, which receives NOTIFY", async () => {
    const listener = client();
    const sender = client();
    await Promise.all([listener.connect(), sender.connect()]);
    try {
      const got = new Promise<pg.Notification>((resolve) => listener.on("notification", resolve));
      await listener.query("LISTEN jobs");
      // Other clients' transactions run meanwhile on the other connections.
      for (let i = 0; i < 8; i++) await sender.query("SELECT 1");
      await sender.query("NOTIFY jobs, 'hello'");
      const n = await got;
      assert.equal(n.channel, "jobs");
      assert.equal(n.payload, "hello");
      const clients = await admin("SHOW CLIENTS");
      assert.ok(
        clients.some((x) => x.pinned === "LISTEN jobs" && x.node === "primary"),
        JSON.stringify(clients),
      );
    } finally {
      await Promise.all([listener.end(), sender.end()]);
    }
  });

  test("promote while clients run: writes reach the new primary, errors are connection-class only; the old primary back writable is fenced", async () => {
    let running = true;
    const errors: string[] = [];
    const wrote = new Map<string, number>();
    const worker = async (i: number) => {
      let c: pg.Client | undefined;
      let k = 0;
      while (running) {
        try {
          if (c === undefined) {
            const fresh = client();
            c = fresh;
            await fresh.connect();
          }
          const n = await node(
            c,
            "INSERT INTO sales.orders (customer, amount) VALUES ($1, $2) RETURNING inet_server_port()",
            [`failover-${i}`, ++k],
          );
          wrote.set(n, (wrote.get(n) ?? 0) + 1);
          await node(c, "SELECT inet_server_port()");
        } catch (e) {
          errors.push(String((e as { code?: string }).code ?? (e as Error).message));
          await c?.end().catch(() => {});
          c = undefined;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      await c?.end().catch(() => {});
    };
    const workers = [0, 1, 2, 3].map(worker);
    try {
      while ((wrote.get("primary") ?? 0) < 20) await new Promise((r) => setTimeout(r, 50));
      const r = await m.run("promote", "standby-async");
      assert.equal(r.code, 0, r.stdout + r.stderr);
      // What `dbmesh serve` does when .dbmesh/primaries.json changes.
      router.reload(routerConfig(effective(), router.config));
      for (let i = 0; i < 600 && (wrote.get("standby-async") ?? 0) < 20; i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      running = false;
      await Promise.all(workers);
    }
    assert.ok((wrote.get("standby-async") ?? 0) >= 20, JSON.stringify([...wrote]));
    assert.deepEqual(
      errors.filter((e) => !connectionClass.test(e)),
      [],
      `errors other than connection-class: ${errors.join(", ")}`,
    );

    // The old primary starts again as it was: writable, on the same system, not the primary.
    const declared = loadTopology(m.file);
    await startNode(localNode(declared, declared.nodes.get("primary")!));
    let nodes: Record<string, string | null>[] = [];
    for (let i = 0; i < 300; i++) {
      nodes = await admin("SHOW NODES");
      if (nodes.find((n) => n.node === "primary")?.state === "fenced") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const old = nodes.find((n) => n.node === "primary")!;
    assert.equal(old.state, "fenced", JSON.stringify(nodes));
    assert.equal(old.role, "primary");
    assert.ok(
      logs.some((l) => /node primary fenced off/.test(l)),
      logs.join("\n"),
    );
    const c = client();
    await c.connect();
    try {
      for (let i = 0; i < 16; i++) {
        assert.notEqual(await node(c, "SELECT inet_server_port()"), "primary");
        assert.equal(
          await node(
            c,
            "INSERT INTO sales.orders (customer, amount) VALUES ('fenced', 1) RETURNING inet_server_port()",
          ),
          "standby-async",
        );
      }
    } finally {
      await c.end();
    }
    const servers = await admin("SHOW SERVERS");
    assert.ok(!servers.some((s) => s.node === "primary"), JSON.stringify(servers));
  });
});

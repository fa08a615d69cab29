import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { serialize } from "../protocol/index.js";
import { exampleFixture, freePort, type MeshFixture } from "../testing/index.js";
import { loadTopology, type Topology, withCurrentPrimaries } from "../topology/index.js";
import { classifierRouting } from "./classifier-routing.js";
import { Router } from "./router.js";
import { routerConfig } from "./router-config.js";
import { WireClient } from "./wire-client.test-helper.js";

// The router with its classifier on a primary with two standbys (examples/ha, capacities 8,
// 24, 8): reads go to standbys by capacity, everything else to the primary, a write pipelined
// behind a standby read waits for the primary, and a promotion is followed on reload.

const env = { REPLICATOR_PASSWORD: "repl-Secret-1", SHOP_PASSWORD: "shop-secret" };

describe("router: read/write split on a primary with two standbys", () => {
  let m: MeshFixture;
  let router: Router;
  let port: number;
  const ports = new Map<string, string>();

  function effective(): Topology {
    const t = loadTopology(m.file);
    let primaries: Record<string, string> = {};
    try {
      primaries = JSON.parse(readFileSync(join(m.dir, ".dbmesh", "primaries.json"), "utf8"));
    } catch {}
    return withCurrentPrimaries(t, primaries);
  }

  function client(): pg.Client {
    const c = new pg.Client({
      host: "127.0.0.1",
      port,
      user: "shop",
      database: "shop",
      password: env.SHOP_PASSWORD,
    });
    c.on("error", () => {});
    return c;
  }

  /** The node that answered: its name, by port. */
  async function node(c: pg.Client, sql: string): Promise<string> {
    const r = await c.query({ text: sql, rowMode: "array" });
    return ports.get(String((r.rows[0] as unknown[])[0]))!;
  }

  before(async () => {
    m = await exampleFixture("router-split", "ha", env);
    port = await freePort();
    m.rewrite((text) =>
      text.replace(/^router: .*$/m, `router: { listen: 127.0.0.1:${port}, poolSize: 2 }`),
    );
    const up = await m.run("up");
    assert.equal(up.code, 0, up.stdout + up.stderr);
    const [p, s, a] = m.ports;
    ports.set(String(p), "primary").set(String(s), "standby-sync").set(String(a), "standby-async");
    Object.assign(process.env, env);
    const config = routerConfig(effective());
    const log = () => {};
    router = new Router(config, { routing: await classifierRouting(config, { log }), log });
    await router.start();
  });
  after(async () => {
    await router?.stop();
    await m?.destroy();
  });

  test("reads go to the standbys 24:8 by capacity; writes and transactions to the primary", async () => {
    const c = client();
    await c.connect();
    try {
      const counts: Record<string, number> = {};
      for (let i = 0; i < 32; i++) {
        const n = await node(c, "SELECT inet_server_port()");
        counts[n] = (counts[n] ?? 0) + 1;
      }
      assert.deepEqual(counts, { "standby-sync": 24, "standby-async": 8 });
      assert.equal(
        await node(
          c,
          "INSERT INTO sales.orders (customer, amount) VALUES ('routed', 1) RETURNING inet_server_port()",
        ),
        "primary",
      );
      // A write hidden in a CTE is a write. (A plain read right after the INSERT may go to a
      // standby once it replayed the INSERT: read-your-writes, tested in classifier-routing.)
      assert.equal(
        await node(
          c,
          "WITH w AS (INSERT INTO sales.orders (customer, amount) VALUES ('cte', 1) RETURNING 1) SELECT inet_server_port() FROM w",
        ),
        "primary",
      );
      await c.query("BEGIN");
      assert.equal(await node(c, "SELECT inet_server_port()"), "primary");
      await c.query("COMMIT");
    } finally {
      await c.end();
    }
  });

  test("a write pipelined behind a read on a standby waits and goes to the primary", async () => {
    const w = await WireClient.login(port, "shop", "shop", env.SHOP_PASSWORD);
    try {
      w.socket.write(
        Buffer.concat([
          serialize.query("SELECT inet_server_port()"),
          serialize.query(
            "INSERT INTO sales.orders (customer, amount) VALUES ('pipelined', 2) RETURNING inet_server_port()",
          ),
          serialize.query("SELECT inet_server_port()"),
        ]),
      );
      const { rows, errors } = await w.until(3);
      assert.deepEqual(errors, []);
      assert.deepEqual(
        rows.map((r) => ports.get(r[0]!)),
        // The read after the write rides on the primary's connection: reads may, writes may not.
        ["standby-sync", "primary", "primary"],
      );
    } finally {
      w.socket.destroy();
    }
  });

  test("after a promotion and a reload, writes go to the new primary without a restart", async () => {
    const c = client();
    await c.connect();
    try {
      const r = await m.run("promote", "standby-async");
      assert.equal(r.code, 0, r.stdout + r.stderr);
      router.reload(routerConfig(effective(), router.config));
      assert.equal(
        await node(
          c,
          "INSERT INTO sales.orders (customer, amount) VALUES ('after', 3) RETURNING inet_server_port()",
        ),
        "standby-async",
      );
    } finally {
      await c.end();
    }
  });
});

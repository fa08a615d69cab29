import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { exampleFixture, type MeshFixture } from "../testing/index.js";

// Workflow 5: a primary with a sync and an async standby built by `dbmesh up`.

describe("ha example: primary, sync standby, async standby", () => {
  let m: MeshFixture;
  let primary: number;
  let sync: number;
  let async_: number;

  before(async () => {
    m = await exampleFixture("ha", "ha", {
      REPLICATOR_PASSWORD: "repl-Secret-1",
      SHOP_PASSWORD: "shop-secret",
    });
    [primary, sync, async_] = m.ports as [number, number, number];
    const up = await m.run("up");
    assert.equal(up.code, 0, up.stdout + up.stderr);
    assert.match(
      up.stdout,
      /standby-sync: standby of primary created from a [\d.]+ MB base backup \(\d+ files, manifest verified/,
    );
  });
  after(async () => {
    await m?.destroy();
  });

  /** Waits until a standby has replayed everything the primary has written so far. */
  async function caughtUp(port: number): Promise<void> {
    const [[lsn]] = (await m.rows(primary, "postgres", "SELECT pg_current_wal_lsn()")) as [
      [string],
    ];
    for (let i = 0; i < 100; i++) {
      const [[done]] = (await m.rows(
        port,
        "postgres",
        `SELECT pg_last_wal_replay_lsn() >= '${lsn}'::pg_lsn`,
      )) as [[string]];
      if (done === "t") return;
      await sleep(100);
    }
    assert.fail(`standby on ${port} did not replay up to ${lsn} within 10 s`);
  }

  test("both standbys are in recovery, of the same system, streaming with the declared sync states", async () => {
    const r = await m.run("status", "--json");
    assert.equal(r.code, 0, r.stdout);
    const status = JSON.parse(r.stdout) as {
      nodes: {
        node: string;
        replication: {
          role: string;
          systemId: string;
          standbys: { name: string; state: string; syncState: string }[];
        };
      }[];
    };
    const by = new Map(status.nodes.map((n) => [n.node, n.replication]));
    assert.equal(by.get("primary")?.role, "primary");
    assert.equal(by.get("standby-sync")?.role, "standby");
    assert.equal(by.get("standby-async")?.role, "standby");
    assert.equal(by.get("standby-sync")?.systemId, by.get("primary")?.systemId);
    const streams = by.get("primary")?.standbys.map((s) => [s.name, s.state, s.syncState]);
    assert.deepEqual(streams, [
      ["standby-async", "streaming", "async"],
      ["standby-sync", "streaming", "sync"],
    ]);
  });

  test("rows written on the primary are on both standbys, readable by the application role", async () => {
    await m.rows(
      primary,
      "shop",
      "INSERT INTO sales.orders (customer, amount) SELECT 'c' || g, g FROM generate_series(1, 500) g",
      "shop",
    );
    const source = await m.rows(
      primary,
      "shop",
      "SELECT count(*), sum(amount) FROM sales.orders",
      "shop",
    );
    for (const port of [sync, async_]) {
      await caughtUp(port);
      assert.deepEqual(
        await m.rows(port, "shop", "SELECT count(*), sum(amount) FROM sales.orders", "shop"),
        source,
      );
    }
  });

  test("plan after up has nothing to do; doctor checks each standby, the slots and the sync names", async () => {
    const plan = await m.run("plan");
    assert.equal(plan.code, 0, plan.stdout);
    const doctor = await m.run("doctor");
    assert.equal(doctor.code, 0, doctor.stdout);
    assert.match(doctor.stdout, /ok\s+standby\s+standby-sync: streaming from primary \(sync\)/);
    assert.match(doctor.stdout, /ok\s+standby\s+standby-async: streaming from primary \(async\)/);
    assert.match(
      doctor.stdout,
      /ok\s+sync\s+primary: synchronous_standby_names 'FIRST 1 \("standby-sync"\)'/,
    );
  });

  test("a stopped async standby: doctor names it and the slot holding WAL for it", async () => {
    assert.equal((await m.run("down", "--node", "standby-async")).code, 0);
    try {
      await m.rows(
        primary,
        "shop",
        "INSERT INTO sales.orders (customer, amount) SELECT 'd' || g, g FROM generate_series(1, 2000) g",
        "shop",
      );
      await m.rows(primary, "postgres", "SELECT pg_switch_wal()");
      const doctor = await m.run("doctor");
      assert.equal(doctor.code, 1);
      assert.match(doctor.stdout, /FAIL\s+reachable\s+standby-async/);
      assert.match(
        doctor.stdout,
        /FAIL\s+slots\s+primary: standby_async: inactive, holding \d+ bytes of WAL/,
      );
    } finally {
      assert.equal((await m.run("up", "--node", "standby-async")).code, 0);
    }
    await caughtUp(async_);
  });

  test("a commit waits while the only sync standby is down and returns once it is back", async () => {
    assert.equal((await m.run("down", "--node", "standby-sync")).code, 0);
    const c = await m.connect(primary, "shop", "shop");
    try {
      const commit = c.query("INSERT INTO sales.orders (customer, amount) VALUES ('waits', 1)");
      const first = await Promise.race([
        commit.then(() => "returned"),
        sleep(1500).then(() => "waiting"),
      ]);
      assert.equal(first, "waiting");
      const up = await m.run("up", "--node", "standby-sync");
      assert.equal(up.code, 0, up.stdout + up.stderr);
      const second = await Promise.race([
        commit.then(() => "returned"),
        sleep(30_000).then(() => "waiting"),
      ]);
      assert.equal(second, "returned");
    } finally {
      await c.end();
    }
    await caughtUp(sync);
    assert.deepEqual(
      await m.rows(
        sync,
        "shop",
        "SELECT count(*) FROM sales.orders WHERE customer = 'waits'",
        "shop",
      ),
      [["1"]],
    );
  });
});

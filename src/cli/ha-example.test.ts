import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { exampleFixture, type MeshFixture, type Served, serve } from "../testing/index.js";

// Workflow 5: a primary with a sync and an async standby built by `dbmesh up`.

describe("ha example: primary, sync standby, async standby", () => {
  let m: MeshFixture;
  let router: Served | undefined;
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
    // The example declares a router; doctor checks a round trip through it to the primary.
    router = await serve(m);
  });
  after(async () => {
    await router?.stop();
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

  /** Row count and a checksum of sales.orders on a node. */
  const digest = (port: number) =>
    m.rows(
      port,
      "shop",
      "SELECT count(*), md5(string_agg(id || ':' || customer || ':' || amount, ',' ORDER BY id)) FROM sales.orders",
      "shop",
    );

  /** Which nodes accept a write. */
  async function writable(): Promise<string[]> {
    const out: string[] = [];
    for (const [name, port] of [
      ["primary", primary],
      ["standby-sync", sync],
      ["standby-async", async_],
    ] as const) {
      const [[ro]] = (await m
        .rows(port, "postgres", "SELECT pg_is_in_recovery()")
        .catch(() => [["down"]])) as [[string]];
      if (ro === "f") out.push(name);
    }
    return out;
  }

  test("promote of the primary is refused, naming why", async () => {
    const r = await m.run("promote", "primary");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /primary is not a standby: it is the primary of its replication group/);
  });

  test("switchover to a lagging standby waits up to --wait, then refuses with the primary still writable", async () => {
    await m.rows(async_, "postgres", "SELECT pg_wal_replay_pause()");
    try {
      await m.rows(
        primary,
        "shop",
        "INSERT INTO sales.orders (customer, amount) SELECT 'lag' || g, g FROM generate_series(1, 20000) g",
        "shop",
      );
      const r = await m.run("switchover", "standby-async", "--wait", "2");
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(
        r.stderr,
        /standby-async is \d+ bytes behind after 2 s; no switchover \(writes were not stopped\)/,
      );
      assert.deepEqual(await writable(), ["primary"]);
    } finally {
      await m.rows(async_, "postgres", "SELECT pg_wal_replay_resume()");
    }
  });

  test("switchover: the sync standby becomes primary, the old primary its standby, no row lost", async () => {
    await m.rows(
      primary,
      "shop",
      "INSERT INTO sales.orders (customer, amount) SELECT 's' || g, g FROM generate_series(1, 300) g",
      "shop",
    );
    const before = await digest(primary);
    const r = await m.run("switchover", "standby-sync");
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(await writable(), ["standby-sync"]);
    assert.deepEqual(await digest(sync), before);
    await m.rows(
      sync,
      "shop",
      "INSERT INTO sales.orders (customer, amount) VALUES ('after switchover', 1)",
      "shop",
    );
    const after = await digest(sync);
    for (const port of [primary, async_]) {
      for (let i = 0; i < 100 && JSON.stringify(await digest(port)) !== JSON.stringify(after); i++)
        await sleep(100);
      assert.deepEqual(await digest(port), after, `node on ${port}`);
    }
    const status = JSON.parse((await m.run("status", "--json")).stdout) as {
      nodes: { node: string; replication: { role: string; timeline: number } }[];
    };
    const roles = Object.fromEntries(
      status.nodes.map((n) => [n.node, [n.replication.role, n.replication.timeline]]),
    );
    assert.deepEqual(roles, {
      primary: ["standby", 2],
      "standby-sync": ["primary", 2],
      "standby-async": ["standby", 2],
    });
    assert.equal((await m.run("plan")).code, 0);
  });

  test("promote (failover) of the async standby: one writable node, the old primary rebuilt with --reclone", async () => {
    const before = await digest(sync);
    for (let i = 0; i < 100 && JSON.stringify(await digest(async_)) !== JSON.stringify(before); i++)
      await sleep(100);
    const r = await m.run("promote", "standby-async");
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /standby-sync: stopped, so it cannot take writes/);
    assert.deepEqual(await writable(), ["standby-async"]);
    assert.deepEqual(await digest(async_), before);
    const refused = await m.run("up", "--node", "standby-sync");
    assert.equal(refused.code, 1);
    assert.match(
      refused.stdout,
      /holds a primary's data, but it is a standby of standby-async now; rebuild it: dbmesh up --node standby-sync --reclone/,
    );
    const back = await m.run("up", "--node", "standby-sync", "--reclone");
    assert.equal(back.code, 0, back.stdout + back.stderr);
    assert.deepEqual(await writable(), ["standby-async"]);
    await m.rows(
      async_,
      "shop",
      "INSERT INTO sales.orders (customer, amount) VALUES ('after failover', 2)",
      "shop",
    );
    const after = await digest(async_);
    for (const port of [primary, sync]) {
      for (let i = 0; i < 100 && JSON.stringify(await digest(port)) !== JSON.stringify(after); i++)
        await sleep(100);
      assert.deepEqual(await digest(port), after, `node on ${port}`);
    }
    const doctor = await m.run("doctor");
    assert.equal(doctor.code, 0, doctor.stdout);
  });
});

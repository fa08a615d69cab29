import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import type pg from "pg";
import { serialize } from "../protocol/index.js";
import { freePort, type MeshFixture } from "../testing/index.js";
import { classifierRouting } from "./classifier-routing.js";
import { Router, type RouterOptions } from "./router.js";
import type { RouterConfig } from "./router-config.js";
import { appClient, oneNodeMesh, WireClient } from "./wire-client.test-helper.js";

// The router between real clients (node-postgres, psql, raw sockets) and a real PostgreSQL 17
// node: what a user sees through it, including when clients misbehave.

const PASSWORD = "app-secret 'quoted' \\ pass";

describe("router: one node, real clients", () => {
  let m: MeshFixture;
  let base: RouterConfig;
  const routers: Router[] = [];

  /** A router in this process on a free port, with `changes` applied to the file's settings. */
  async function startRouter(
    changes: Partial<RouterConfig> = {},
    options: RouterOptions = {},
  ): Promise<number> {
    const port = await freePort();
    const router = new Router(
      { ...base, ...changes, listen: { host: "127.0.0.1", port } },
      { log: () => {}, ...options },
    );
    routers.push(router);
    await router.start();
    return port;
  }

  function client(port: number, overrides: Partial<pg.ClientConfig> = {}): pg.Client {
    return appClient(port, PASSWORD, overrides);
  }

  async function value(c: pg.Client, sql: string, values?: unknown[]): Promise<string> {
    const r = await c.query({ text: sql, values, rowMode: "array" });
    return String((r.rows[0] as unknown[])[0]);
  }

  before(async () => {
    base = await oneNodeMesh("router", PASSWORD, "poolSize: 3, queueTimeout: 5", (fixture) => {
      m = fixture;
    });
  });
  after(async () => {
    for (const r of routers) await r.stop();
    await m?.destroy();
  });

  test("simple queries return the node's rows, as the declared role", async () => {
    const port = await startRouter();
    const c = client(port, { application_name: "router-test" });
    await c.connect();
    try {
      const r = await c.query(
        "SELECT current_user AS u, current_database() AS d, current_setting('application_name') AS a, 1 + 1 AS two",
      );
      assert.deepEqual(r.rows, [{ u: "app", d: "appdb", a: "router-test", two: 2 }]);
      // Several statements in one Query, and an error inside it, keep the client usable.
      await assert.rejects(c.query("SELECT 1; SELECT 1/0"), { code: "22012" });
      assert.equal(await value(c, "SELECT 42"), "42");
    } finally {
      await c.end();
    }
  });

  test("20 clients, 3 server connections: named prepared statements in transaction mode", async () => {
    const port = await startRouter();
    const clients = Array.from({ length: 20 }, () => client(port));
    await Promise.all(clients.map((c) => c.connect()));
    try {
      await clients[0]!.query("CREATE TABLE IF NOT EXISTS counters (id int PRIMARY KEY, n int)");
      await clients[0]!.query("TRUNCATE counters");
      await Promise.all(
        clients.map(async (c, i) => {
          await c.query({
            name: "add",
            text: "INSERT INTO counters VALUES ($1, 0)",
            values: [i],
          });
          for (let round = 0; round < 10; round++) {
            // Every client uses the same names; half of them with another text under "get".
            const text =
              i % 2 === 0
                ? "SELECT n, $1::int AS me FROM counters WHERE id = $1"
                : "SELECT n, $1::int + 0 AS me FROM counters WHERE id = $1";
            await c.query({
              name: "bump",
              text: "UPDATE counters SET n = n + 1 WHERE id = $1",
              values: [i],
            });
            const r = await c.query({ name: "get", text, values: [i], rowMode: "array" });
            assert.deepEqual(r.rows, [[round + 1, i]]);
          }
          // A transaction of prepared statements on one server connection.
          await c.query("BEGIN");
          await c.query({
            name: "bump",
            text: "UPDATE counters SET n = n + 1 WHERE id = $1",
            values: [i],
          });
          await c.query("COMMIT");
          // Unnamed statements pass through.
          assert.equal(await value(c, "SELECT n FROM counters WHERE id = $1", [i]), "11");
        }),
      );
      const total = await value(clients[0]!, "SELECT sum(n) FROM counters");
      assert.equal(total, String(20 * 11));
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });

  test("a pipeline of named statements and several Syncs gets every answer, in order", async () => {
    const port = await startRouter({ poolSize: 1 });
    // Two raw clients share one server connection: the second finds the statement prepared.
    for (let pass = 0; pass < 2; pass++) {
      const w = await WireClient.login(port, "app", "appdb", PASSWORD);
      try {
        const frames: Buffer[] = [serialize.parse("s1", "SELECT $1::int * 2", [])];
        for (let i = 1; i <= 5; i++) {
          frames.push(
            serialize.bind("", "s1", [String(i)]),
            serialize.execute(""),
            serialize.sync(),
          );
        }
        frames.push(serialize.close("S", "s1"), serialize.sync());
        frames.push(serialize.bind("", "s1", ["1"]), serialize.execute(""), serialize.sync());
        w.socket.write(Buffer.concat(frames));
        const got = await w.until(7);
        assert.deepEqual(got.codes.join(""), `12DCZ${"2DCZ".repeat(4)}3ZEZ`);
        assert.deepEqual(
          got.rows.map((r) => r[0]),
          ["2", "4", "6", "8", "10"],
        );
        // After Close the name is gone, as on a server.
        assert.equal(got.errors[0]?.code, "26000");
      } finally {
        w.socket.destroy();
      }
    }
  });

  // Regression: the statement registry and each server connection's statements grew without
  // bound; and a name prepared twice without Close was silently replaced, where PostgreSQL
  // answers 42P05.
  test("prepared statements: at most maxPreparedStatements per server connection; a name prepared twice gets 42P05", async () => {
    const port = await startRouter({ poolSize: 1 }, { maxPreparedStatements: 2 });
    const c = client(port);
    await c.connect();
    try {
      const texts = [1, 2, 3, 4, 5].map((i) => `SELECT ${i} + $1::int`);
      for (let round = 0; round < 2; round++) {
        for (const [i, text] of texts.entries()) {
          const r = await c.query({ name: `s${i}`, text, values: [10], rowMode: "array" });
          assert.deepEqual(r.rows, [[i + 11]]);
        }
      }
      // The one server connection: the two most recently used, evicted ones deallocated.
      const r = await c.query({
        text: "SELECT name FROM pg_prepared_statements ORDER BY name",
        rowMode: "array",
      });
      assert.equal(r.rows.length, 2, JSON.stringify(r.rows));
    } finally {
      await c.end();
    }
    const w = await WireClient.login(port, "app", "appdb", PASSWORD);
    try {
      // Each unit sent once the one before is answered, as drivers do.
      const unit = async (...frames: Buffer[]) => {
        w.socket.write(Buffer.concat(frames));
        const { codes, rows, errors } = await w.until(1);
        return { codes: codes.join(""), rows, errors: errors.map((e) => e.code) };
      };
      assert.equal(
        (await unit(serialize.parse("dup", "SELECT 1", []), serialize.sync())).codes,
        "1Z",
      );
      const again = await unit(
        serialize.parse("dup", "SELECT 2", []),
        serialize.bind("", "dup", []),
        serialize.execute(""),
        serialize.sync(),
      );
      assert.deepEqual(again, { codes: "EZ", rows: [], errors: ["42P05"] });
      // The server's own error, naming the client's statement (not the router's name for it).
      w.socket.write(Buffer.concat([serialize.parse("dup", "SELECT 3", []), serialize.sync()]));
      const refused = await w.until(1);
      assert.deepEqual(
        refused.errors.map((e) => [e.code, e.message]),
        [["42P05", 'prepared statement "dup" already exists']],
      );
      // The name still runs its first text.
      const first = await unit(
        serialize.bind("", "dup", []),
        serialize.execute(""),
        serialize.sync(),
      );
      assert.deepEqual(first.rows, [["1"]]);
      // A Parse that failed did not take the name; Close frees it.
      const bad = await unit(serialize.parse("bad", "SELEC 3", []), serialize.sync());
      assert.deepEqual(bad.errors, ["42601"]);
      const rest = await unit(
        serialize.parse("bad", "SELECT 3", []),
        serialize.close("S", "dup"),
        serialize.parse("dup", "SELECT 4", []),
        serialize.bind("", "dup", []),
        serialize.execute(""),
        serialize.sync(),
      );
      assert.deepEqual(rest, { codes: "1312DCZ", rows: [["4"]], errors: [] });
    } finally {
      w.socket.destroy();
    }
  });

  test("a wrong password gets 28P01 and others keep working", async () => {
    const port = await startRouter();
    const ok = client(port);
    await ok.connect();
    try {
      const bad = client(port, { password: "wrong" });
      await assert.rejects(bad.connect(), { code: "28P01" });
      const nobody = client(port, { user: "nobody" });
      await assert.rejects(nobody.connect(), (e: pg.DatabaseError) => {
        assert.equal(e.code, "28000");
        assert.match(e.message, /role "nobody" is not declared/);
        return true;
      });
      const nodb = client(port, { database: "nope" });
      await assert.rejects(nodb.connect(), (e: pg.DatabaseError) => {
        assert.equal(e.code, "3D000");
        assert.match(e.hint ?? "", /appdb/);
        return true;
      });
      assert.equal(await value(ok, "SELECT 'still here'"), "still here");
    } finally {
      await ok.end();
    }
  });

  // Regression: errors the router sent itself at login or for a broken protocol did not reach
  // dbmesh_router_errors_total; only forwarded ones, lost connections and pool timeouts did.
  test("login failures and protocol errors are counted in the errors metric", async () => {
    const metricsPort = await freePort();
    const port = await startRouter(
      { maxMessage: 4096 },
      { metrics: { host: "127.0.0.1", port: metricsPort } },
    );
    await assert.rejects(client(port, { password: "wrong" }).connect(), { code: "28P01" });
    await assert.rejects(client(port, { user: "nobody" }).connect(), { code: "28000" });
    await assert.rejects(client(port, { database: "nope" }).connect(), { code: "3D000" });
    const short = await WireClient.login(port, "app", "appdb", PASSWORD);
    short.socket.write(Buffer.from([0x51, 0, 0, 0, 2]));
    assert.equal((await short.closedWithError()).code, "08P01");
    const big = await WireClient.login(port, "app", "appdb", PASSWORD);
    big.socket.write(serialize.query(`SELECT '${"x".repeat(5000)}'`));
    assert.equal((await big.closedWithError()).code, "54000");
    const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    const counted = new Map<string, number>();
    for (const m of (await res.text()).matchAll(
      /^dbmesh_router_errors_total\{source="router",class="(\w\w)"\} (\d+)$/gm,
    )) {
      counted.set(m[1]!, Number(m[2]));
    }
    assert.deepEqual(Object.fromEntries(counted), { "28": 2, "3D": 1, "08": 1, "54": 1 });
  });

  test("oversized, malformed and truncated messages get an ErrorResponse; others keep working", async () => {
    const port = await startRouter({ maxMessage: 4096 });
    const ok = client(port);
    await ok.connect();
    try {
      // A Query longer than maxMessage, after a valid login.
      const big = await WireClient.login(port, "app", "appdb", PASSWORD);
      big.socket.write(serialize.query(`SELECT '${"x".repeat(5000)}'`));
      assert.equal((await big.closedWithError()).code, "54000");

      // A typed message declaring a length below 4.
      const short = await WireClient.login(port, "app", "appdb", PASSWORD);
      short.socket.write(Buffer.from([0x51, 0, 0, 0, 2]));
      assert.equal((await short.closedWithError()).code, "08P01");

      // A named Parse whose query string is not terminated.
      const garbled = await WireClient.login(port, "app", "appdb", PASSWORD);
      const body = Buffer.from("s9\0SELECT 1");
      const frame = Buffer.alloc(5 + body.length);
      frame[0] = 0x50;
      frame.writeInt32BE(4 + body.length, 1);
      body.copy(frame, 5);
      garbled.socket.write(Buffer.concat([frame, serialize.sync()]));
      assert.equal((await garbled.closedWithError()).code, "08P01");

      // Half a Query, then the client shuts down its sending side.
      const cut = await WireClient.login(port, "app", "appdb", PASSWORD);
      cut.socket.end(serialize.query("SELECT 1").subarray(0, 7));
      const e = await cut.closedWithError();
      assert.equal(e.code, "08P01");
      assert.match(e.message, /EOF within message/);

      // A startup packet with an impossible length, before any login.
      const raw = await WireClient.open(port);
      raw.socket.write(Buffer.from([0, 0, 0, 3, 0, 0, 0, 0]));
      assert.equal((await raw.closedWithError()).code, "08P01");

      // An oversized SASL response during login.
      const sasl = await WireClient.open(port);
      sasl.socket.write(serialize.startup({ user: "app", database: "appdb" }));
      sasl.socket.write(Buffer.from([0x70, 0, 0x10, 0, 0]));
      assert.equal((await sasl.closedWithError()).code, "54000");

      assert.equal(await value(ok, "SELECT 'unharmed'"), "unharmed");
    } finally {
      await ok.end();
    }
  });

  // Regression: a client that stopped in the middle of a message but kept its socket open was
  // timed out only while logging in; after login it held its session forever.
  test("a client that stops mid-message gets 08P01 after the message timeout; others keep working", async () => {
    const port = await startRouter({}, { messageTimeout: 0.2 });
    const ok = client(port);
    await ok.connect();
    try {
      const stuck = await WireClient.login(port, "app", "appdb", PASSWORD);
      stuck.socket.write(serialize.query("SELECT 1").subarray(0, 7));
      const e = await stuck.closedWithError();
      assert.equal(e.code, "08P01");
      assert.match(e.message, /middle of a message/);
      // A whole message, even sent in pieces, is not cut.
      const slow = await WireClient.login(port, "app", "appdb", PASSWORD);
      const q = serialize.query("SELECT 'pieces'");
      slow.socket.write(q.subarray(0, 3));
      slow.socket.write(q.subarray(3));
      assert.deepEqual((await slow.until(1)).rows, [["pieces"]]);
      slow.socket.destroy();
      assert.equal(await value(ok, "SELECT 'unharmed'"), "unharmed");
    } finally {
      await ok.end();
    }
  });

  test("a fuzz run of random and mutated frames: no crash, every other client served", async () => {
    const port = await startRouter({ maxMessage: 8192 });
    const ok = client(port);
    await ok.connect();
    try {
      // Deterministic pseudo-random bytes, so a failure can be replayed.
      let seed = 12345;
      const rand = (n: number) => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return seed % n;
      };
      const valid = [
        serialize.query("SELECT 1"),
        serialize.parse("s", "SELECT $1::int", []),
        serialize.bind("", "s", ["1"]),
        serialize.describe("S", "s"),
        serialize.execute(""),
        serialize.close("S", "s"),
        serialize.sync(),
      ];
      for (let round = 0; round < 60; round++) {
        const w = await WireClient.login(port, "app", "appdb", PASSWORD);
        const parts: Buffer[] = [];
        for (let i = 0; i < 1 + rand(6); i++) {
          const frame = Buffer.from(valid[rand(valid.length)]!);
          const mutations = rand(4);
          for (let j = 0; j < mutations; j++) frame[rand(frame.length)] = rand(256);
          parts.push(rand(5) === 0 ? frame.subarray(0, rand(frame.length)) : frame);
        }
        if (rand(3) === 0) {
          const junk = Buffer.alloc(rand(64));
          for (let i = 0; i < junk.length; i++) junk[i] = rand(256);
          parts.push(junk);
        }
        w.socket.end(Buffer.concat(parts));
        await w.drained();
        // Before login too.
        const raw = await WireClient.open(port);
        const junk = Buffer.alloc(1 + rand(40));
        for (let i = 0; i < junk.length; i++) junk[i] = rand(256);
        raw.socket.end(junk);
        await raw.drained();
      }
      assert.equal(await value(ok, "SELECT 'survived'"), "survived");
    } finally {
      await ok.end();
    }
  });

  test("a full pool queues clients, then fails them with 53300 naming the pool", async () => {
    const port = await startRouter({ poolSize: 1, queueTimeoutMs: 300 });
    const holder = client(port);
    const waiter = client(port);
    await holder.connect();
    await waiter.connect();
    try {
      await holder.query("BEGIN");
      await holder.query("SELECT 1");
      await assert.rejects(waiter.query("SELECT 2"), (e: pg.DatabaseError) => {
        assert.equal(e.code, "53300");
        assert.match(e.message, /pool main\/appdb\/app/);
        return true;
      });
      await holder.query("COMMIT");
      assert.equal(await value(waiter, "SELECT 3"), "3");
    } finally {
      await holder.end();
      await waiter.end();
    }
  });

  // Regression: SET/SHOW dbmesh.route were the router's only over the simple protocol; with
  // Parse/Bind/Execute (node-postgres with a name or values, JDBC) they went to the server,
  // which knew nothing of the route and kept a placeholder setting on the connection.
  test("SET and SHOW dbmesh.route over the extended protocol are answered by the router", async () => {
    const port = await startRouter(
      {},
      { routing: await classifierRouting(base, { log: () => {} }) },
    );
    const router = routers.at(-1)!;
    const c = client(port);
    await c.connect();
    const extended = (text: string) => ({ text, queryMode: "extended" }) as pg.QueryConfig;
    const show = { name: "show-route", text: "SHOW dbmesh.route", rowMode: "array" as const };
    try {
      assert.deepEqual((await c.query(show)).rows, [["auto"]]);
      assert.equal((await c.query(extended("SET dbmesh.route = 'primary'"))).command, "SET");
      // The named statement again: Bind, Describe, Execute, Sync without a Parse.
      assert.deepEqual((await c.query(show)).rows, [["primary"]]);
      await assert.rejects(c.query(extended("SET dbmesh.route TO anywhere")), { code: "22023" });
      assert.deepEqual((await c.query(show)).rows, [["primary"]]);
      const r = await c.query({
        text: "SELECT current_setting('dbmesh.route', true), $1::int",
        values: [1],
        rowMode: "array",
      });
      assert.deepEqual(r.rows, [[null, 1]], "the server never saw the setting");
      await c.query(extended("RESET dbmesh.route"));
      assert.deepEqual((await c.query(show)).rows, [["auto"]]);
    } finally {
      await c.end();
    }
    // Raw frames: statement Describe, pipelining with a unit that goes to a server, and a unit
    // that mixes dbmesh.route with other statements.
    const w = await WireClient.login(port, "app", "appdb", PASSWORD);
    try {
      w.socket.write(
        Buffer.concat([
          serialize.parse("s", "SHOW dbmesh.route", []),
          serialize.describe("S", "s"),
          serialize.bind("", "s", []),
          serialize.execute(""),
          serialize.sync(),
          serialize.query("SELECT 1"),
          serialize.parse("", "SET dbmesh.route = standby", []),
          serialize.bind("", "", []),
          serialize.describe("P", ""),
          serialize.execute(""),
          serialize.sync(),
          serialize.bind("", "s", []),
          serialize.execute(""),
          serialize.sync(),
        ]),
      );
      const got = await w.until(4);
      assert.equal(got.codes.join(""), "1tT2DCZTDCZ12nCZ2DCZ");
      assert.deepEqual(got.rows, [["auto"], ["1"], ["standby"]]);
      w.socket.write(
        Buffer.concat([
          serialize.parse("", "RESET dbmesh.route", []),
          serialize.bind("", "", []),
          serialize.execute(""),
          serialize.parse("", "SELECT 2", []),
          serialize.bind("", "", []),
          serialize.execute(""),
          serialize.sync(),
          serialize.query("SELECT 3"),
        ]),
      );
      const mixed = await w.until(2);
      assert.equal(mixed.codes.join(""), "12CEZTDCZ");
      assert.equal(mixed.errors[0]?.code, "0A000");
      // A unit that only describes or closes a statement the router answers for borrows no
      // server connection.
      const lends = () => [...router.pools()].reduce((n, p) => n + p.stats.lends, 0);
      const before = lends();
      w.socket.write(Buffer.concat([serialize.describe("S", "s"), serialize.sync()]));
      assert.equal((await w.until(1)).codes.join(""), "tTZ");
      w.socket.write(Buffer.concat([serialize.close("S", "s"), serialize.sync()]));
      assert.equal((await w.until(1)).codes.join(""), "3Z");
      assert.equal(lends(), before);
    } finally {
      w.socket.destroy();
    }
  });

  test("transaction mode carries SET to whichever server connection runs the next transaction", async () => {
    const port = await startRouter({ poolSize: 2 });
    const clients = Array.from({ length: 6 }, () => client(port));
    await Promise.all(clients.map((c) => c.connect()));
    try {
      const zones = [
        "Asia/Tokyo",
        "Europe/Paris",
        "America/Lima",
        "UTC",
        "Africa/Lagos",
        "Asia/Kolkata",
      ];
      await Promise.all(clients.map((c, i) => c.query(`SET TimeZone = '${zones[i]}'`)));
      for (let round = 0; round < 3; round++) {
        const seen = await Promise.all(clients.map((c) => value(c, "SHOW TimeZone")));
        assert.deepEqual(seen, zones);
      }
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });

  test("session mode: SET persists for the session and is reset before the next client", async () => {
    const port = await startRouter({ mode: "session", poolSize: 1 });
    const first = client(port);
    await first.connect();
    await first.query("SET search_path = 'first_schema'");
    await first.query("SET dbmesh_test.flag = 'on'");
    await first.query({ name: "kept", text: "SELECT 7" });
    assert.equal(await value(first, "SHOW search_path"), "first_schema");
    assert.equal(await value(first, "SELECT current_setting('dbmesh_test.flag')"), "on");
    await first.end();
    // The only server connection is reused, after DISCARD ALL.
    const second = client(port);
    await second.connect();
    try {
      assert.equal(await value(second, "SHOW search_path"), '"$user", public');
      assert.notEqual(
        await value(second, "SELECT current_setting('dbmesh_test.flag', true)"),
        "on",
      );
      assert.equal(await value(second, "SELECT count(*) FROM pg_prepared_statements"), "0");
    } finally {
      await second.end();
    }
  });

  /** Resolves once a client of the last router started waits in one of its pools. */
  async function someoneWaits(): Promise<void> {
    const router = routers[routers.length - 1]!;
    const waiting = () => [...router.pools()].some((p) => p.waiting > 0);
    while (!waiting()) await new Promise((r) => setTimeout(r, 10));
  }

  // Regression: in session mode the router tracked nothing the client sent. A client leaving
  // with a query running had its ReadyForQuery taken for DISCARD ALL's: the connection went to
  // the next client with DISCARD ALL's CommandComplete and ReadyForQuery still coming.
  test("session mode: a client gone mid-query leaves no reply for the next client", async () => {
    const port = await startRouter({ mode: "session", poolSize: 1 });
    const gone = await WireClient.login(port, "app", "appdb", PASSWORD);
    // The next client queues for the only server connection.
    const nextLogin = WireClient.login(port, "app", "appdb", PASSWORD);
    await someoneWaits();
    gone.socket.end(serialize.query("SELECT pg_sleep(0.2)"));
    const next = await nextLogin;
    try {
      next.socket.write(serialize.query("SELECT 'clean'"));
      const got = await next.until(1);
      assert.equal(got.codes.join(""), "TDCZ");
      assert.deepEqual(got.rows, [["clean"]]);
    } finally {
      next.socket.destroy();
    }
  });

  // Regression: after an extended-protocol error the server skips everything up to Sync,
  // DISCARD ALL included: a session-mode connection whose client left without a Sync waited
  // for that answer forever and was never returned to its pool.
  test("session mode: a client gone after an error without Sync does not take the connection with it", async () => {
    const port = await startRouter({ mode: "session", poolSize: 1, queueTimeoutMs: 2000 });
    const gone = await WireClient.login(port, "app", "appdb", PASSWORD);
    const nextLogin = WireClient.login(port, "app", "appdb", PASSWORD);
    await someoneWaits();
    gone.socket.end(
      Buffer.concat([
        serialize.parse("", "SELEC 'typo'", []),
        serialize.bind("", "", []),
        serialize.execute(""),
        serialize.flush(),
      ]),
    );
    const next = await nextLogin;
    try {
      next.socket.write(serialize.query("SELECT pg_backend_pid()"));
      const first = await next.until(1);
      assert.equal(first.codes.join(""), "TDCZ");
      next.socket.end(serialize.terminate());
      await next.drained();
      // A client that leaves idle returns its connection, reset: the next one gets the same.
      const third = await WireClient.login(port, "app", "appdb", PASSWORD);
      third.socket.write(
        serialize.query("SELECT pg_backend_pid(), (SELECT count(*) FROM pg_prepared_statements)"),
      );
      const again = await third.until(1);
      assert.equal(again.codes.join(""), "TDCZ");
      assert.deepEqual(again.rows, [[first.rows[0]![0]!, "0"]]);
      third.socket.destroy();
    } finally {
      next.socket.destroy();
    }
  });

  test("a server connection killed mid-query: the client gets the error, its next query works", async () => {
    const port = await startRouter();
    const c = client(port, { application_name: "victim" });
    await c.connect();
    const admin = await m.connect(m.ports[0]!, "postgres");
    try {
      const sleeping = c.query("SELECT pg_sleep(60)");
      const sleepingDone = sleeping.then(
        () => undefined,
        (e: pg.DatabaseError) => e,
      );
      let killed = false;
      for (let i = 0; i < 100 && !killed; i++) {
        const r = await admin.query(
          "SELECT pg_terminate_backend(pid) AS k FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)' AND usename = 'app'",
        );
        killed = r.rows.some((row: { k: boolean }) => row.k);
        if (!killed) await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(killed, "the backend running the query was found");
      const e = await sleepingDone;
      assert.ok(e, "the query failed");
      assert.ok(e.code === "57P01" || e.code?.startsWith("08"), `SQLSTATE ${e.code}`);
      assert.equal(await value(c, "SELECT 'next one works'"), "next one works");
    } finally {
      await c.end();
      await admin.end();
    }
  });

  test("a cancel request reaches the server running the client's query", async () => {
    const port = await startRouter();
    const router = routers.at(-1)!;
    const c = client(port, { application_name: "to be cancelled" });
    await c.connect();
    const node = await m.connect(m.ports[0]!, "postgres");
    /** Whether the node runs the client's pg_sleep now. */
    const sleeping = async () =>
      (
        await node.query(
          "SELECT 1 FROM pg_stat_activity WHERE application_name = 'to be cancelled' AND state = 'active' AND query = 'SELECT pg_sleep(60)'",
        )
      ).rowCount === 1;
    try {
      const done = c.query("SELECT pg_sleep(60)").then(
        () => undefined,
        (e: pg.DatabaseError) => e,
      );
      while (!(await sleeping())) await new Promise((r) => setImmediate(r));
      // CancelRequest on a new connection, quoting the key the router gave the client; one
      // with a wrong key is ignored (counted, and the query still runs after it).
      const { processID, secretKey } = c as unknown as { processID: number; secretKey: number };
      const wrong = await WireClient.open(port);
      wrong.socket.end(serialize.cancelRequest(processID, secretKey ^ 1));
      while (router.stats.cancels.ignored === 0) await new Promise((r) => setImmediate(r));
      assert.equal(router.stats.cancels.forwarded, 0);
      assert.ok(await sleeping(), "a cancel with a wrong key stopped the query");
      const cancel = await WireClient.open(port);
      cancel.socket.end(serialize.cancelRequest(processID, secretKey));
      const e = await done;
      assert.equal(e?.code, "57014");
      assert.deepEqual(router.stats.cancels, { forwarded: 1, ignored: 1 });
      assert.equal(await value(c, "SELECT 1"), "1");
    } finally {
      await c.end();
      await node.end();
    }
  });

  test("the admin console answers SHOW POOLS, SERVERS, CLIENTS and STATS; anything but SHOW gets 0A000", async () => {
    const port = await startRouter();
    const c = client(port);
    await c.connect();
    await value(c, "SELECT 1");
    const admin = client(port, { database: "dbmesh" });
    await admin.connect();
    try {
      const pools = await admin.query("SHOW POOLS");
      assert.deepEqual(
        pools.rows.map((r: Record<string, string>) => [r.database, r.user, r.node, r.pool_mode]),
        [["appdb", "app", "main", "transaction"]],
      );
      const servers = await admin.query("SHOW SERVERS");
      assert.ok(servers.rows.length >= 1);
      const clients = await admin.query("SHOW CLIENTS");
      assert.deepEqual(clients.rows.map((r: Record<string, string>) => r.database).sort(), [
        "appdb",
        "dbmesh",
      ]);
      const stats = await admin.query("SHOW STATS");
      assert.ok(Number((stats.rows[0] as Record<string, string>).total_lends) >= 1);
      // Read-only statistics: anything but SHOW is refused, clearly; the session goes on.
      for (const sql of ["DROP TABLE x", "PAUSE", "SET x = 1", "KILL appdb"]) {
        await assert.rejects(admin.query(sql), (e: pg.DatabaseError) => {
          assert.equal(e.code, "0A000");
          assert.match(e.message, /only shows statistics/);
          assert.match(e.hint ?? "", /SHOW POOLS/);
          return true;
        });
      }
      await assert.rejects(admin.query("SHOW PASSWORDS"), { code: "42601" });
      await assert.rejects(admin.query({ text: "SHOW POOLS", values: [1] }), { code: "42601" });
      assert.ok((await admin.query("SHOW POOLS")).rows.length >= 1);
    } finally {
      await admin.end();
      await c.end();
    }
  });

  test("psql through the router", async (t) => {
    const psql = ["/usr/lib/postgresql/15/bin/psql", "/usr/bin/psql"].find((p) => existsSync(p));
    if (!psql) {
      t.skip("psql is not installed (Debian postgresql-client)");
      return;
    }
    const port = await startRouter();
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        psql,
        [
          "-X",
          "-At",
          "-h",
          "127.0.0.1",
          "-p",
          String(port),
          "-U",
          "app",
          "-d",
          "appdb",
          "-c",
          "SELECT 'from psql', current_user",
          "-c",
          "SELECT count(*) FROM generate_series(1, 1000)",
        ],
        { env: { ...process.env, PGPASSWORD: PASSWORD, PGSSLMODE: "prefer" } },
        (error, stdout, stderr) => (error ? reject(new Error(stderr)) : resolve(stdout)),
      ),
    );
    assert.equal(out, "from psql|app\n1000\n");
  });
});

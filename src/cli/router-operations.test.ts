import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { MetricsListenError, Router, routerConfig } from "../router/index.js";
import { type MeshFixture, meshFixture } from "../testing/index.js";
import { loadTopology, type Topology } from "../topology/index.js";
import { effectiveTopology } from "./mesh.js";

// Operating the router: Prometheus metrics over HTTP, and `status` / `doctor` reporting it.
// The router runs in this process, built from the file as `dbmesh serve` builds it, with
// router.metrics passed as its metrics address.

const env = { APP_PASSWORD: "app-pw" };

function get(port: number, path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        body += d;
      });
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, type: res.headers["content-type"] ?? "", body }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

const SAMPLE =
  /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? (-?[0-9.e+-]+|[+-]Inf|NaN)$/;

/** Samples by series text (name and labels as exposed); asserts the format on the way. */
function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const typed = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    if (line.startsWith("#")) {
      const m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
      assert.ok(m, `comment line: ${line}`);
      if (m[1] === "TYPE") {
        assert.match(m[3]!, /^(counter|gauge|histogram|summary|untyped)$/);
        assert.ok(!typed.has(m[2]!), `one TYPE line for ${m[2]}`);
        typed.set(m[2]!, m[3]!);
      }
      continue;
    }
    const m = SAMPLE.exec(line);
    assert.ok(m, `sample line: ${JSON.stringify(line)}`);
    const name = m[1]!;
    const family = typed.has(name) ? name : name.replace(/_(bucket|sum|count)$/, "");
    assert.ok(typed.has(family), `${name} has a TYPE line before it`);
    const series = `${name}${m[2] ?? ""}`;
    assert.ok(!samples.has(series), `one sample per series: ${series}`);
    samples.set(series, Number(m[3]));
  }
  return samples;
}

describe("router operations: metrics, status, doctor", () => {
  let m: MeshFixture;
  let router: Router | undefined;
  let routerPort = 0;
  let metricsPort = 0;

  // queueTimeout: long enough for a first server login on a loaded machine, short enough for
  // the test that waits for it to expire.
  const yaml = (ports: readonly number[]) => `version: 1
nodes:
  main: { port: ${ports[0]} }
roles:
  app: { password: env:APP_PASSWORD, nodes: [main] }
databases:
  appdb: { node: main, owner: app }
router: { listen: 127.0.0.1:${ports[1]}, metrics: 127.0.0.1:${ports[2]}, poolSize: 1, queueTimeout: 2 }
`;

  function topology(): Topology {
    return effectiveTopology(loadTopology(m.file));
  }

  async function startRouter(): Promise<Router> {
    const t = topology();
    const r = new Router(routerConfig(t), { log: () => {}, metrics: t.router!.metrics });
    await r.start();
    return r;
  }

  function client(): pg.Client {
    const c = new pg.Client({
      host: "127.0.0.1",
      port: routerPort,
      user: "app",
      database: "appdb",
      password: env.APP_PASSWORD,
    });
    c.on("error", () => {});
    return c;
  }

  before(async () => {
    m = await meshFixture({ name: "router-ops", ports: 3, yaml, env });
    routerPort = m.ports[1]!;
    metricsPort = m.ports[2]!;
    const up = await m.run("up");
    assert.equal(up.code, 0, up.stdout + up.stderr);
    Object.assign(process.env, env);
    router = await startRouter();
  });
  after(async () => {
    await router?.stop();
    await m?.destroy();
  });

  test("GET /metrics: counters move with traffic through the router, the exposition parses", async () => {
    const before = parseExposition((await get(metricsPort, "/metrics")).body);
    const a = client();
    const b = client();
    await a.connect();
    await b.connect();
    try {
      for (let i = 0; i < 5; i++) await a.query("SELECT $1::int AS i", [i]);
      await assert.rejects(a.query("SELECT 1/0"), { code: "22012" });
      await a.query("BEGIN");
      await a.query("SELECT 1");
      // The pool has one connection and `a` holds it in a transaction: `b` queues, times out.
      await assert.rejects(b.query("SELECT 2"), { code: "53300" });
      await a.query("COMMIT");
      assert.equal((await b.query("SELECT 3 AS x")).rows[0].x, 3);

      const res = await get(metricsPort, "/metrics");
      assert.equal(res.status, 200);
      assert.match(res.type, /^text\/plain; version=0\.0\.4/);
      const s = parseExposition(res.body);
      const v = (series: string) => s.get(series) ?? 0;
      const moved = (series: string) => v(series) - (before.get(series) ?? 0);
      const pool = 'node="main",database="appdb",role="app"';

      assert.ok(moved('dbmesh_router_queries_total{route="primary",node="main"}') >= 10);
      assert.ok(moved('dbmesh_router_transactions_total{route="primary",node="main"}') >= 7);
      assert.ok(moved('dbmesh_router_errors_total{source="server",class="22"}') >= 1);
      assert.ok(moved('dbmesh_router_errors_total{source="router",class="53"}') >= 1);
      assert.ok(moved(`dbmesh_router_pool_timeouts_total{${pool}}`) >= 1);
      assert.ok(moved(`dbmesh_router_queue_waits_total{${pool}}`) >= 1);
      assert.ok(moved(`dbmesh_router_queue_wait_seconds_count{${pool}}`) >= 1);
      assert.equal(
        v(`dbmesh_router_queue_wait_seconds_bucket{${pool},le="+Inf"}`),
        v(`dbmesh_router_queue_wait_seconds_count{${pool}}`),
      );
      assert.ok(moved(`dbmesh_router_pool_lends_total{${pool}}`) >= 1);
      assert.equal(v(`dbmesh_router_pool_size{${pool}}`), 1);
      assert.equal(v(`dbmesh_router_server_connections{${pool},state="idle"}`), 1);
      assert.equal(
        v('dbmesh_router_client_connections{database="appdb",role="app",state="idle"}'),
        2,
      );
      for (const peer of ["client", "server"]) {
        for (const direction of ["received", "sent"]) {
          assert.ok(moved(`dbmesh_router_${peer}_bytes_total{direction="${direction}"}`) > 0);
        }
      }
      // No health checker attached: no node gauges.
      assert.doesNotMatch(res.body, /dbmesh_router_node_/);
    } finally {
      await a.end();
      await b.end();
    }
  });

  test("node health from the health checker's hook, label values escaped", async () => {
    // The shape of HealthChecker.report(): one entry per node.
    router!.stats.nodeHealth = () => [
      { node: "main", state: 'up "odd"\\\nstate', lagBytes: null, replayLsn: "1/0000A0" },
      { node: "standby", state: "healthy", lagBytes: 4096, replayLsn: "0/3000060" },
    ];
    try {
      const s = parseExposition((await get(metricsPort, "/metrics")).body);
      assert.equal(
        s.get('dbmesh_router_node_state{node="main",state="up \\"odd\\"\\\\\\nstate"}'),
        1,
      );
      assert.equal(s.get('dbmesh_router_node_lag_bytes{node="standby"}'), 4096);
      assert.equal(s.get('dbmesh_router_node_lag_bytes{node="main"}'), undefined);
      assert.equal(s.get('dbmesh_router_node_replay_lsn_bytes{node="main"}'), 2 ** 32 + 0xa0);
      assert.equal(s.get('dbmesh_router_node_replay_lsn_bytes{node="standby"}'), 0x3000060);
    } finally {
      router!.stats.nodeHealth = undefined;
    }
  });

  test("GET /health answers ok; other paths 404", async () => {
    const health = await get(metricsPort, "/health");
    assert.equal(health.status, 200);
    assert.equal(health.body, "ok");
    assert.equal((await get(metricsPort, "/nope")).status, 404);
  });

  test("a busy metrics port: start fails naming the address and the fix", async () => {
    const t = topology();
    const config = { ...routerConfig(t), listen: { host: "127.0.0.1", port: 0 } };
    const second = new Router(config, { log: () => {}, metrics: t.router!.metrics });
    await assert.rejects(second.start(), (e: unknown) => {
      assert.ok(e instanceof MetricsListenError);
      assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${metricsPort}.*already in use`));
      assert.match(e.hint, /router\.metrics/);
      return true;
    });
    await second.stop();
  });

  test("status shows the router listening and its pools, as text and JSON", async () => {
    const text = await m.run("status");
    assert.equal(text.code, 0, text.stdout + text.stderr);
    assert.match(text.stdout, new RegExp(`127\\.0\\.0\\.1:${routerPort} \\| listening`));
    assert.match(text.stdout, /main\/appdb\/app/);
    const json = await m.run("status", "--json");
    assert.equal(json.code, 0, json.stderr);
    const r = JSON.parse(json.stdout).router;
    assert.equal(r.state, "listening");
    assert.equal(r.listen, `127.0.0.1:${routerPort}`);
    assert.equal(r.metrics, `127.0.0.1:${metricsPort}`);
    assert.equal(r.error, null);
    const pool = r.pools.find(
      (p: { node: string; database: string; user: string }) =>
        p.node === "main" && p.database === "appdb" && p.user === "app",
    );
    assert.ok(pool, JSON.stringify(r.pools));
    assert.equal(pool.poolSize, 1);
    assert.ok(pool.lends >= 1);
    assert.ok(pool.timeouts >= 1);
  });

  test("doctor passes with the router running, and fails naming dbmesh serve once it stops", async () => {
    const ok = await m.run("doctor");
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, new RegExp(`ok\\s+router\\s+router 127\\.0\\.0\\.1:${routerPort}`));
    assert.match(ok.stdout, /ok\s+metrics\s/);
    assert.match(ok.stdout, /ok\s+routed\s+.*appdb as app: SELECT 1 through pool main\/appdb\/app/);

    await router!.stop();
    router = undefined;
    const down = await m.run("doctor");
    assert.equal(down.code, 1, down.stdout + down.stderr);
    assert.match(down.stdout, /FAIL\s+router/);
    assert.match(down.stdout, /cause: the router is not running/);
    assert.match(down.stdout, new RegExp(`fix: +start it: dbmesh serve -f ${m.file}`));
    const status = JSON.parse((await m.run("status", "--json")).stdout).router;
    assert.equal(status.state, "down");
    assert.match(status.error, /dbmesh serve/);
  });
});

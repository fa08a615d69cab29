import assert from "node:assert/strict";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { initNode, nodePaths } from "../cluster/index.js";
import { type MeshFixture, meshFixture, testNode } from "../testing/index.js";

// A standby of a standby: the middle node is backed up from, and streams to, the last one.

describe("a chain of standbys", () => {
  let m: MeshFixture;
  before(async () => {
    m = await meshFixture({
      name: "chain",
      ports: 3,
      yaml: ([a, b, c]) => `version: 1
nodes:
  head: { port: ${a} }
  middle: { port: ${b}, replicaOf: head }
  tail: { port: ${c}, replicaOf: middle }
roles:
  replicator: { password: env:REPL, nodes: [head], replication: true }
`,
      env: { REPL: "chain-repl-secret" },
    });
    const up = await m.run("up");
    assert.equal(up.code, 0, up.stdout + up.stderr);
  });
  after(async () => {
    await m?.destroy();
  });

  test("rows written on the head reach the tail through the middle", async () => {
    const [head, , tail] = m.ports as [number, number, number];
    await m.rows(head, "postgres", "CREATE TABLE t AS SELECT g FROM generate_series(1, 1000) g");
    let rows: string[][] = [];
    for (let i = 0; i < 100; i++) {
      rows = await m.rows(tail, "postgres", "SELECT count(*) FROM pg_class WHERE relname = 't'");
      if (rows[0]?.[0] === "1") break;
      await sleep(100);
    }
    assert.deepEqual(await m.rows(tail, "postgres", "SELECT count(*) FROM t"), [["1000"]]);
    const status = JSON.parse((await m.run("status", "--json")).stdout) as {
      nodes: { node: string; replication: { standbys: { name: string; state: string }[] } }[];
    };
    const streams = Object.fromEntries(
      status.nodes.map((n) => [n.node, n.replication.standbys.map((s) => `${s.name}:${s.state}`)]),
    );
    assert.deepEqual(streams, { head: ["middle:streaming"], middle: ["tail:streaming"], tail: [] });
    const doctor = await m.run("doctor");
    assert.equal(doctor.code, 0, doctor.stdout);
  });

  test("a standby whose data is of another system is refused, naming both identifiers", async () => {
    const [, , tail] = m.ports as [number, number, number];
    assert.equal((await m.run("down", "--node", "tail", "--purge")).code, 0);
    const foreign = testNode(join(m.dir, ".dbmesh"), "tail", tail);
    await initNode(foreign);
    writeFileSync(join(nodePaths(foreign).dataDir, "standby.signal"), "");
    // dbmesh logs in to a standby with its primary's admin secret; this one is the foreign one's.
    rmSync(join(foreign.stateDir, "admin.secret"));
    const up = await m.run("up", "--node", "tail");
    assert.equal(up.code, 1);
    assert.match(
      up.stdout,
      /tail: FAILED its data is of database system \d+, but middle is system \d+; re-clone it: dbmesh up --node tail --reclone/,
    );
    const reclone = await m.run("up", "--node", "tail", "--reclone");
    assert.equal(reclone.code, 0, reclone.stdout + reclone.stderr);
    assert.deepEqual(await m.rows(tail, "postgres", "SELECT count(*) FROM t"), [["1000"]]);
  });

  test("--reclone with the upstream down leaves the standby's data untouched", async () => {
    assert.equal((await m.run("down", "--node", "middle")).code, 0);
    const r = await m.run("up", "--node", "tail", "--reclone");
    assert.equal(r.code, 1, r.stdout);
    assert.match(
      r.stdout,
      /tail: FAILED not rebuilt, its data is untouched: middle does not answer/,
    );
    assert.ok(existsSync(join(m.dir, ".dbmesh", "tail", "data", "PG_VERSION")));
  });
});

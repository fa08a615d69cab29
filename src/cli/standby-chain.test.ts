import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type MeshFixture, meshFixture } from "../testing/index.js";

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
});

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type MeshFixture, meshFixture } from "../testing/index.js";

// Two sync standbys in a quorum (ANY 1), then a failover to the one that missed the last
// writes: the other standby has WAL the new primary never had, so it cannot follow it.

describe("a quorum of standbys and a standby that diverged", () => {
  let m: MeshFixture;
  before(async () => {
    m = await meshFixture({
      name: "diverged",
      ports: 3,
      yaml: ([h, a, b]) => `version: 1
nodes:
  head: { port: ${h}, synchronous: { mode: any, count: 1 } }
  a: { port: ${a}, replicaOf: head, sync: true }
  b: { port: ${b}, replicaOf: head, sync: true }
roles:
  replicator: { password: env:REPL, nodes: [head], replication: true }
`,
      env: { REPL: "diverged-repl-secret" },
    });
    const up = await m.run("up");
    assert.equal(up.code, 0, up.stdout + up.stderr);
  });
  after(async () => {
    await m?.destroy();
  });

  test("ANY 1 makes both sync standbys quorum members", async () => {
    const [head] = m.ports as [number];
    assert.deepEqual(await m.rows(head, "postgres", "SHOW synchronous_standby_names"), [
      ['ANY 1 ("a", "b")'],
    ]);
    let states: string[][] = [];
    for (let i = 0; i < 100; i++) {
      states = await m.rows(
        head,
        "postgres",
        "SELECT application_name, sync_state FROM pg_stat_replication ORDER BY 1",
      );
      if (states.length === 2) break;
      await sleep(100);
    }
    assert.deepEqual(states, [
      ["a", "quorum"],
      ["b", "quorum"],
    ]);
  });

  test("a standby past the new primary's switch point is refused, then copied again", async () => {
    const [head, a, b] = m.ports as [number, number, number];
    await m.rows(head, "postgres", "CREATE TABLE t AS SELECT 1 AS v");
    assert.equal((await m.run("down", "--node", "a")).code, 0);
    // Committed with b's acknowledgement only: a never sees it.
    await m.rows(head, "postgres", "INSERT INTO t VALUES (2)");
    assert.equal((await m.run("down", "--node", "b")).code, 0);
    assert.equal((await m.run("down", "--node", "head")).code, 0);
    await m.run("up", "--node", "a");
    const promote = await m.run("promote", "a");
    // b is down, so the apply that follows the promotion cannot reach it.
    assert.match(promote.stdout, /a: promoted; it is the primary now/, promote.stderr);
    // b is a sync standby of a now and is down: this commit must not wait for it.
    const onA = await m.connect(a, "postgres");
    await onA.query("SET synchronous_commit = local");
    await onA.query("INSERT INTO t VALUES (3)");
    await onA.end();

    const refused = await m.run("up", "--node", "b");
    assert.equal(refused.code, 1, refused.stdout);
    assert.match(
      refused.stdout,
      /b: FAILED cannot follow a: it has WAL up to [0-9A-F]+\/[0-9A-F]+ on timeline 1, but a left that timeline at [0-9A-F]+\/[0-9A-F]+; rebuild it: dbmesh up --node b --reclone \(or set nodes\.b\.onMismatch: reclone\)/,
    );
    const doctor = await m.run("doctor");
    assert.match(doctor.stdout, /b.*cannot follow a/);

    m.rewrite((text) =>
      text.replace(
        "replicaOf: head, sync: true }\nroles",
        "replicaOf: head, sync: true, onMismatch: reclone }\nroles",
      ),
    );
    const recloned = await m.run("up", "--node", "b");
    assert.match(recloned.stdout, /b: it has WAL up to .*; rebuilding it \(onMismatch: reclone\)/);
    assert.match(recloned.stdout, /b: standby of a created from a .* base backup/);
    assert.deepEqual(await m.rows(b, "postgres", "SELECT v FROM t ORDER BY v"), [["1"], ["3"]]);
  });
});

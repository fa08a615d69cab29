import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type MeshFixture, meshFixture } from "../testing/index.js";

// The same file on two hosts, each with its own .dbmesh state: `up --node` on each makes just
// its node. The group's admin password is declared, so both hosts can log in to both nodes.

describe("a standby made on a second host", () => {
  let hostA: MeshFixture;
  let hostB: MeshFixture;
  const env = { REPL: "second-host-repl", ADMIN_PASSWORD: "second-host-admin" };
  before(async () => {
    hostA = await meshFixture({
      name: "host-a",
      ports: 2,
      yaml: ([p, s]) => `version: 1
nodes:
  primary: { port: ${p}, admin: { password: env:ADMIN_PASSWORD } }
  standby: { port: ${s}, replicaOf: primary }
roles:
  replicator: { password: env:REPL, nodes: [primary], replication: true }
`,
      env,
    });
    hostB = await meshFixture({
      name: "host-b",
      ports: 0,
      yaml: () => `version: 1
nodes:
  primary: { port: ${hostA.ports[0]}, admin: { password: env:ADMIN_PASSWORD } }
  standby: { port: ${hostA.ports[1]}, replicaOf: primary }
roles:
  replicator: { password: env:REPL, nodes: [primary], replication: true }
`,
      env,
    });
  });
  after(async () => {
    await hostB?.destroy();
    await hostA?.destroy();
  });

  test("up --node on each host builds the standby from the primary over the network", async () => {
    const [primary, standby] = hostA.ports as [number, number];
    const a = await hostA.run("up", "--node", "primary");
    assert.match(a.stdout, /primary: PostgreSQL .* initialised, started/, a.stderr);
    await hostA.rows(
      primary,
      "postgres",
      "CREATE TABLE t AS SELECT 1 AS v",
      "postgres",
      env.ADMIN_PASSWORD,
    );

    const b = await hostB.run("up", "--node", "standby");
    assert.equal(b.code, 0, b.stdout + b.stderr);
    assert.match(b.stdout, /standby: standby of primary created from a .* base backup/);
    await hostA.rows(
      primary,
      "postgres",
      "INSERT INTO t VALUES (2)",
      "postgres",
      env.ADMIN_PASSWORD,
    );
    let rows: string[][] = [];
    for (let i = 0; i < 100; i++) {
      rows = await hostB
        .rows(standby, "postgres", "SELECT v FROM t ORDER BY v", "postgres", env.ADMIN_PASSWORD)
        .catch(() => []);
      if (rows.length === 2) break;
      await sleep(100);
    }
    assert.deepEqual(rows, [["1"], ["2"]]);
    const doctor = await hostA.run("doctor");
    assert.match(doctor.stdout, /standby.*streaming from primary/);
  });
});

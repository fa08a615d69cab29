import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type MeshFixture, meshFixture } from "../testing/index.js";

// A former primary brought back as a standby by pg_rewind instead of a full copy. The embedded
// binaries have no pg_rewind; Debian's PostgreSQL 15 has (.ci/run installs it).
const BIN = "/usr/lib/postgresql/15/bin";
const skip = existsSync(`${BIN}/pg_rewind`)
  ? false
  : `${BIN}/pg_rewind is missing (apt-get install postgresql-15)`;

describe("a former primary rewound with pg_rewind", { skip }, () => {
  let m: MeshFixture;
  before(async () => {
    m = await meshFixture({
      name: "rewind",
      ports: 2,
      yaml: ([h, a]) => `version: 1
nodes:
  head: { port: ${h}, binaries: ${BIN} }
  a: { port: ${a}, binaries: ${BIN}, replicaOf: head }
roles:
  replicator: { password: env:REPL, nodes: [head], replication: true }
`,
      env: { REPL: "rewind-repl-secret" },
    });
    const up = await m.run("up");
    assert.equal(up.code, 0, up.stdout + up.stderr);
  });
  after(async () => {
    await m?.destroy();
  });

  test("its writes the new primary never had are undone and it streams from the new primary", async () => {
    const [head, a] = m.ports as [number, number];
    await m.rows(head, "postgres", "CREATE TABLE t AS SELECT 1 AS v");
    for (let i = 0; i < 100; i++) {
      const [[n] = []] = await m.rows(
        a,
        "postgres",
        "SELECT count(*) FROM pg_class WHERE relname = 't'",
      );
      if (n === "1") break;
      await sleep(100);
    }
    // pg_rewind starts from the last checkpoint both share, which must still be in head's
    // pg_wal (else dbmesh copies the whole directory instead: the fallback).
    await m.rows(head, "postgres", "CHECKPOINT");
    assert.equal((await m.run("down", "--node", "a")).code, 0);
    await m.rows(head, "postgres", "INSERT INTO t VALUES (2)");
    assert.equal((await m.run("down", "--node", "head")).code, 0);
    await m.run("up", "--node", "a");
    const promote = await m.run("promote", "a");
    assert.match(promote.stdout, /a: promoted; it is the primary now/, promote.stderr);
    await m.rows(a, "postgres", "INSERT INTO t VALUES (3)");

    const refused = await m.run("up", "--node", "head");
    assert.equal(refused.code, 1);
    assert.match(refused.stdout, /head: FAILED it holds a primary's data/);
    const rewound = await m.run("up", "--node", "head", "--reclone");
    assert.equal(rewound.code, 0, rewound.stdout + rewound.stderr);
    assert.match(rewound.stdout, /head: rewound with pg_rewind to follow a/);
    assert.doesNotMatch(rewound.stdout, /base backup/);
    await m.rows(a, "postgres", "INSERT INTO t VALUES (4)");
    let rows: string[][] = [];
    for (let i = 0; i < 100; i++) {
      rows = await m.rows(head, "postgres", "SELECT v FROM t ORDER BY v");
      if (rows.length === 3) break;
      await sleep(100);
    }
    assert.deepEqual(rows, [["1"], ["3"], ["4"]], rewound.stdout);
    assert.deepEqual(await m.rows(head, "postgres", "SELECT pg_is_in_recovery()"), [["t"]]);
  });
});

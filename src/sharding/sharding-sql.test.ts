import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseTopology } from "../topology/index.js";
import { planCoordinator } from "./plan-coordinator.js";
import { planReferenceCopies } from "./plan-reference.js";
import { unsupportedSharding } from "./plan-sharding.js";
import { planShardTables } from "./plan-shards.js";
import { createForeignPartition, partitionBound, shardCheck } from "./sharding-sql.js";

const list = {
  kind: "list" as const,
  values: [
    { value: "paris", node: "a" },
    { value: "o'hare", node: "b" },
  ],
  default: "b",
};

describe("sharding SQL", () => {
  test("bounds checks: list, default, range; none for hash", () => {
    assert.equal(
      shardCheck("location", { kind: "list", values: ["paris"] }, list),
      `"location" IN ('paris')`,
    );
    assert.equal(
      shardCheck("location", { kind: "default" }, list),
      `"location" NOT IN ('paris', 'o''hare')`,
    );
    const range = { kind: "range" as const, ranges: [] };
    assert.equal(
      shardCheck("at", { kind: "range", from: "2024-01-01", to: null }, range),
      `"at" >= '2024-01-01'`,
    );
    assert.equal(
      shardCheck("n", { kind: "range", from: 1, to: 10 }, range),
      `"n" >= 1 AND "n" < 10`,
    );
    const hash = { kind: "hash" as const, shards: 2, nodes: ["a"] };
    assert.equal(shardCheck("n", { kind: "hash", modulus: 2, remainder: 1 }, hash), undefined);
  });

  test("partition bounds and foreign partitions", () => {
    assert.equal(
      partitionBound({ kind: "range", from: null, to: 5 }),
      "FOR VALUES FROM (MINVALUE) TO (5)",
    );
    assert.equal(
      partitionBound({ kind: "hash", modulus: 3, remainder: 2 }),
      "FOR VALUES WITH (MODULUS 3, REMAINDER 2)",
    );
    assert.equal(
      createForeignPartition(
        "public",
        "b_paris",
        "b",
        { kind: "list", values: ["paris"] },
        "shard_a",
      ),
      `CREATE FOREIGN TABLE "public"."b_paris" PARTITION OF "public"."b" FOR VALUES IN ('paris') SERVER "shard_a" OPTIONS (schema_name 'public', table_name 'b_paris')`,
    );
  });
});

const mesh = `version: 1
nodes:
  c: { port: 5432 }
  a: { port: 5433 }
roles:
  lib: { password: env:DBMESH_SHARDING_TEST_PW, nodes: [c, a] }
  sync: { password: env:DBMESH_SHARDING_TEST_SYNC, nodes: [c], replication: true }
databases:
  library: { node: c, owner: lib }
  library_a: { node: a, name: library, owner: lib }
sharded:
  booksample:
    coordinator: c/library
    key: location
    columns: "id bigint, location text, PRIMARY KEY (id)"
    list: { paris: a, here: c }
    id: { column: id }
  books: { coordinator: c/library, reference: true, table: public.books }
  authors: { coordinator: c/library, reference: true, columns: "id bigint primary key, name text" }
`;

describe("planning sharded tables on empty databases", () => {
  const empty = {
    schemas: new Map(),
    extensions: new Set<string>(),
    servers: new Map(),
    relations: new Map(),
  };

  test("shard table on the shard node, server, mapping, parent and partitions on the coordinator", () => {
    process.env.DBMESH_SHARDING_TEST_PW = "pw";
    const t = parseTopology("/mesh/dbmesh.yaml", mesh);
    const shard = planShardTables(t, "a", "library", empty, undefined);
    assert.deepEqual(
      shard.steps.map((s) => s.summary),
      [`create shard table public.booksample_paris of booksample (CHECK "location" IN ('paris'))`],
    );
    const c = planCoordinator(t, "c", "library", empty, undefined);
    assert.deepEqual(
      c.steps.map((s) => s.summary),
      [
        "create postgres_fdw server shard_booksample_paris → a/library for shard booksample_paris",
        "map lib to lib@a on shard_booksample_paris",
        "set enable_partitionwise_join=on, enable_partitionwise_aggregate=on for database library",
        "create booksample: partitioned by list (location), ids from booksample_id_seq",
        "create foreign partition public.booksample_paris of booksample → a/library",
        "create local partition public.booksample_here of booksample",
      ],
    );
    assert.ok(c.steps[1]?.secret);
    assert.match(
      unsupportedSharding(t)[0]?.message ?? "",
      /books: table public.books was not found on the coordinator c\/library/,
    );
    // Table constraints go to every shard, the coordinator's local one included.
    const local = c.steps.find((s) => s.summary.startsWith("create local partition"));
    assert.match(
      local?.sql.join("\n") ?? "",
      /PARTITION OF "public"\."booksample" \(PRIMARY KEY \(id\)\) FOR VALUES IN \('here'\)/,
    );
    assert.match(
      shard.steps[0]?.sql.join("\n") ?? "",
      /PRIMARY KEY \(id\), CONSTRAINT "booksample_paris_bounds"/,
    );
  });

  test("a column constraint that a partitioned parent cannot hold is a problem, not a failed step", () => {
    process.env.DBMESH_SHARDING_TEST_PW = "pw";
    const t = parseTopology(
      "/mesh/dbmesh.yaml",
      mesh.replace(
        '"id bigint, location text, PRIMARY KEY (id)"',
        '"id bigint primary key, location text"',
      ),
    );
    const c = planCoordinator(t, "c", "library", empty, undefined);
    assert.ok(!c.steps.some((s) => s.summary.startsWith("create booksample")));
    assert.match(c.problems[0]?.message ?? "", /column id has PRIMARY KEY/);
  });
});

describe("planning a reference table's copies", () => {
  test("the copy's table, then a subscription whose password the plan never shows", () => {
    process.env.DBMESH_SHARDING_TEST_PW = "pw";
    process.env.DBMESH_SHARDING_TEST_SYNC = "s3cret 'sync'";
    const t = parseTopology("/mesh/dbmesh.yaml", mesh);
    const empty = {
      schemas: new Map([["public", { name: "public", owner: "lib" }]]),
      extensions: new Set<string>(),
      servers: new Map(),
      relations: new Map(),
    };
    const r = planReferenceCopies(t, "a", "library", empty as never, undefined);
    assert.deepEqual(r.problems, []);
    assert.deepEqual(
      r.steps.map((s) => [s.phase, s.summary]),
      [
        [2, "create reference table public.authors (copy of c/library)"],
        [3, "subscribe to c/library (publication dbmesh_reference) as sync: authors"],
      ],
    );
    const sub = r.steps[1]!;
    assert.ok(sub.secret);
    assert.match(sub.sql.join(";"), /password=''s3cret /);
    assert.doesNotMatch(sub.display!.join(";"), /s3cret/);
    assert.match(sub.display!.join(";"), /password=''\*{8}''/);
  });
});

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { exampleFixture, type MeshFixture } from "../testing/index.js";
import { keyFilteredQuery, libraryInserts, shardLocalJoin } from "./commands/demo-library.js";

// Workflow 7: examples/library — a coordinator and the shard nodes paris and lagos, built by
// `dbmesh up`; the demo's inserts through the coordinator land on their location's node.

describe("library example: booksample and lend sharded by location", () => {
  let m: MeshFixture;
  let coord: number;
  let paris: number;
  let lagos: number;
  const db = "library";

  before(async () => {
    m = await exampleFixture("library-example", "library", {
      LIBRARIAN_PASSWORD: "librarian 'shelf' secret",
      LIBRARY_SYNC_PASSWORD: "sync secret",
    });
    [coord, paris, lagos] = m.ports as [number, number, number];
    const up = await m.run("up");
    assert.equal(up.code, 0, up.stdout + up.stderr);
  });
  after(async () => {
    await m?.destroy();
  });

  test("plan after up says no changes and reports no problems", async () => {
    const plan = await m.run("plan");
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);
    assert.match(plan.stdout, /no changes/);
    assert.doesNotMatch(plan.stdout + plan.stderr, /problem/);
  });

  test("the demo's inserts land on each location's node; lends follow their booksample", async () => {
    for (const sql of libraryInserts) await m.rows(coord, db, sql, "librarian");
    const at = (port: number, sql: string) => m.rows(port, db, sql, "librarian");
    const books = (node: string) =>
      `SELECT id, location, book_id FROM public.booksample_${node} ORDER BY id`;
    const lends = (node: string) =>
      `SELECT student_id, booksample_id, location FROM public.lend_${node} ORDER BY student_id`;
    assert.deepEqual(await at(paris, books("paris")), [
      ["1", "paris", "101"],
      ["2", "paris", "102"],
    ]);
    assert.deepEqual(await at(lagos, books("lagos")), [
      ["3", "lagos", "201"],
      ["4", "lagos", "202"],
    ]);
    assert.deepEqual(await at(paris, lends("paris")), [["7", "1", "paris"]]);
    assert.deepEqual(await at(lagos, lends("lagos")), [
      ["8", "3", "lagos"],
      ["9", "4", "lagos"],
    ]);
    assert.deepEqual(
      await at(coord, "SELECT location, count(*) FROM booksample GROUP BY location ORDER BY 1"),
      [
        ["lagos", "2"],
        ["paris", "2"],
      ],
    );
  });

  test("each shard joins its rows with its copies of the reference tables", async () => {
    const expected: Record<string, string[][]> = {
      paris: [
        ["1", "Les Misérables", "Amina"],
        ["2", "Nana", null as unknown as string],
      ],
      lagos: [
        ["3", "Things Fall Apart", "Louis"],
        ["4", "Purple Hibiscus", "Ngozi"],
      ],
    };
    for (const [node, port] of [
      ["paris", paris],
      ["lagos", lagos],
    ] as const) {
      let rows: string[][] = [];
      for (let i = 0; i < 50; i++) {
        rows = await m.rows(port, db, shardLocalJoin(node), "librarian");
        if (JSON.stringify(rows) === JSON.stringify(expected[node])) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.deepEqual(rows, expected[node]);
    }
  });

  test("explain: the demo's key-filtered query touches paris only", async () => {
    const r = await m.run("explain", "library/library", keyFilteredQuery, "--json");
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout) as { remote: unknown[]; says: string[] };
    assert.equal(report.remote.length, 1, r.stdout);
    assert.ok(
      report.says.some((s) => /^touches paris /.test(s)),
      r.stdout,
    );
  });

  test("a location with no shard is refused", async () => {
    await assert.rejects(
      m.rows(
        coord,
        db,
        "INSERT INTO booksample (location, book_id) VALUES ('tokyo', 1)",
        "librarian",
      ),
      /no partition/,
    );
  });
});

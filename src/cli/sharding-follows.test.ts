import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { libraryMesh, type MeshFixture } from "../testing/index.js";

// Workflow 7 of the design, following tables: `lend` follows `booksample` through
// `booksample_id`. Users insert lend rows with only booksample_id through the coordinator;
// each lands on the shard node of the booksample it references.

const sharded = `  booksample:
    coordinator: coord/library
    key: location
    columns: "id bigint, state text, lendable boolean, location text, book_id bigint"
    list: { paris: paris, lagos: lagos }
    id: { column: id }
  lend:
    follows: booksample
    through: booksample_id
    columns: "student_id bigint, booksample_id bigint, at timestamptz default now(), returned_at timestamptz"
`;

describe("following tables: lend rows go to the shard of their booksample", () => {
  let m: MeshFixture;
  let coord: number;
  let paris: number;
  let lagos: number;
  const db = "library";
  const viaCoordinator = (sql: string) => m.rows(coord, db, sql, "lib");

  before(async () => {
    m = await libraryMesh({
      name: "sharding-follows",
      shards: ["paris", "lagos"],
      sharded,
      env: { LIB_PASSWORD: "lib 'follow' secret" },
    });
    [coord, paris, lagos] = m.ports as [number, number, number];
  });
  after(async () => {
    await m?.destroy();
  });

  test("plan after apply says no changes", async () => {
    const plan = await m.run("plan");
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);
    assert.doesNotMatch(plan.stdout + plan.stderr, /not yet supported/);
  });

  test("lend rows inserted with only booksample_id land on their booksample's node", async () => {
    await viaCoordinator(
      `INSERT INTO booksample (state, lendable, location, book_id) VALUES
         ('new', true, 'paris', 1), ('used', true, 'lagos', 2), ('new', true, 'lagos', 3)`,
    );
    // ids 1 (paris), 2 (lagos), 3 (lagos)
    await viaCoordinator("INSERT INTO lend (student_id, booksample_id) VALUES (10, 1), (11, 2)");
    const returned = await viaCoordinator(
      "INSERT INTO lend (student_id, booksample_id) VALUES (12, 3) RETURNING student_id, booksample_id, location",
    );
    assert.deepEqual(returned, [["12", "3", "lagos"]]);
    const at = (port: number, table: string) =>
      m.rows(
        port,
        db,
        `SELECT student_id, booksample_id, location FROM public.${table} ORDER BY student_id`,
      );
    assert.deepEqual(await at(paris, "lend_paris"), [["10", "1", "paris"]]);
    assert.deepEqual(await at(lagos, "lend_lagos"), [
      ["11", "2", "lagos"],
      ["12", "3", "lagos"],
    ]);
  });

  test("a lend whose booksample does not exist fails like a foreign key, naming the id", async () => {
    await assert.rejects(
      viaCoordinator("INSERT INTO lend (student_id, booksample_id) VALUES (13, 999)"),
      (e: { code?: string; message?: string }) => {
        assert.equal(e.code, "23503");
        assert.match(e.message ?? "", /booksample_id 999 has no row in booksample/);
        return true;
      },
    );
    assert.deepEqual(await viaCoordinator("SELECT count(*) FROM lend"), [["3"]]);
  });

  test("a join of lend and booksample on the coordinator gives the expected rows", async () => {
    assert.deepEqual(
      await viaCoordinator(
        `SELECT l.student_id, b.book_id, b.location
           FROM lend l JOIN booksample b ON b.id = l.booksample_id AND b.location = l.location
          ORDER BY l.student_id`,
      ),
      [
        ["10", "1", "paris"],
        ["11", "2", "lagos"],
        ["12", "3", "lagos"],
      ],
    );
    // Updates and deletes go through the view.
    await viaCoordinator("UPDATE lend SET returned_at = now() WHERE student_id = 11");
    assert.deepEqual(
      await m.rows(
        lagos,
        db,
        "SELECT student_id FROM public.lend_lagos WHERE returned_at IS NOT NULL",
      ),
      [["11"]],
    );
  });

  test("apply puts back a dropped routing trigger", async () => {
    await m.rows(coord, db, "DROP TRIGGER lend_route ON public.lend");
    const plan = await m.run("plan");
    assert.equal(plan.code, 1, plan.stdout + plan.stderr);
    assert.match(plan.stdout, /create trigger lend_route/);
    const apply = await m.run("apply");
    assert.equal(apply.code, 0, apply.stdout + apply.stderr);
    await viaCoordinator("INSERT INTO lend (student_id, booksample_id) VALUES (14, 1)");
    assert.deepEqual(
      await m.rows(paris, db, "SELECT student_id FROM public.lend_paris ORDER BY 1"),
      [["10"], ["14"]],
    );
  });

  test("apply is idempotent: plan after use still says no changes", async () => {
    const apply = await m.run("apply");
    assert.equal(apply.code, 0, apply.stdout + apply.stderr);
    const plan = await m.run("plan");
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);
  });

  test("reads, aggregates and joins equal those of the same rows in plain local tables", async () => {
    // More rows, with NULLs and a lend per some booksamples; then plain copies on the coordinator.
    await viaCoordinator(
      `INSERT INTO booksample (state, lendable, location, book_id)
         SELECT (ARRAY['new', 'used', NULL])[1 + g % 3], g % 4 <> 0,
                CASE WHEN g % 3 = 0 THEN 'paris' ELSE 'lagos' END, g % 50
           FROM generate_series(1, 3000) g`,
    );
    await viaCoordinator(
      "INSERT INTO lend (student_id, booksample_id, returned_at) SELECT id % 97, id, CASE WHEN id % 5 = 0 THEN now() END FROM booksample WHERE id % 7 = 0",
    );
    await viaCoordinator(
      "CREATE TABLE plain_booksample AS SELECT * FROM booksample; CREATE TABLE plain_lend AS SELECT * FROM lend",
    );
    // The plain copies were read through the coordinator: check they hold every stored row.
    const stored = async (table: string) =>
      Number((await m.rows(paris, db, `SELECT count(*) FROM public.${table}_paris`))[0]![0]) +
      Number((await m.rows(lagos, db, `SELECT count(*) FROM public.${table}_lagos`))[0]![0]);
    assert.deepEqual(await viaCoordinator("SELECT count(*) FROM plain_booksample"), [
      [String(await stored("booksample"))],
    ]);
    assert.deepEqual(await viaCoordinator("SELECT count(*) FROM plain_lend"), [
      [String(await stored("lend"))],
    ]);
    const queries = [
      "SELECT * FROM %b ORDER BY id",
      "SELECT location, state, count(*), sum(book_id), avg(book_id)::numeric(10,4), min(id), max(id) FROM %b GROUP BY location, state ORDER BY 1, 2 NULLS FIRST",
      "SELECT count(*), count(state), count(DISTINCT book_id) FROM %b WHERE lendable AND book_id BETWEEN 10 AND 30",
      "SELECT location, count(*) FROM %b WHERE location = 'paris' GROUP BY location",
      "SELECT b.location, count(l.student_id), count(l.returned_at), sum(b.book_id) FROM %b b JOIN %l l ON l.booksample_id = b.id GROUP BY b.location ORDER BY 1",
      "SELECT b.id, b.book_id, l.student_id FROM %b b LEFT JOIN %l l ON l.booksample_id = b.id WHERE b.book_id = 7 ORDER BY b.id, l.student_id",
      "SELECT book_id, count(*) FROM %b GROUP BY book_id HAVING count(*) > 60 ORDER BY 2 DESC, 1 LIMIT 5",
      "SELECT state, lendable, count(*) FROM %b GROUP BY ROLLUP (state, lendable) ORDER BY 1 NULLS FIRST, 2 NULLS FIRST, 3",
    ];
    for (const q of queries) {
      const sharded = await viaCoordinator(
        q.replaceAll("%b", "booksample").replaceAll("%l", "lend"),
      );
      const plain = await viaCoordinator(
        q.replaceAll("%b", "plain_booksample").replaceAll("%l", "plain_lend"),
      );
      assert.ok(plain.length > 0, q);
      assert.deepEqual(sharded, plain, q);
    }
    await viaCoordinator("DROP TABLE plain_booksample, plain_lend");
  });
});

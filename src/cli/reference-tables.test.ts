import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { libraryMesh, type MeshFixture } from "../testing/index.js";

// Reference tables: `books` and `students` live on the coordinator and are copied to every
// shard node of booksample by logical replication, so a shard joins its rows with them
// locally. Changes on the coordinator reach the copies; doctor compares them.

const sharded = `  booksample:
    coordinator: coord/library
    key: location
    columns: "id bigint, state text, location text, book_id bigint"
    list: { paris: paris, lagos: lagos }
    id: { column: id }
  books:
    coordinator: coord/library
    reference: true
    columns: "id bigint primary key, title text"
  students:
    coordinator: coord/library
    reference: true
    columns: "id bigint, name text"
`;

describe("reference tables: copied to every shard node and kept up to date", () => {
  let m: MeshFixture;
  let coord: number;
  let paris: number;
  let lagos: number;
  const db = "library";
  const viaCoordinator = (sql: string) => m.rows(coord, db, sql, "lib");
  /** The rows of a query on a node once they equal `want` (replication is asynchronous). */
  const eventually = async (port: number, sql: string, want: string[][]) => {
    let got: string[][] = [];
    for (let i = 0; i < 100; i++) {
      got = await m.rows(port, db, sql);
      if (JSON.stringify(got) === JSON.stringify(want)) return;
      await sleep(100);
    }
    assert.deepEqual(got, want);
  };

  before(async () => {
    m = await libraryMesh({
      name: "reference-tables",
      shards: ["paris", "lagos"],
      sharded,
      roles: "  libsync: { password: env:LIBSYNC_PASSWORD, nodes: [coord], replication: true }\n",
      env: { LIB_PASSWORD: "lib ref secret", LIBSYNC_PASSWORD: "sync 'ref' secret" },
    });
    [coord, paris, lagos] = m.ports as [number, number, number];
  });
  after(async () => {
    await m?.destroy();
  });

  test("a second apply changes nothing", async () => {
    const plan = await m.run("plan");
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);
  });

  test("rows written on the coordinator reach every copy: inserts, updates, deletes", async () => {
    await viaCoordinator(
      "INSERT INTO books VALUES (1, 'Les Misérables'), (2, 'Things Fall Apart')",
    );
    await viaCoordinator("INSERT INTO students VALUES (10, 'Amina'), (11, 'Louis'), (12, 'Zoé')");
    await viaCoordinator("UPDATE books SET title = 'Things Fall Apart (1958)' WHERE id = 2");
    // students has no primary key: updates and deletes go by the whole row.
    await viaCoordinator("UPDATE students SET name = 'Louis B.' WHERE id = 11");
    await viaCoordinator("DELETE FROM students WHERE id = 12");
    for (const port of [paris, lagos]) {
      await eventually(port, "SELECT id, title FROM books ORDER BY id", [
        ["1", "Les Misérables"],
        ["2", "Things Fall Apart (1958)"],
      ]);
      await eventually(port, "SELECT id, name FROM students ORDER BY id", [
        ["10", "Amina"],
        ["11", "Louis B."],
      ]);
    }
  });

  test("a shard joins its rows with the copy locally", async () => {
    await viaCoordinator(
      "INSERT INTO booksample (state, location, book_id) VALUES ('new', 'paris', 1), ('new', 'lagos', 2)",
    );
    await eventually(paris, "SELECT count(*) FROM books", [["2"]]);
    assert.deepEqual(
      await m.rows(
        paris,
        db,
        "SELECT b.title FROM public.booksample_paris s JOIN public.books b ON b.id = s.book_id",
      ),
      [["Les Misérables"]],
    );
  });

  test("status lists the source and each copy; doctor finds them in sync, then a copy changed by hand", async () => {
    const status = JSON.parse((await m.run("status", "--json")).stdout);
    const books = status.shards
      .filter((s: { table: string }) => s.table === "books")
      .map((s: { node: string; holds: string; rows: number }) => [s.node, s.holds, s.rows]);
    assert.deepEqual(books, [
      ["coord", "(source)", 2],
      ["paris", "(copy)", 2],
      ["lagos", "(copy)", 2],
    ]);
    const ok = await m.run("doctor", "--json");
    assert.equal(ok.code, 0, ok.stdout);
    const checks = JSON.parse(ok.stdout).checks.filter(
      (c: { check: string }) => c.check === "reference",
    );
    assert.equal(checks.length, 4);
    // A row deleted on a copy (a subscriber's table is writable by its owner) is found.
    await m.rows(lagos, db, "DELETE FROM public.students WHERE id = 10");
    const bad = await m.run("doctor");
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /sharded\.students copy on lagos\/library: 1 rows here, 2 on coord/);
    await m.rows(lagos, db, "INSERT INTO public.students VALUES (10, 'Amina')");
  });

  test("a reference table added to the file is copied by the next apply, with its rows", async () => {
    await m.rows(
      coord,
      db,
      "CREATE TABLE public.teachers (id bigint primary key, name text); ALTER TABLE public.teachers OWNER TO lib",
    );
    m.rewrite(
      (t) =>
        `${t}  teachers:\n    coordinator: coord/library\n    reference: true\n    columns: "id bigint primary key, name text"\n`,
    );
    // The existing table is not dbmesh's: apply says so rather than taking it over (the copies
    // are made and subscribed already; they receive rows once the source is dbmesh's).
    const refused = await m.run("apply");
    assert.equal(refused.code, 1);
    assert.match(refused.stdout, /refresh subscription/);
    assert.match(
      refused.stdout,
      /public\.teachers exists in coord\/library and was not made by dbmesh/,
    );
    await m.rows(coord, db, "DROP TABLE public.teachers");
    const apply = await m.run("apply");
    assert.equal(apply.code, 0, apply.stdout + apply.stderr);
    assert.match(apply.stdout, /add to publication dbmesh_reference: "public"\."teachers"/);
    await viaCoordinator("INSERT INTO teachers VALUES (1, 'Chinua')");
    await eventually(paris, "SELECT name FROM teachers", [["Chinua"]]);
    await eventually(lagos, "SELECT name FROM teachers", [["Chinua"]]);
    assert.equal((await m.run("plan")).code, 0);
  });

  test("table: sources: an existing table as a reference table, another as a distributed table's template", async () => {
    await m.rows(
      coord,
      db,
      `CREATE TABLE public.authors (id int PRIMARY KEY, name text NOT NULL, born date);
       INSERT INTO public.authors VALUES (1, 'Chinua Achebe', '1930-11-16'), (2, 'Émile Zola', NULL);
       ALTER TABLE public.authors OWNER TO lib;
       CREATE TABLE public.loan_template (id bigint, location text, amount numeric(8,2) NOT NULL DEFAULT 0, PRIMARY KEY (id, location));`,
    );
    const base = readFileSync(m.file, "utf8");
    m.rewrite(
      () =>
        `${base}  authors:\n    coordinator: coord/library\n    reference: true\n  loans:\n    coordinator: coord/library\n    key: location\n    table: public.loan_template\n    list: { paris: paris, lagos: lagos }\n`,
    );
    const apply = await m.run("apply");
    assert.equal(apply.code, 0, apply.stdout + apply.stderr);
    // The user's table is published as it is, its rows copied with its types and key.
    for (const port of [paris, lagos])
      await eventually(port, "SELECT id, name, born FROM authors ORDER BY id", [
        ["1", "Chinua Achebe", "1930-11-16"],
        ["2", "Émile Zola", null as unknown as string],
      ]);
    await viaCoordinator("INSERT INTO loans (id, location) VALUES (1, 'paris'), (2, 'lagos')");
    assert.deepEqual(await m.rows(paris, db, "SELECT id, amount FROM public.loans_paris"), [
      ["1", "0.00"],
    ]);
    await assert.rejects(
      m.rows(paris, db, "INSERT INTO public.loans_paris (id, location) VALUES (1, 'paris')"),
      (e: { code?: string }) => e.code === "23505",
    );
    assert.equal((await m.run("plan")).code, 0);
  });

  test("an existing table named as its own table: source is converted: its rows move to the shards", async () => {
    await m.rows(
      coord,
      db,
      `CREATE TABLE public.visits (id bigint PRIMARY KEY, city text NOT NULL, n int);
       INSERT INTO public.visits SELECT g, (ARRAY['paris', 'lagos', 'tokyo'])[1 + g % 3], g FROM generate_series(1, 30) g;
       ALTER TABLE public.visits OWNER TO lib;`,
    );
    const base = readFileSync(m.file, "utf8");
    m.rewrite(
      () =>
        `${base}  visits:\n    coordinator: coord/library\n    key: city\n    table: public.visits\n    list: { paris: paris, lagos: lagos }\n    id: { column: id }\n`,
    );
    // A row whose key has no shard fails the conversion whole: the table is as it was.
    const refused = await m.run("apply");
    assert.equal(refused.code, 1);
    assert.match(refused.stdout, /convert public\.visits into visits/);
    assert.match(refused.stdout, /no partition of relation "visits_dbmesh_new" found for row/);
    assert.deepEqual(
      await m.rows(
        coord,
        db,
        "SELECT relkind::text, (SELECT count(*) FROM public.visits) FROM pg_class WHERE oid = 'public.visits'::regclass",
      ),
      [["r", "30"]],
    );

    await m.rows(coord, db, "DELETE FROM public.visits WHERE city = 'tokyo'");
    const apply = await m.run("apply");
    assert.equal(apply.code, 0, apply.stdout + apply.stderr);
    assert.deepEqual(await viaCoordinator("SELECT count(*), sum(n) FROM visits"), [["20", "310"]]);
    assert.deepEqual(await m.rows(paris, db, "SELECT count(*) FROM public.visits_paris"), [["10"]]);
    assert.deepEqual(await m.rows(lagos, db, "SELECT count(*) FROM public.visits_lagos"), [["10"]]);
    // The original is kept; new ids continue after the largest.
    assert.deepEqual(await m.rows(coord, db, "SELECT count(*) FROM public.visits_before_dbmesh"), [
      ["20"],
    ]);
    assert.deepEqual(
      await viaCoordinator("INSERT INTO visits (city, n) VALUES ('paris', 0) RETURNING id"),
      [["31"]],
    );
    assert.equal((await m.run("plan")).code, 0);
  });

  test("--prune: a reference table removed from the file leaves the publication and its copies go", async () => {
    m.rewrite((t) =>
      t.replace(
        '  students:\n    coordinator: coord/library\n    reference: true\n    columns: "id bigint, name text"\n',
        "",
      ),
    );
    const plan = await m.run("plan", "--prune");
    assert.equal(plan.code, 1);
    assert.match(
      plan.stdout,
      /remove public\.students from publication dbmesh_reference \(--prune\)/,
    );
    assert.match(
      plan.stdout,
      /refresh subscription dbmesh_ref_\w+: stop copying public\.students \(--prune\)/,
    );
    assert.match(plan.stdout, /drop reference copy public\.students \(--prune\)/);
    const apply = await m.run("apply", "--prune");
    assert.equal(apply.code, 0, apply.stdout + apply.stderr);
    const exists = async (port: number) =>
      (await m.rows(port, db, "SELECT to_regclass('public.students') IS NOT NULL"))[0]![0];
    assert.equal(await exists(paris), "f");
    assert.equal(await exists(lagos), "f");
    // The coordinator's table is the user's data: it stays.
    assert.equal(await exists(coord), "t");
    // The other reference tables still replicate.
    await viaCoordinator("INSERT INTO books VALUES (3, 'Nana')");
    await eventually(lagos, "SELECT title FROM books WHERE id = 3", [["Nana"]]);
    assert.equal((await m.run("plan", "--prune")).code, 0);
  });
});

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { libraryMesh, type MeshFixture } from "../testing/index.js";

// Workflow 7 of the design: distributed tables built by apply on three real servers, a
// coordinator and two shard nodes, used through the coordinator as one table each.

const sharded = `  booksample:
    coordinator: coord/library
    key: location
    columns: "id bigint, state text, lendable boolean, location text, book_id bigint"
    list: { paris: paris, lagos: lagos }
    default: lagos
    id: { column: id }
  readings:
    coordinator: coord/library
    key: reading
    columns: "reading int, note text"
    range:
      - { to: 100, node: coord }
      - { from: 100, to: 200, node: paris }
      - { from: 200, to: 300, node: lagos }
  events:
    coordinator: coord/library
    key: event_id
    columns: "event_id bigint, what text"
    hash: { shards: 2, nodes: [paris, lagos] }
    id: { column: event_id, sequence: false }
  event_notes:
    follows: events
    through: event_id
    columns: "event_id bigint, note text"
`;

describe("sharded tables: apply builds them, the coordinator routes rows", () => {
  let m: MeshFixture;
  let coord: number;
  let paris: number;
  let lagos: number;
  const db = "library";
  const viaCoordinator = (sql: string) => m.rows(coord, db, sql, "lib");

  before(async () => {
    m = await libraryMesh({
      name: "sharding",
      shards: ["paris", "lagos"],
      sharded,
      env: { LIB_PASSWORD: "lib 'shard' secret" },
    });
    [coord, paris, lagos] = m.ports as [number, number, number];
  });
  after(async () => {
    await m?.destroy();
  });

  test("a second apply and plan change nothing", async () => {
    const apply = await m.run("apply");
    assert.equal(apply.code, 0, apply.stdout + apply.stderr);
    assert.match(apply.stdout, /no changes/);
    const plan = await m.run("plan");
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);
  });

  test("list: rows inserted at the coordinator land on their key's node; others go to the default", async () => {
    await viaCoordinator(
      `INSERT INTO booksample (state, lendable, location, book_id) VALUES
         ('new', true, 'paris', 1), ('used', false, 'paris', 2),
         ('new', true, 'lagos', 3), ('worn', true, 'tokyo', 4)`,
    );
    const at = (port: number, table: string) =>
      m.rows(port, db, `SELECT location, book_id FROM public.${table} ORDER BY book_id`);
    assert.deepEqual(await at(paris, "booksample_paris"), [
      ["paris", "1"],
      ["paris", "2"],
    ]);
    assert.deepEqual(await at(lagos, "booksample_lagos"), [["lagos", "3"]]);
    assert.deepEqual(await at(lagos, "booksample_default"), [["tokyo", "4"]]);
    // Ids come from the coordinator's sequence: unique across shards.
    const ids = await viaCoordinator("SELECT id FROM booksample ORDER BY id");
    assert.deepEqual(ids, [["1"], ["2"], ["3"], ["4"]]);
  });

  test("selects and aggregates through the coordinator equal the inserted rows", async () => {
    assert.deepEqual(
      await viaCoordinator(
        "SELECT location, state, lendable, book_id FROM booksample ORDER BY book_id",
      ),
      [
        ["paris", "new", "t", "1"],
        ["paris", "used", "f", "2"],
        ["lagos", "new", "t", "3"],
        ["tokyo", "worn", "t", "4"],
      ],
    );
    assert.deepEqual(
      await viaCoordinator(
        "SELECT location, count(*), sum(book_id) FROM booksample GROUP BY location ORDER BY location",
      ),
      [
        ["lagos", "1", "3"],
        ["paris", "2", "3"],
        ["tokyo", "1", "4"],
      ],
    );
  });

  test("a shard table refuses rows outside its bounds (CHECK)", async () => {
    await assert.rejects(
      m.rows(paris, db, "INSERT INTO public.booksample_paris (location) VALUES ('lagos')"),
      (e: { code?: string }) => e.code === "23514",
    );
    await assert.rejects(
      m.rows(lagos, db, "INSERT INTO public.booksample_default (location) VALUES ('paris')"),
      (e: { code?: string }) => e.code === "23514",
    );
  });

  test("range: a local shard on the coordinator, remote ones, and a key with no shard", async () => {
    await viaCoordinator(
      "INSERT INTO readings VALUES (5, 'low'), (150, 'mid'), (250, 'high'), (199, 'mid2')",
    );
    assert.deepEqual(await m.rows(coord, db, "SELECT reading FROM public.readings_p0"), [["5"]]);
    assert.deepEqual(await m.rows(paris, db, "SELECT reading FROM public.readings_p1 ORDER BY 1"), [
      ["150"],
      ["199"],
    ]);
    assert.deepEqual(await m.rows(lagos, db, "SELECT reading FROM public.readings_p2"), [["250"]]);
    assert.deepEqual(await viaCoordinator("SELECT count(*), sum(reading) FROM readings"), [
      ["4", "604"],
    ]);
    await assert.rejects(
      viaCoordinator("INSERT INTO readings VALUES (300, 'none')"),
      (e: { code?: string; message?: string }) => {
        assert.equal(e.code, "23514");
        assert.match(e.message ?? "", /no partition of relation "readings" found for row/);
        return true;
      },
    );
  });

  test("hash: every row is stored once, on one of the shard nodes", async () => {
    const values = Array.from({ length: 20 }, (_, i) => `(${i + 1}, 'e${i + 1}')`).join(", ");
    await viaCoordinator(`INSERT INTO events VALUES ${values}`);
    const p0 = await m.rows(paris, db, "SELECT event_id FROM public.events_p0");
    const p1 = await m.rows(lagos, db, "SELECT event_id FROM public.events_p1");
    const stored = [...p0, ...p1].map((r) => Number(r[0])).sort((a, b) => a - b);
    assert.deepEqual(
      stored,
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    assert.ok(p0.length > 0 && p1.length > 0, "both hash shards hold rows");
    // A table following a hash-placed one: each note lands beside its event.
    await viaCoordinator("INSERT INTO event_notes VALUES (1, 'one'), (2, 'two'), (3, 'three')");
    const notesOn = async (port: number, table: string) =>
      (await m.rows(port, db, `SELECT event_id FROM public.${table}`)).map((r) => r[0]);
    for (const [port, events, notes] of [
      [paris, p0, "event_notes_p0"],
      [lagos, p1, "event_notes_p1"],
    ] as const)
      for (const id of await notesOn(port, notes))
        assert.ok(
          events.some((e) => e[0] === id),
          `note ${id} is beside its event`,
        );
    assert.deepEqual(await viaCoordinator("SELECT count(*) FROM event_notes"), [["3"]]);
    assert.deepEqual(await viaCoordinator("SELECT count(*), sum(event_id) FROM events"), [
      ["20", "210"],
    ]);
  });

  test("a query filtered by the key touches one shard (dbmesh explain on the coordinator)", async () => {
    const r = await m.run(
      "explain",
      "SELECT count(*) FROM booksample WHERE location = 'paris'",
      "--json",
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.node, "coord");
    assert.equal(report.role, "lib");
    assert.deepEqual(report.nodes, ["paris"]);
    const all = JSON.parse(
      (await m.run("explain", "SELECT count(*) FROM booksample", "--json")).stdout,
    );
    assert.deepEqual([...all.nodes].sort(), ["lagos", "paris"]);
  });

  test("apply puts back a dropped foreign partition and a reset setting, keeping the shard's rows", async () => {
    await m.rows(coord, db, "DROP FOREIGN TABLE public.events_p1");
    await m.rows(coord, db, "ALTER DATABASE library RESET enable_partitionwise_join");
    const plan = await m.run("plan");
    assert.equal(plan.code, 1, plan.stdout + plan.stderr);
    assert.match(plan.stdout, /create foreign partition public\.events_p1/);
    assert.match(plan.stdout, /enable_partitionwise_join=on/);
    const apply = await m.run("apply");
    assert.equal(apply.code, 0, apply.stdout + apply.stderr);
    assert.deepEqual(await viaCoordinator("SELECT count(*), sum(event_id) FROM events"), [
      ["20", "210"],
    ]);
  });

  test("status lists each shard with its node and row count; doctor passes every shard", async () => {
    const r = await m.run("status", "--json");
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const shards: { table: string; shard: string; node: string; rows: number; state: string }[] =
      JSON.parse(r.stdout).shards;
    const of = (table: string) =>
      shards.filter((s) => s.table === table).map((s) => [s.shard, s.node, s.state, s.rows]);
    assert.deepEqual(of("booksample"), [
      ["public.booksample_paris", "paris", "ok", 2],
      ["public.booksample_lagos", "lagos", "ok", 1],
      ["public.booksample_default", "lagos", "ok", 1],
    ]);
    assert.deepEqual(of("readings"), [
      ["public.readings_p0", "coord", "ok", 1],
      ["public.readings_p1", "paris", "ok", 2],
      ["public.readings_p2", "lagos", "ok", 1],
    ]);
    const text = await m.run("status");
    assert.match(
      text.stdout,
      /booksample +\| public\.booksample_paris +\| paris +\| paris\/library \| ok +\| 2 +\| \d/,
    );
    const doctor = await m.run("doctor", "--json");
    assert.equal(doctor.code, 0, doctor.stdout + doctor.stderr);
    const { checks }: { checks: { check: string; ok: boolean }[] } = JSON.parse(doctor.stdout);
    const bounds = checks.filter((c) => c.check === "shard-bounds");
    const reach = checks.filter((c) => c.check === "shard-reach");
    // Every remote shard: booksample 3, readings 2, events 2, event_notes 2.
    assert.equal(bounds.length, 9);
    assert.equal(reach.length, 9);
  });

  test("doctor finds rows stored outside their shard's bounds and names their keys", async () => {
    await m.rows(
      paris,
      db,
      "ALTER TABLE public.booksample_paris DROP CONSTRAINT booksample_paris_bounds",
    );
    await m.rows(
      paris,
      db,
      "INSERT INTO public.booksample_paris (id, location) VALUES (99, 'rome')",
    );
    try {
      const doctor = await m.run("doctor");
      assert.equal(doctor.code, 1, doctor.stdout + doctor.stderr);
      assert.match(doctor.stdout, /booksample_paris on paris\/library/);
      assert.match(doctor.stdout, /keys rome are stored here/);
    } finally {
      await m.rows(paris, db, "DELETE FROM public.booksample_paris WHERE location = 'rome'");
      // The missing check is put back by apply, as the file declares it.
      const apply = await m.run("apply");
      assert.equal(apply.code, 0, apply.stdout + apply.stderr);
      assert.match(apply.stdout, /change the bounds of shard public\.booksample_paris/);
    }
  });

  test("a shard node down: queries that need it name it, queries pruned to other shards work", async () => {
    const down = await m.run("down", "--node", "lagos");
    assert.equal(down.code, 0, down.stdout + down.stderr);
    try {
      assert.deepEqual(
        await viaCoordinator("SELECT count(*) FROM booksample WHERE location = 'paris'"),
        [["2"]],
      );
      await viaCoordinator("INSERT INTO booksample (location, book_id) VALUES ('paris', 5)");
      await assert.rejects(viaCoordinator("SELECT count(*) FROM booksample"), (e: Error) => {
        assert.match(e.message, /could not connect to server "shard_booksample_lagos"/);
        return true;
      });
      await assert.rejects(
        viaCoordinator("INSERT INTO booksample (location, book_id) VALUES ('lagos', 6)"),
        /shard_booksample_lagos/,
      );
      const doctor = await m.run("doctor");
      assert.equal(doctor.code, 1);
      assert.match(
        doctor.stdout,
        /cannot read its foreign partition public\.booksample_lagos on lagos/,
      );
      assert.match(doctor.stdout, /dbmesh up --node lagos/);
      const status = JSON.parse((await m.run("status", "--json")).stdout);
      const lagosShards = status.shards.filter((s: { node: string }) => s.node === "lagos");
      assert.ok(lagosShards.length > 0);
      for (const s of lagosShards) assert.equal(s.state, "unreachable");
    } finally {
      const up = await m.run("up", "--node", "lagos");
      assert.equal(up.code, 0, up.stdout + up.stderr);
    }
    assert.deepEqual(await viaCoordinator("SELECT count(*) FROM booksample"), [["5"]]);
    await viaCoordinator("DELETE FROM booksample WHERE book_id = 5");
  });

  test("plan after use still says no changes", async () => {
    const plan = await m.run("plan");
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);
  });

  test("a list value added beside the default shard that holds its rows is refused, naming the keys", async () => {
    m.rewrite((t) =>
      t.replace(
        "list: { paris: paris, lagos: lagos }",
        "list: { paris: paris, lagos: lagos, tokyo: paris }",
      ),
    );
    const plan = await m.run("plan");
    assert.equal(plan.code, 1);
    assert.match(
      plan.stdout,
      /public\.booksample_default on lagos\/library holds rows with location tokyo, outside the bounds the file declares for it now/,
    );
    assert.match(
      plan.stdout,
      /create foreign partition public\.booksample_tokyo .*\(once booksample_default holds none of its rows\)/,
    );
    const refused = await m.run("apply");
    assert.equal(refused.code, 1);
    assert.match(
      refused.stdout,
      /the default shard booksample_default holds rows with location tokyo/,
    );
    // Nothing was hidden: the tokyo row is still read from the default shard.
    assert.deepEqual(
      await viaCoordinator("SELECT book_id FROM booksample WHERE location = 'tokyo'"),
      [["4"]],
    );

    // Once the row is out of the default shard, apply narrows it and adds the new shard.
    await viaCoordinator("DELETE FROM booksample WHERE location = 'tokyo'");
    const apply = await m.run("apply");
    assert.equal(apply.code, 0, apply.stdout + apply.stderr);
    await viaCoordinator("INSERT INTO booksample (location, book_id) VALUES ('tokyo', 4)");
    assert.deepEqual(await m.rows(paris, db, "SELECT book_id FROM public.booksample_tokyo"), [
      ["4"],
    ]);
    await assert.rejects(
      m.rows(lagos, db, "INSERT INTO public.booksample_default (location) VALUES ('tokyo')"),
      (e: { code?: string }) => e.code === "23514",
    );
    assert.equal((await m.run("plan")).code, 0);
  });

  test("a column added in the file reaches the parent and every shard; a dropped one is refused", async () => {
    m.rewrite((t) =>
      t.replace(
        'columns: "reading int, note text"',
        'columns: "reading int, note text, unit text"',
      ),
    );
    const plan = await m.run("plan");
    assert.equal(plan.code, 1);
    assert.match(plan.stdout, /add column unit to readings \(its partitions follow\)/);
    assert.match(plan.stdout, /add column unit to shard public\.readings_p1 of readings/);
    const apply = await m.run("apply");
    assert.equal(apply.code, 0, apply.stdout + apply.stderr);
    await viaCoordinator(
      "INSERT INTO readings VALUES (120, 'with unit', 'kPa'), (20, 'local', 'Pa')",
    );
    assert.deepEqual(
      await m.rows(paris, db, "SELECT unit FROM public.readings_p1 WHERE reading = 120"),
      [["kPa"]],
    );
    assert.deepEqual(
      await viaCoordinator("SELECT reading, unit FROM readings WHERE unit IS NOT NULL ORDER BY 1"),
      [
        ["20", "Pa"],
        ["120", "kPa"],
      ],
    );
    assert.equal((await m.run("plan")).code, 0);

    m.rewrite((t) =>
      t.replace(
        'columns: "reading int, note text, unit text"',
        'columns: "reading int, unit text"',
      ),
    );
    const dropped = await m.run("plan");
    assert.equal(dropped.code, 1);
    assert.match(
      dropped.stdout,
      /sharded\.readings: public\.readings in coord\/library has column note, which the file no longer declares; apply does not drop columns/,
    );
    m.rewrite((t) =>
      t.replace(
        'columns: "reading int, unit text"',
        'columns: "reading int, note text, unit text"',
      ),
    );
  });

  test("apply --prune leaves every shard, partition and row in place", async () => {
    const count = () =>
      viaCoordinator(
        "SELECT (SELECT count(*) FROM booksample), (SELECT count(*) FROM readings), (SELECT count(*) FROM events), (SELECT count(*) FROM event_notes)",
      );
    const before = await count();
    const apply = await m.run("apply", "--prune");
    assert.equal(apply.code, 0, apply.stdout + apply.stderr);
    assert.doesNotMatch(apply.stdout, /drop/);
    assert.deepEqual(await count(), before);
    assert.equal((await m.run("plan", "--prune")).code, 0);
  });
});

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { libraryMesh, type MeshFixture } from "../testing/index.js";

// `dbmesh shard move`: the rows of one key of booksample, and the lend rows that follow them,
// move to another node while clients keep writing every key through the coordinator.

const sharded = `  booksample:
    coordinator: coord/library
    key: location
    columns: "id bigint, state text, lendable boolean, location text, book_id bigint"
    list: { paris: paris, lagos: lagos } # where each location's rows live
    id: { column: id }
  lend:
    follows: booksample
    through: booksample_id
    columns: "student_id bigint, booksample_id bigint, at timestamptz default now(), returned_at timestamptz"
`;

describe("shard move: one key's rows change node while writes go on", () => {
  let m: MeshFixture;
  let coord: number;
  let paris: number;
  let rome: number;
  const db = "library";
  const viaCoordinator = (sql: string) => m.rows(coord, db, sql, "lib");
  const exists = async (port: number, table: string) =>
    (await m.rows(port, db, `SELECT to_regclass('public.${table}') IS NOT NULL`))[0]![0] === "t";

  before(async () => {
    m = await libraryMesh({
      name: "shard-move",
      shards: ["paris", "lagos", "rome"],
      sharded,
      env: { LIB_PASSWORD: "lib move secret" },
    });
    [coord, paris, , rome] = m.ports as [number, number, number, number];
    await viaCoordinator(
      `INSERT INTO booksample (state, location, book_id)
         SELECT 'new', CASE WHEN g % 2 = 0 THEN 'paris' ELSE 'lagos' END, g FROM generate_series(1, 400) g`,
    );
    await viaCoordinator(
      "INSERT INTO lend (student_id, booksample_id) SELECT id, id FROM booksample WHERE id <= 100",
    );
  });
  after(async () => {
    await m?.destroy();
  });

  test("every row written before and during the move is stored once, on its declared node", async () => {
    // Two clients insert paris and lagos rows (and a lend for each) until the move is over.
    let moving = true;
    const acked: { id: string; location: string }[] = [];
    const errors: string[] = [];
    let retries = 0;
    const writer = async (location: string) => {
      const c = await m.connect(coord, db, "lib");
      try {
        for (let i = 0; moving || i < 5; i++) {
          // A statement already on its way to the old node when the shard switched is told
          // to retry (40001), as a serialization failure is, and retried; anything else fails.
          const retrying = async <T>(run: () => Promise<T>): Promise<T> => {
            for (;;) {
              try {
                return await run();
              } catch (e) {
                if ((e as { code?: string }).code !== "40001") throw e;
                retries++;
              }
            }
          };
          try {
            const r = await retrying(() =>
              c.query(
                "INSERT INTO booksample (state, location, book_id) VALUES ('during', $1, $2) RETURNING id",
                [location, 1000 + i],
              ),
            );
            const id = String(r.rows[0].id);
            acked.push({ id, location });
            await retrying(() =>
              c.query("INSERT INTO lend (student_id, booksample_id) VALUES ($1, $1)", [id]),
            );
          } catch (e) {
            errors.push(`${location}: ${(e as Error).message}`);
          }
        }
      } finally {
        await c.end();
      }
    };
    const writers = [writer("paris"), writer("lagos")];
    const move = await m.run("shard", "move", "booksample", "paris", "--to", "rome");
    moving = false;
    await Promise.all(writers);
    assert.equal(move.code, 0, move.stdout + move.stderr);
    assert.match(move.stdout, /sharded\.booksample\.list\.paris: paris → rome/);
    assert.match(
      move.stdout,
      /moved booksample paris from paris\/library to rome\/library: booksample \d+ rows, lend \d+ rows; writes to it waited \d+ ms/,
    );
    assert.deepEqual(errors, []);
    assert.ok(retries <= 2, `at most one retry per writer, got ${retries}`);
    assert.ok(acked.some((a) => a.location === "lagos"));

    // Every acknowledged row once through the coordinator; paris rows only on rome now.
    const all = await viaCoordinator("SELECT id, location FROM booksample");
    const ids = all.map((r) => r[0]);
    assert.equal(new Set(ids).size, ids.length, "no id twice");
    const have = new Set(ids);
    for (const a of acked) assert.ok(have.has(a.id), `row ${a.id} (${a.location}) kept`);
    assert.equal(all.length, 400 + acked.length);
    const parisRows = all.filter((r) => r[1] === "paris").length;
    assert.deepEqual(await m.rows(rome, db, "SELECT count(*) FROM public.booksample_paris"), [
      [String(parisRows)],
    ]);
    assert.equal(await exists(paris, "booksample_paris"), false);
    assert.equal(await exists(paris, "lend_paris"), false);
    // lend rows followed: each on the node of its booksample.
    const lends = await viaCoordinator(
      "SELECT count(*) FROM lend l JOIN booksample b ON b.id = l.booksample_id WHERE b.location = 'paris'",
    );
    assert.deepEqual(await m.rows(rome, db, "SELECT count(*) FROM public.lend_paris"), lends);
    assert.deepEqual(await viaCoordinator("SELECT count(*) FROM lend"), [
      [String(100 + acked.length)],
    ]);
  });

  test("the file says where the shard is now, comments kept; plan has nothing left to do", async () => {
    const text = readFileSync(m.file, "utf8");
    assert.match(text, /list: \{ paris: rome, lagos: lagos \} # where each location's rows live/);
    const plan = await m.run("plan");
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);
    const again = await m.run("shard", "move", "booksample", "paris", "--to", "rome");
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /already on rome\/library; nothing to move/);
  });

  test("a placement edited by hand is not applied blindly: plan names the move that finishes it", async () => {
    m.rewrite((t) => t.replace("paris: rome", "paris: paris"));
    const plan = await m.run("plan");
    assert.equal(plan.code, 1);
    assert.match(
      plan.stdout,
      /shard booksample_paris is on rome\/library \(server shard_booksample_paris\), but the file places it on paris\/library; its rows have not moved/,
    );
    assert.match(plan.stdout, /dbmesh shard move booksample paris --to paris/);
    // Reads still come from rome until the rows move.
    const before = await viaCoordinator("SELECT count(*) FROM booksample WHERE location = 'paris'");
    const back = await m.run("shard", "move", "booksample", "paris", "--to", "paris");
    assert.equal(back.code, 0, back.stdout + back.stderr);
    assert.deepEqual(
      await m.rows(paris, db, "SELECT count(*) FROM public.booksample_paris"),
      before,
    );
    assert.equal(await exists(rome, "booksample_paris"), false);
    assert.equal((await m.run("plan")).code, 0);
  });

  test("bad requests are refused before anything changes", async () => {
    const text = readFileSync(m.file, "utf8");
    const noKey = await m.run("shard", "move", "booksample", "tokyo", "--to", "rome");
    assert.equal(noKey.code, 2);
    assert.match(noKey.stderr, /declares no shard tokyo/);
    const follower = await m.run("shard", "move", "lend", "paris", "--to", "rome");
    assert.equal(follower.code, 2);
    const noNode = await m.run("shard", "move", "booksample", "paris", "--to", "oslo");
    assert.match(noNode.stderr, /unknown node oslo/);
    assert.equal(readFileSync(m.file, "utf8"), text);
  });
});

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type MeshFixture, scottFixture } from "../testing/index.js";

const bin = join(process.cwd(), "bin", "dbmesh.js");

describe("an interrupted up is finished by apply; --prune drops only what dbmesh made", () => {
  let m: MeshFixture;
  before(async () => {
    m = await scottFixture("resume");
  });
  after(async () => {
    await m?.destroy();
  });

  test("killing up right after a database is created, then apply, converges", async () => {
    const child = spawn(process.execPath, [bin, "-f", m.file, "up"], {
      env: { ...process.env, ...m.env },
    });
    let out = "";
    const killed = await new Promise<boolean>((resolve) => {
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (/create database db_postgre\d/.test(out)) {
          child.kill("SIGKILL");
          resolve(true);
        }
      });
      child.on("exit", () => resolve(false));
    });
    assert.ok(killed, `up finished before it could be interrupted:\n${out}`);
    const apply = await m.run("apply");
    assert.equal(apply.code, 0, apply.stdout + apply.stderr);
    const plan = await m.run("plan");
    assert.equal(plan.code, 0, plan.stdout);
    const [p1, p2] = m.ports as [number, number];
    const source = await m.rows(p1, "db_postgre1", "SELECT * FROM scott.bonus ORDER BY 1");
    assert.deepEqual(
      await m.rows(p2, "db_postgre2", "SELECT * FROM public.bonus ORDER BY 1", "pablo2"),
      source,
    );
  });

  test("objects removed from the file stay until --prune, which drops just those", async () => {
    const [, p2] = m.ports as [number, number];
    await m.rows(p2, "db_postgre2", "CREATE TABLE public.mine (id int)", "pablo2");
    m.rewrite((t) => t.replace("    copies: { into: public, tables: [scott.bonus] }\n", ""));
    assert.equal((await m.run("plan")).code, 0, "without --prune nothing is dropped");
    const plan = await m.run("plan", "--prune");
    assert.equal(plan.code, 1);
    assert.match(plan.stdout, /drop copy public\.bonus \(--prune\)/);
    assert.doesNotMatch(plan.stdout, /public\.mine/);
    assert.equal((await m.run("apply", "--prune")).code, 0);
    const tables = await m.rows(
      p2,
      "db_postgre2",
      "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' ORDER BY 1",
    );
    assert.deepEqual(tables, [["mine"]]);

    m.rewrite((t) => t.replace(/ {2}# postgre2 reads postgre1[\s\S]*?views: \{[^}]*\}\n\n/, ""));
    const apply = await m.run("apply", "--prune");
    assert.equal(apply.code, 0, apply.stdout);
    assert.match(apply.stdout, /drop server postgre1 \(--prune\)/);
    const left = await m.rows(
      p2,
      "db_postgre2",
      "SELECT (SELECT count(*) FROM pg_foreign_server), (SELECT count(*) FROM pg_views WHERE schemaname = 'postgre1')",
    );
    assert.deepEqual(left, [["0", "0"]]);
    assert.equal((await m.run("plan", "--prune")).code, 0);
  });
});

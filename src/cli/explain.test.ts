import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type MeshFixture, scottFixture } from "../testing/index.js";

// `dbmesh explain` through the command on the scott example: postgre1/db_postgre1 reads
// postgre2's scott schema as postgres_fdw foreign tables in postgre2_scott.

describe("dbmesh explain on the scott example", () => {
  let m: MeshFixture;
  const target = "postgre1/db_postgre1";
  const explain = async (sql: string, ...flags: string[]) => {
    const r = await m.run("explain", target, sql, "--json", ...flags);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    return JSON.parse(r.stdout);
  };

  before(async () => {
    m = await scottFixture("explain");
    const up = await m.run("up");
    assert.equal(up.code, 0, up.stdout + up.stderr);
    const [p1] = m.ports as [number];
    // Statistics let the planner cost a remote join below a local one (as after autovacuum);
    // the function is PL/pgSQL so it is neither inlined nor shippable.
    await m.rows(p1, "db_postgre1", "ANALYZE postgre2_scott.emp, postgre2_scott.dept", "pablo1");
    await m.rows(
      p1,
      "db_postgre1",
      "CREATE FUNCTION public.is_senior(job text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN RETURN job IN ('MANAGER', 'PRESIDENT'); END $$",
      "pablo1",
    );
  });
  after(async () => {
    await m?.destroy();
  });

  test("a WHERE that ships is pushed down to postgre2", async () => {
    const r = await explain("SELECT ename FROM postgre2_scott.emp WHERE deptno = 10");
    assert.equal(r.role, "pablo1");
    assert.deepEqual(r.nodes, ["postgre2"]);
    assert.equal(r.remote[0].pushed.where, true);
    assert.equal(r.remote[0].pullsWholeTable, false);
    const text = await m.run(
      "explain",
      target,
      "SELECT ename FROM postgre2_scott.emp WHERE deptno = 10",
    );
    assert.match(text.stdout, /pushed down: WHERE/);
    assert.doesNotMatch(text.stdout, /pulls all rows/);
  });

  test("a volatile or local-function condition pulls the whole remote table", async () => {
    for (const where of ["sal > random() * 1000", "public.is_senior(job)"]) {
      const sql = `SELECT ename FROM postgre2_scott.emp WHERE ${where}`;
      const r = await explain(sql);
      assert.equal(r.remote[0].pullsWholeTable, true, where);
      const text = await m.run("explain", target, sql);
      assert.match(
        text.stdout,
        /pulls all rows of scott\.emp from postgre2: no condition was pushed down/,
      );
    }
  });

  test("an aggregate and a LIMIT are pushed down", async () => {
    const agg = await explain("SELECT deptno, count(*) FROM postgre2_scott.emp GROUP BY deptno");
    assert.equal(agg.remote[0].kind, "aggregate");
    assert.equal(agg.remote[0].pushed.aggregate, true);
    assert.match(agg.remote[0].remoteSql, /GROUP BY/);
    const limit = await explain("SELECT ename FROM postgre2_scott.emp ORDER BY sal DESC LIMIT 3");
    assert.equal(limit.remote[0].pushed.limit, true);
    assert.equal(limit.remote[0].pushed.orderBy, true);
  });

  test("two foreign tables of postgre2 joined there as one Foreign Join", async () => {
    const r = await explain(
      "SELECT e.ename, d.dname FROM postgre2_scott.emp e JOIN postgre2_scott.dept d USING (deptno)",
    );
    assert.equal(r.remote.length, 1);
    assert.equal(r.remote[0].kind, "join");
    assert.match(r.remote[0].remoteSql, /scott\.emp r\d INNER JOIN scott\.dept r\d/);
  });

  test("--analyze runs the statement and rolls it back", async () => {
    const [, p2] = m.ports as [number, number];
    const sum = "SELECT sum(sal) FROM scott.emp";
    const before = await m.rows(p2, "db_postgre2", sum);
    const r = await explain(
      "UPDATE postgre2_scott.emp SET sal = sal + 1 WHERE deptno = 10",
      "--analyze",
    );
    assert.equal(r.remote[0].kind, "update");
    assert.equal(r.remote[0].actualRows, 3);
    assert.deepEqual(await m.rows(p2, "db_postgre2", sum), before);
  });

  test("one statement only, and the target is named when it is ambiguous", async () => {
    const two = await m.run("explain", target, "SELECT 1; SELECT 2");
    assert.equal(two.code, 1);
    assert.match(two.stderr, /multiple commands/);
    const bad = await m.run("explain", "nosuch/db", "SELECT 1");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown node nosuch/);
  });
});

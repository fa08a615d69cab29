import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { capturedCatalog, capturedPlans } from "./captured-plans.js";
import { explainPlan, relationsOf } from "./explain-plan.js";

// Plans captured from PostgreSQL 17 on the scott example (see captured-plans.ts).
const ctx = { ...capturedCatalog, serverNodes: new Map([["postgre2", "postgre2"]]) };
const report = (name: string) => {
  const c = capturedPlans[name];
  assert.ok(c, name);
  return explainPlan(c.plan, ctx);
};

describe("explainPlan on captured postgres_fdw plans", () => {
  test("a WHERE that ships is reported as pushed, not as a whole-table pull", () => {
    const r = report("wherePushed");
    assert.deepEqual(r.nodes, ["postgre2"]);
    const [p] = r.remote;
    assert.equal(p?.kind, "scan");
    assert.deepEqual(p?.relations, [{ local: "postgre2_scott.emp", remote: "scott.emp" }]);
    assert.equal(p?.pushed.where, true);
    assert.equal(p?.pullsWholeTable, false);
    assert.match(p?.remoteSql ?? "", /WHERE \(\(deptno = 10\)\)/);
  });

  for (const name of ["volatileFilter", "localFunctionFilter"]) {
    test(`${name}: a condition that cannot ship pulls the whole remote table`, () => {
      const r = report(name);
      const [p] = r.remote;
      assert.equal(p?.pushed.where, false);
      assert.ok(p?.local.filter);
      assert.equal(p?.pullsWholeTable, true);
      assert.ok(
        r.says.some((s) =>
          s.startsWith("pulls all rows of scott.emp from postgre2: no condition was pushed down"),
        ),
        r.says.join("\n"),
      );
    });
  }

  test("an aggregate pushed down is a remote aggregate; one on a local function is done here", () => {
    const pushed = report("aggregatePushed").remote[0];
    assert.equal(pushed?.kind, "aggregate");
    assert.equal(pushed?.pushed.aggregate, true);
    assert.equal(pushed?.pullsWholeTable, false);
    const local = report("aggregateLocal").remote[0];
    assert.equal(local?.pushed.aggregate, false);
    assert.equal(local?.local.aggregate, true);
    assert.equal(local?.pullsWholeTable, true);
  });

  test("ORDER BY … LIMIT shipped; with a local filter the LIMIT stays here", () => {
    const pushed = report("limitPushed").remote[0];
    assert.deepEqual([pushed?.pushed.orderBy, pushed?.pushed.limit], [true, true]);
    assert.equal(pushed?.pullsWholeTable, false);
    const local = report("limitLocal").remote[0];
    assert.deepEqual([local?.pushed.orderBy, local?.pushed.limit], [true, false]);
    assert.equal(local?.local.limit, true);
    assert.ok(local?.says.some((s) => s.includes("the LIMIT")));
  });

  test("two foreign tables of one server joined remotely are one Foreign Join", () => {
    const r = report("joinPushed");
    assert.equal(r.remote.length, 1);
    const [p] = r.remote;
    assert.equal(p?.kind, "join");
    assert.deepEqual(
      p?.relations.map((x) => x.remote),
      ["scott.emp", "scott.dept"],
    );
    assert.equal(p?.pushed.join, true);
    assert.equal(p?.pullsWholeTable, false);
    // An inner join's conditions ship in its ON clause.
    assert.match(p?.remoteSql ?? "", /INNER JOIN .* ON .*r2\.loc = 'DALLAS'/);
  });

  test("a join with a local table is done here", () => {
    const [p] = report("joinWithLocal").remote;
    assert.equal(p?.pushed.join, false);
    assert.ok((p?.local.joins.length ?? 0) > 0);
  });

  test("a direct foreign UPDATE is one remote statement; with a local condition, row by row", () => {
    const direct = report("updateDirect").remote;
    assert.equal(direct.length, 1);
    assert.equal(direct[0]?.kind, "update");
    assert.equal(direct[0]?.pushed.where, true);
    const rowByRow = report("updateLocalCondition").remote;
    assert.deepEqual(
      rowByRow.map((p) => p.kind),
      ["update", "scan"],
    );
    assert.match(rowByRow[0]?.remoteSql ?? "", /WHERE ctid = \$1/);
    assert.equal(rowByRow[1]?.pullsWholeTable, true);
  });

  test("partition pruning: at planning, at executor start (Subplans Removed), and none", () => {
    const atPlan = report("partitionPrunedAtPlan").partitions;
    assert.deepEqual(atPlan, [
      {
        table: "public.sales",
        total: 3,
        scanned: [{ partition: "public.sales_paris", node: "postgre2" }],
        removedAtStart: 0,
        says: "scans 1 of 3 partitions of public.sales: public.sales_paris (postgre2); 2 pruned at planning",
      },
    ]);
    const atStart = report("partitionPrunedAtStart");
    assert.equal(atStart.remote.length, 0);
    assert.equal(atStart.partitions[0]?.removedAtStart, 2);
    assert.deepEqual(atStart.partitions[0]?.scanned, [
      { partition: "public.sales_other", node: undefined },
    ]);
    const all = report("partitionAll");
    assert.equal(all.partitions[0]?.scanned.length, 3);
    assert.equal(all.remote.filter((p) => p.pullsWholeTable).length, 2);
  });

  test("partition-wise aggregate: each foreign partition aggregates on its node", () => {
    const r = report("partitionwiseAggregate");
    assert.deepEqual(
      r.remote.map((p) => [p.kind, p.relations[0]?.remote, p.pushed.aggregate]),
      [
        ["aggregate", "scott.sales_lagos", true],
        ["aggregate", "scott.sales_paris", true],
      ],
    );
    assert.ok(r.remote.every((p) => p.says.some((s) => s.includes("concurrently"))));
  });

  test("EXPLAIN ANALYZE output gives actual rows", () => {
    assert.equal(report("analyzedUpdate").remote[0]?.actualRows, 3);
    assert.equal(typeof report("analyzedVolatile").remote[0]?.actualRows, "number");
  });

  test("a server no link names is still reported, by server", () => {
    const r = explainPlan(capturedPlans.wherePushed?.plan, {
      ...capturedCatalog,
      serverNodes: new Map(),
    });
    assert.deepEqual(r.servers, ["postgre2"]);
    assert.deepEqual(r.nodes, []);
    assert.match(r.says[0] ?? "", /server postgre2/);
  });

  test("relationsOf reads quoted identifiers and aliases", () => {
    assert.deepEqual(relationsOf('(public."Odd ""x"" t" a) INNER JOIN (s.u)'), [
      { name: 'public.Odd "x" t', alias: "a" },
      { name: "s.u", alias: undefined },
    ]);
  });

  test("not EXPLAIN JSON is an error", () => {
    assert.throws(() => explainPlan([{}], ctx), /no Plan/);
  });
});

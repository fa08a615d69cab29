import * as assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import {
  type Classification,
  Classifier,
  createClassifier,
  type Effect,
  loadParser,
  oracleFromRows,
  parserReplacements,
  type Volatility,
  type VolatilityOracle,
  wantsPrimary,
} from "./index.js";

/** An oracle whose answers the test changes, counting its calls. */
function mutableOracle(initial: Record<string, Volatility>) {
  const answers = { ...initial };
  let calls = 0;
  const oracle: VolatilityOracle = (schema, name) => {
    calls++;
    return answers[schema === undefined ? name : `${schema}.${name}`] ?? "unknown";
  };
  return {
    oracle,
    answers,
    get calls() {
      return calls;
    },
  };
}

describe("classifier cache", () => {
  before(loadParser);

  test("the same text gives the same frozen object without asking the oracle again", () => {
    const o = mutableOracle({ now: "stable" });
    const c = new Classifier({ oracle: o.oracle });
    const first = c.classify("SELECT now()");
    assert.equal(o.calls, 1);
    // a different string object with the same text hits too
    const again = c.classify(["SELECT", "now()"].join(" "));
    assert.equal(again, first);
    assert.equal(o.calls, 1);
    assert.ok(Object.isFrozen(first) && Object.isFrozen(first.functions));
    assert.ok(Object.isFrozen(first.effects));
    assert.deepEqual(first.functions, [{ schema: undefined, name: "now", volatility: "stable" }]);
    assert.equal(c.size, 1);
  });

  test("invalidate() re-checks the functions of cached texts", () => {
    const o = mutableOracle({ app_fn: "stable" });
    const c = new Classifier({ oracle: o.oracle });
    const before = c.classify("SELECT app_fn()");
    assert.equal(before.write, false);
    o.answers.app_fn = "volatile";
    // still cached: the oracle is not asked until told
    assert.equal(c.classify("SELECT app_fn()"), before);
    c.invalidate();
    const after = c.classify("SELECT app_fn()");
    assert.notEqual(after, before);
    assert.equal(after.write, true);
    assert.equal(after.reason, "volatile function app_fn()");
    assert.equal(o.calls, 2);
    // and the new verdict is cached again
    assert.equal(c.classify("SELECT app_fn()"), after);
    assert.equal(o.calls, 2);
  });

  test("setOracle() replaces the oracle for cached texts", () => {
    const c = new Classifier();
    assert.equal(c.classify("SELECT count(*) FROM t").reason, "unknown function count()");
    c.setOracle(oracleFromRows([{ schema: "pg_catalog", name: "count", volatility: "i" }]));
    const r = c.classify("SELECT count(*) FROM t");
    assert.equal(r.write, false);
    assert.equal(r.reason, "SELECT");
  });

  test("an oracle that throws counts as unknown (fail closed)", () => {
    const c = new Classifier({
      oracle: () => {
        throw new Error("pg_proc not loaded");
      },
    });
    const r = c.classify("SELECT now()");
    assert.equal(r.write, true);
    assert.equal(r.reason, "unknown function now()");
  });

  test("texts that write ask no oracle", () => {
    const o = mutableOracle({});
    const c = new Classifier({ oracle: o.oracle });
    assert.deepEqual(c.classify("INSERT INTO t SELECT random()").functions, []);
    assert.equal(o.calls, 0);
  });

  test("the cache is bounded by entries, and recently used texts survive", () => {
    const c = new Classifier({ maxEntries: 10 });
    // identifiers, not literals: texts that differ only in literals share one entry
    const keep = c.classify("SELECT keep FROM t");
    const once = c.classify("SELECT once FROM t");
    for (let i = 0; i < 100; i++) {
      c.classify(`SELECT c${i} FROM t`);
      assert.equal(c.classify("SELECT keep FROM t"), keep, `evicted after ${i}`);
      assert.ok(c.size <= 10, `size ${c.size}`);
    }
    // a text not used since was dropped: classifying it again makes a new object
    assert.notEqual(c.classify("SELECT once FROM t"), once);
  });

  test("the cache is bounded by characters", () => {
    const c = new Classifier({ maxCachedChars: 1000 });
    for (let i = 0; i < 50; i++) c.classify(`SELECT ${`c${i}`.padEnd(90, "x")} FROM t`);
    assert.ok(c.size <= 1000 / 100 + 1, `size ${c.size}`);
  });

  test("texts longer than maxTextLength are classified but not cached", () => {
    const c = new Classifier({ maxTextLength: 100 });
    const long = `SELECT '${"x".repeat(200)}'`;
    const a = c.classify(long);
    const b = c.classify(long);
    assert.notEqual(a, b);
    assert.deepEqual(a, b);
    assert.equal(c.size, 0);
  });

  test("clear() empties the cache", () => {
    const c = new Classifier();
    const a = c.classify("SELECT 1");
    c.clear();
    assert.equal(c.size, 0);
    assert.notEqual(c.classify("SELECT 1"), a);
  });
});

describe("wantsPrimary: comment hint, SET dbmesh.route and writes", () => {
  let c: Classifier;
  before(async () => {
    c = await createClassifier({
      oracle: oracleFromRows([
        { schema: "pg_catalog", name: "random", volatility: "v" },
        { schema: "pg_catalog", name: "now", volatility: "s" },
      ]),
    });
  });

  const cases: [sql: string, auto: boolean, primary: boolean, standby: boolean][] = [
    ["SELECT now()", false, true, false],
    ["SELECT random()", true, true, false],
    ["INSERT INTO t VALUES (1)", true, true, true],
    ["SELEC 1", true, true, true],
    ["/* dbmesh:primary */ SELECT now()", true, true, true],
    // the comment is more specific than the session setting
    ["/* dbmesh:standby */ SELECT random()", false, false, false],
    ["/* dbmesh:standby */ SELECT now()", false, false, false],
    ["/* dbmesh:standby */ DELETE FROM t", true, true, true],
    ["BEGIN", true, true, false],
    ["BEGIN READ ONLY", false, true, false],
  ];
  for (const [sql, auto, primary, standby] of cases) {
    test(sql, () => {
      const r = c.classify(sql);
      assert.deepEqual(
        [wantsPrimary(r, "auto"), wantsPrimary(r, "primary"), wantsPrimary(r, "standby")],
        [auto, primary, standby],
      );
    });
  }
});

describe("effects carry what the pooler replays", () => {
  let c: Classifier;
  before(async () => {
    c = await createClassifier();
  });

  const effects = (sql: string): readonly Effect[] => c.classify(sql).effects;

  test("SET replays the client's own text without trailing comments or semicolon", () => {
    assert.deepEqual(effects('SET search_path TO app, "B" /* why */ -- note\n;'), [
      {
        kind: "set",
        name: "search_path",
        value: 'app, "B"',
        scope: "session",
        sql: 'SET search_path TO app, "B"',
      },
    ]);
  });

  test("a SET in a multi-statement text with multi-byte characters before it", () => {
    assert.deepEqual(effects("SELECT 'ü🎉'; SET application_name = 'приложение'; SELECT 2"), [
      {
        kind: "set",
        name: "application_name",
        value: "'приложение'",
        scope: "session",
        sql: "SET application_name = 'приложение'",
      },
    ]);
  });

  test("RESET and SET TO DEFAULT replay as written", () => {
    assert.deepEqual(effects("RESET work_mem; SET timezone TO DEFAULT"), [
      { kind: "reset", name: "work_mem", sql: "RESET work_mem" },
      { kind: "reset", name: "timezone", sql: "SET timezone TO DEFAULT" },
    ]);
  });

  test("set_config() replays as a set_config() call", () => {
    assert.deepEqual(effects("SELECT set_config('search_path', 'a, b', false)"), [
      {
        kind: "set",
        name: "search_path",
        value: "'a, b'",
        scope: "session",
        sql: "SELECT pg_catalog.set_config('search_path', 'a, b', false)",
      },
    ]);
  });

  test("SET dbmesh.route gives the span to cut out, in string indices", () => {
    const sql = "SELECT '🎉'; SET dbmesh.route = standby; SELECT 1";
    const [e] = effects(sql);
    assert.ok(e?.kind === "route");
    assert.equal(sql.slice(e.start, e.end), "SET dbmesh.route = standby");
    assert.equal(e.route, "standby");
    const [show] = effects("/* ü */ SHOW dbmesh.route ;");
    assert.deepEqual(show, { kind: "show-route", start: 8, end: 25 });
  });

  test("PREPARE keeps the statement text to run on another connection", () => {
    assert.deepEqual(effects("PREPARE q (int) AS SELECT * FROM t WHERE id = $1; EXECUTE q(1)"), [
      { kind: "prepare", name: "q", sql: "PREPARE q (int) AS SELECT * FROM t WHERE id = $1" },
      { kind: "execute", name: "q", callsFunctions: false },
    ]);
  });

  test("BEGIN reports its transaction mode", () => {
    assert.deepEqual(effects("START TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"), [
      { kind: "begin", readOnly: true, isolation: "repeatable read", deferrable: undefined },
    ]);
  });

  test("an empty query has no statement and no effect", () => {
    const r: Classification = c.classify("");
    assert.deepEqual(
      { write: r.write, statements: r.statements, parsed: r.parsed, effects: r.effects },
      { write: false, statements: 0, parsed: true, effects: [] },
    );
  });

  test("a parse error is unparsed, hard, and has no effects", () => {
    const r = c.classify("SET a = 1; SELEC 2");
    assert.deepEqual(
      { write: r.write, hard: r.hardWrite, parsed: r.parsed, effects: r.effects },
      { write: true, hard: true, parsed: false, effects: [] },
    );
  });

  test("statements are counted", () => {
    assert.equal(c.classify("SELECT 1; SELECT 2;; SELECT 3").statements, 3);
  });
});

describe("a tree deep enough to overflow the stack inside the parser", () => {
  test("fails closed, and later statements still parse (the wasm instance is replaced)", async () => {
    const c = await createClassifier();
    const deepText = (n: number) => `SELECT ${"-1 + ".repeat(n)}1`;
    const before = parserReplacements();
    // a left-deep chain of 50,000 additions: the parser's tree output recurses once per level
    const deep = c.classify(deepText(50_000));
    assert.deepEqual([deep.write, deep.hardWrite, deep.parsed], [true, true, false]);
    assert.equal(parserReplacements(), before + 1);
    // the spare took over at once
    assert.equal(c.classify("SELECT 1").reason, "SELECT");
    assert.equal(c.classify("SET a = 'x'").effects.length, 1);
    // two failures in a row, before a new spare has loaded: misses fail closed meanwhile,
    // and are not cached
    c.classify(deepText(50_001));
    const meanwhile = c.classify("SELECT c3 FROM t");
    assert.deepEqual([meanwhile.write, meanwhile.parsed], [true, false]);
    // until the new instance has loaded (well under a second; 10 s at most)
    for (let i = 0; i < 100 && !c.classify("SELECT c3 FROM t").parsed; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const later = c.classify("SELECT c3 FROM t");
    assert.deepEqual([later.write, later.reason], [false, "SELECT"]);
    assert.equal(c.classify("SET a = 'x'").effects.length, 1);
  });

  test("a deep tree that overflows the classifier's own walk fails closed", async () => {
    const c = await createClassifier();
    const r = c.classify(`SELECT ${"-1 + ".repeat(5_000)}1`);
    assert.equal(r.write, true);
    assert.match(r.reason, /^(classifier|parse) error: /);
  });
});

import * as assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import {
  adminPassword,
  initNode,
  type LocalNode,
  startNode,
  stopNode,
} from "../../cluster/index.js";
import { enableFastInit, freePort, removeDir, tempDir, testNode } from "../../testing/index.js";
import { corpus, corpusProcRows } from "./corpus.js";
import {
  createClassifier,
  oracleFromRows,
  type ProcVolatilityRow,
  VOLATILITY_SQL,
  type VolatilityOracle,
} from "./index.js";

// The corpus's user functions and tables, so that reads run for real.
const SETUP = `
CREATE FUNCTION report_stable(int) RETURNS int STABLE LANGUAGE sql AS 'SELECT $1';
CREATE FUNCTION bump_counter() RETURNS int VOLATILE LANGUAGE sql AS 'SELECT 1';
CREATE FUNCTION overloaded(int) RETURNS int IMMUTABLE LANGUAGE sql AS 'SELECT $1';
CREATE FUNCTION overloaded(text) RETURNS int VOLATILE LANGUAGE sql AS 'SELECT 1';
CREATE FUNCTION "MixedCase"() RETURNS int STABLE LANGUAGE sql AS 'SELECT 1';
CREATE FUNCTION "ünïcode_fn"() RETURNS int IMMUTABLE LANGUAGE sql AS 'SELECT 1';
CREATE SCHEMA app;
CREATE FUNCTION app.lookup(int) RETURNS int STABLE LANGUAGE sql AS 'SELECT $1';
CREATE FUNCTION app.touch(int) RETURNS int VOLATILE LANGUAGE sql AS 'SELECT $1';
CREATE TABLE t (id int, a int, b int, c int, d int, g int, v int, x text, y text, z text,
  name text, created timestamptz, arr int[]);
CREATE TABLE users (name text);
CREATE TABLE orders (id int);
CREATE TABLE u (id int, a int, arr int[]);
CREATE TABLE jobs (id int);
CREATE SEQUENCE seq;
CREATE TABLE "My Table" ("Id" int);
CREATE TABLE "tåble" ("näme" text);
CREATE TABLE "INSERT" ("DELETE" int);
`;

describe("classifier against a real server", { timeout: 180_000 }, () => {
  let dir = "";
  let node: LocalNode | undefined;
  let password = "";

  const connect = async (options?: string): Promise<pg.Client> => {
    const client = new pg.Client({
      host: "127.0.0.1",
      port: node!.port,
      user: "postgres",
      password,
      database: "postgres",
      connectionTimeoutMillis: 5000,
      ...(options === undefined ? {} : { options }),
    });
    await client.connect();
    // notices (SET TRANSACTION outside a transaction ...) are expected
    client.on("notice", () => {});
    return client;
  };

  /** The SQLSTATE a text fails with on a fresh session, or "" when it succeeds. */
  const sqlstate = async (sql: string, options?: string): Promise<string> => {
    const client = await connect(options);
    try {
      await client.query(sql);
      return "";
    } catch (e) {
      return String((e as { code?: unknown }).code ?? e);
    } finally {
      await client.end();
    }
  };

  let oracle: VolatilityOracle;
  let rows: ProcVolatilityRow[] = [];

  before(async () => {
    enableFastInit();
    dir = await tempDir("dbmesh-classify-test");
    node = testNode(dir, "classify", await freePort());
    await initNode(node);
    await startNode(node);
    password = await adminPassword(node);
    const client = await connect();
    try {
      await client.query(SETUP);
      rows = (await client.query<ProcVolatilityRow>(VOLATILITY_SQL)).rows;
    } finally {
      await client.end();
    }
    oracle = oracleFromRows(rows);
  });

  after(async () => {
    if (node) await stopNode(node, { mode: "immediate" }).catch(() => {});
    if (dir) await removeDir(dir);
  });

  test("VOLATILITY_SQL gives one row per name with its worst overload", () => {
    const keys = rows.map((r) => `${r.schema}.${r.name}`);
    assert.equal(new Set(keys).size, keys.length);
    assert.ok(rows.length > 1000, `${rows.length} rows`);
    assert.equal(oracle(undefined, "random"), "volatile");
    assert.equal(oracle(undefined, "nextval"), "volatile");
    assert.equal(oracle(undefined, "now"), "stable");
    assert.equal(oracle(undefined, "abs"), "immutable");
    assert.equal(oracle(undefined, "count"), "immutable");
    assert.equal(oracle(undefined, "row_number"), "immutable");
    // extract(field FROM timestamptz) depends on the TimeZone setting
    assert.equal(oracle("pg_catalog", "extract"), "stable");
    assert.equal(oracle(undefined, "overloaded"), "volatile");
    assert.equal(oracle(undefined, "report_stable"), "stable");
    assert.equal(oracle(undefined, "MixedCase"), "stable");
    assert.equal(oracle("app", "lookup"), "stable");
    assert.equal(oracle(undefined, "lookup"), "unknown");
  });

  test("the corpus's oracle agrees with the server's catalog", () => {
    const corpusOracle = oracleFromRows(corpusProcRows);
    const differ = corpusProcRows
      .filter((r) => corpusOracle(r.schema, r.name) !== oracle(r.schema, r.name))
      .map((r) => `${r.schema}.${r.name} is ${oracle(r.schema, r.name)}`);
    assert.deepEqual(differ, []);
  });

  test("every text the corpus routes to a standby runs in a read-only session", async () => {
    const classifier = await createClassifier({ oracle });
    const reads = corpus.filter(
      // node-postgres can't take COPY's CopyOut in a plain query
      (e) => e.route === "standby" && !e.reason.startsWith("COPY"),
    );
    assert.ok(reads.length > 100);
    let ran = 0;
    for (const e of reads) {
      // the server's own catalog routes it to a standby too
      assert.equal(classifier.classify(e.sql).write, false, e.sql);
      // 25006 read_only_sql_transaction: what a standby answers to a write
      const code = await sqlstate(e.sql, "-c default_transaction_read_only=on");
      assert.notEqual(code, "25006", e.sql);
      if (code === "") ran++;
    }
    // most run cleanly (others fail for missing objects, roles, cursors)
    assert.ok(ran > reads.length / 2, `${ran} of ${reads.length} ran`);
  });

  test("the texts the corpus calls writes are refused in a read-only session", async () => {
    for (const sql of [
      "INSERT INTO t VALUES (1)",
      "WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x",
      "SELECT * FROM t FOR UPDATE",
      "SELECT nextval('seq')",
      "SELECT * INTO backup FROM t",
      "COPY t FROM STDIN",
      "CREATE TEMP TABLE tmp (a int)",
      "DO $do$ BEGIN DELETE FROM t; END $do$",
      "MERGE INTO t USING u ON t.id = u.id WHEN MATCHED THEN DELETE",
    ]) {
      assert.equal(corpus.find((x) => x.sql === sql)?.route, "write", `${sql} in the corpus`);
      assert.equal(await sqlstate(sql, "-c default_transaction_read_only=on"), "25006", sql);
    }
  });

  test("every SET and RESET the corpus reports replays as valid SQL", async () => {
    const classifier = await createClassifier({ oracle });
    let replayed = 0;
    for (const e of corpus) {
      for (const effect of classifier.classify(e.sql).effects) {
        if (effect.kind !== "set" && effect.kind !== "reset") continue;
        const code = await sqlstate(effect.sql);
        // 42601 syntax_error would mean the replay text is cut wrong
        assert.notEqual(code, "42601", `${effect.sql} (from ${e.sql})`);
        replayed++;
      }
    }
    assert.ok(replayed > 30, `${replayed} replayed`);
  });
});

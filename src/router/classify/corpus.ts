// The classifier's corpus: statements with their expected route, reason and effects, checked
// one by one by corpus.test.ts against an oracle built from corpusProcRows.

import type { ProcVolatilityRow } from "./volatility.js";

/**
 * "write": primary whatever any hint says (Classification.hardWrite);
 * "primary": primary, but a standby hint or session setting may overrule;
 * "standby": may run on a standby.
 */
export type ExpectedRoute = "write" | "primary" | "standby";

export interface CorpusEntry {
  readonly sql: string;
  readonly route: ExpectedRoute;
  /** Classification.reason, exactly. */
  readonly reason: string;
  /** describeEffect() of each effect, in order. */
  readonly effects: readonly string[];
}

/**
 * pg_proc as the corpus's oracle sees it (one overload per row; the builder merges). The
 * pg_catalog rows are PostgreSQL 17's (real-server.test.ts checks them against a server).
 */
export const corpusProcRows: readonly ProcVolatilityRow[] = [
  ...[
    "count",
    "sum",
    "max",
    "min",
    "lower",
    "upper",
    "abs",
    "row_number",
    "string_agg",
    "md5",
    "unnest",
  ].map((name) => ({ schema: "pg_catalog", name, volatility: "i" })),
  // some overload of each is stable: length(bytea, name), generate_series(timestamptz, ...),
  // extract(field FROM timestamptz)
  ...[
    "now",
    "current_setting",
    "to_char",
    "jsonb_build_object",
    "format",
    "version",
    "length",
    "generate_series",
    "extract",
  ].map((name) => ({ schema: "pg_catalog", name, volatility: "s" })),
  ...[
    "random",
    "clock_timestamp",
    "gen_random_uuid",
    "pg_sleep",
    "set_config",
    "currval",
    "nextval",
  ].map((name) => ({ schema: "pg_catalog", name, volatility: "v" })),
  { schema: "public", name: "report_stable", volatility: "s" },
  { schema: "public", name: "bump_counter", volatility: "v" },
  // two overloads: one immutable, one volatile → the name is volatile
  { schema: "public", name: "overloaded", volatility: "i" },
  { schema: "public", name: "overloaded", volatility: "v" },
  { schema: "public", name: "MixedCase", volatility: "s" },
  { schema: "public", name: "ünïcode_fn", volatility: "i" },
  { schema: "app", name: "lookup", volatility: "s" },
  { schema: "app", name: "touch", volatility: "v" },
];

const entries: CorpusEntry[] = [];

function add(route: ExpectedRoute, sql: string, reason: string, effects: readonly string[]): void {
  entries.push({ sql, route, reason, effects });
}
const s = (sql: string, reason: string, effects: readonly string[] = []) =>
  add("standby", sql, reason, effects);
const p = (sql: string, reason: string, effects: readonly string[] = []) =>
  add("primary", sql, reason, effects);
const w = (sql: string, reason: string, effects: readonly string[] = []) =>
  add("write", sql, reason, effects);

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

// --- plain reads
s("SELECT 1", "SELECT");
s("select * from t where id = 1", "SELECT");
s("SELECT count(*) FROM orders", "SELECT");
s("SELECT now()", "SELECT");
s("SELECT lower(name), upper(name) FROM users", "SELECT");
s("VALUES (1, 'a'), (2, 'b')", "VALUES");
s("TABLE users", "SELECT");
s("SHOW search_path", "SHOW");
s("SHOW ALL", "SHOW");
s("SELECT * FROM a JOIN b USING (id) WHERE a.x > $1 ORDER BY 1 LIMIT 10", "SELECT");
s("SELECT id FROM t UNION ALL SELECT id FROM u EXCEPT SELECT id FROM v", "SELECT");
s("WITH r AS (SELECT * FROM t) SELECT * FROM r", "SELECT");
s(
  "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10) SELECT sum(i) FROM n",
  "SELECT",
);
s("SELECT * FROM generate_series(1, 10) g", "SELECT");
s("SELECT row_number() OVER (PARTITION BY a ORDER BY b) FROM t", "SELECT");
s("SELECT EXISTS (SELECT 1 FROM t WHERE x = 1)", "SELECT");
s("SELECT CASE WHEN a THEN 1 ELSE 2 END, COALESCE(b, 0), GREATEST(c, d) FROM t", "SELECT");
s("SELECT CURRENT_TIMESTAMP, CURRENT_USER, current_date, localtime", "SELECT");
s("SELECT extract(year FROM created) FROM t", "SELECT");
s("SELECT x::int, CAST(y AS text), z::regclass FROM t", "SELECT");
s("SELECT * FROM t WHERE name LIKE 'a%' AND id IN (1, 2, 3) AND v IS NOT NULL", "SELECT");
s("SELECT string_agg(name, ',') FROM t GROUP BY g HAVING count(*) > 1", "SELECT");
s("SELECT * FROM t ORDER BY id FETCH FIRST 5 ROWS ONLY", "SELECT");
s("SELECT $1::text, $2", "SELECT");
s("SELECT pg_catalog.now()", "SELECT");
s("SELECT DISTINCT ON (a) a, b FROM t ORDER BY a, b DESC", "SELECT");
s("SELECT * FROM t TABLESAMPLE SYSTEM (10)", "SELECT");
s("SELECT ARRAY[1, 2], '{1,2}'::int[], ROW(1, 2)", "SELECT");
s("SELECT jsonb_build_object('a', 1) -> 'a'", "SELECT");
s("SELECT * FROM (VALUES (1), (2)) v(x)", "SELECT");
s("SELECT 1 WHERE false", "SELECT");
s("SELECT md5(x), length(x), abs(-1) FROM t LEFT JOIN LATERAL unnest(arr) u ON true", "SELECT");

// --- EXPLAIN: without ANALYZE nothing runs, so a write is only a preference for the primary
s("EXPLAIN SELECT * FROM t", "EXPLAIN SELECT");
s("EXPLAIN (COSTS off, FORMAT json) SELECT 1", "EXPLAIN SELECT");
s("EXPLAIN ANALYZE SELECT * FROM t", "EXPLAIN ANALYZE SELECT");
s("EXPLAIN (ANALYZE false) SELECT 1", "EXPLAIN SELECT");
s("EXPLAIN (ANALYZE off, VERBOSE) VALUES (1)", "EXPLAIN VALUES");
p("EXPLAIN DELETE FROM t", "EXPLAIN DELETE");
p("EXPLAIN INSERT INTO t VALUES (1)", "EXPLAIN INSERT");
p("EXPLAIN SELECT * FROM t FOR UPDATE", "EXPLAIN FOR UPDATE");
p("EXPLAIN SELECT nextval('s')", "EXPLAIN calls nextval()");
p("EXPLAIN SELECT random()", "volatile function random()");
w("EXPLAIN ANALYZE DELETE FROM t", "EXPLAIN ANALYZE DELETE");
w("EXPLAIN (ANALYZE, BUFFERS) UPDATE t SET a = 1", "EXPLAIN ANALYZE UPDATE");
w("EXPLAIN (ANALYZE true) INSERT INTO t VALUES (1)", "EXPLAIN ANALYZE INSERT");
w("EXPLAIN ANALYZE SELECT nextval('s')", "EXPLAIN ANALYZE calls nextval()");
w(
  "EXPLAIN ANALYZE WITH d AS (DELETE FROM t RETURNING id) SELECT * FROM d",
  "EXPLAIN ANALYZE DELETE in WITH",
);
w("EXPLAIN ANALYZE CREATE TABLE x AS SELECT 1", "EXPLAIN ANALYZE CREATE TABLE AS");
w("EXPLAIN ANALYZE SELECT pg_advisory_lock(1)", "EXPLAIN ANALYZE calls pg_advisory_lock()", [
  "pin: pg_advisory_lock()",
]);

// --- DML
w("INSERT INTO t VALUES (1)", "INSERT");
w("insert into t (a, b) select a, b from u", "INSERT");
w("INSERT INTO t VALUES (1) ON CONFLICT (id) DO UPDATE SET a = excluded.a", "INSERT");
w("INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING RETURNING id", "INSERT");
w("UPDATE t SET a = a + 1 WHERE id = $1", "UPDATE");
w("DELETE FROM t WHERE id = 1", "DELETE");
w(
  "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET a = s.a WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.a)",
  "MERGE",
);
w("UPDATE t SET a = 1 FROM u WHERE t.id = u.id RETURNING t.*", "UPDATE");
w("DELETE FROM t USING u WHERE t.id = u.id", "DELETE");
w("MERGE INTO t USING u ON t.id = u.id WHEN MATCHED THEN DELETE", "MERGE");
w("TRUNCATE t, u RESTART IDENTITY", "TRUNCATE");
w("INSERT INTO t SELECT random()", "INSERT");
w("INSERT INTO t VALUES (pg_advisory_lock(7))", "INSERT", ["pin: pg_advisory_lock()"]);

// --- writes hidden in WITH (and COPY)
w("WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x", "DELETE in WITH");
w("WITH x AS (INSERT INTO log VALUES (1) RETURNING id) SELECT id FROM x", "INSERT in WITH");
w("WITH u AS (UPDATE t SET a = 1 RETURNING *) SELECT count(*) FROM u", "UPDATE in WITH");
w("WITH a AS (SELECT 1), b AS (DELETE FROM t) SELECT * FROM a", "DELETE in WITH");
w(
  "WITH m AS (MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE RETURNING t.id) SELECT * FROM m",
  "MERGE in WITH",
);
w(
  "WITH RECURSIVE r AS (SELECT 1), d AS (DELETE FROM t WHERE id IN (SELECT * FROM r) RETURNING id) SELECT * FROM d",
  "DELETE in WITH",
);
w("SELECT * FROM (WITH d AS (DELETE FROM t RETURNING id) SELECT id FROM d) s", "DELETE in WITH");
w("WITH d AS (DELETE FROM t RETURNING id) INSERT INTO archive SELECT * FROM d", "INSERT");
w("WITH x AS MATERIALIZED (UPDATE t SET a = 2 RETURNING a) VALUES (1)", "UPDATE in WITH");
w("COPY (INSERT INTO t VALUES (1) RETURNING *) TO STDOUT", "INSERT");
w("DECLARE c CURSOR FOR WITH d AS (DELETE FROM t RETURNING 1) SELECT * FROM d", "DELETE in WITH");

// --- functions: the oracle decides; known writers need no oracle
p("SELECT random()", "volatile function random()");
p("SELECT * FROM t ORDER BY random() LIMIT 1", "volatile function random()");
w("SELECT nextval('seq')", "calls nextval()");
w("SELECT setval('seq', 42)", "calls setval()");
w("SELECT pg_catalog.nextval('seq')", "calls nextval()");
w("SELECT 1 FROM t WHERE nextval('s') > 0", "calls nextval()");
w("SELECT id, nextval('s') FROM t", "calls nextval()");
p("SELECT bump_counter()", "volatile function bump_counter()");
p("SELECT * FROM bump_counter()", "volatile function bump_counter()");
s("SELECT report_stable(1)", "SELECT");
s("SELECT public.report_stable(1)", "SELECT");
p("SELECT app.touch(1)", "volatile function app.touch()");
s("SELECT app.lookup(1)", "SELECT");
p("SELECT lookup(1)", "unknown function lookup()");
p("SELECT foo()", "unknown function foo()");
p("SELECT app.missing()", "unknown function app.missing()");
p("SELECT mydb.app.touch(1)", "volatile function app.touch()");
p("SELECT overloaded(1)", "volatile function overloaded()");
p(
  "SELECT * FROM t WHERE id = (SELECT max(id) FROM u WHERE bump_counter() > 0)",
  "volatile function bump_counter()",
);
p("SELECT clock_timestamp()", "volatile function clock_timestamp()");
p("SELECT gen_random_uuid()", "volatile function gen_random_uuid()");
p("SELECT currval('s')", "volatile function currval()");
w("SELECT txid_current()", "calls txid_current()");
w("SELECT pg_current_xact_id()", "calls pg_current_xact_id()");
w("SELECT pg_notify('ch', 'x')", "calls pg_notify()");
w("SELECT lo_import('/tmp/x')", "calls lo_import()");
p("SELECT count(*) FILTER (WHERE random() > 0.5) FROM t", "volatile function random()");
p("SELECT now(), random()", "volatile function random()");
s("SELECT now(), report_stable(2), app.lookup(3)", "SELECT");
p("VALUES (random())", "volatile function random()");
p("SELECT pg_sleep(1)", "volatile function pg_sleep()");
p("SELECT to_char(now(), 'YYYY'), version(), format('%s', 1), foo2(1)", "unknown function foo2()");
p("SELECT current_setting('x'), set_config('x', 'y', true)", "volatile function set_config()", [
  "set local x = 'y'",
]);
p(
  "SELECT * FROM t WHERE a = ANY(SELECT unnest(arr) FROM u WHERE random() < 1)",
  "volatile function random()",
);

// --- row locks
w("SELECT * FROM t FOR UPDATE", "FOR UPDATE");
w("SELECT * FROM t WHERE id = 1 FOR NO KEY UPDATE", "FOR NO KEY UPDATE");
w("SELECT * FROM t FOR SHARE", "FOR SHARE");
w("SELECT * FROM t FOR KEY SHARE", "FOR KEY SHARE");
w("SELECT * FROM jobs LIMIT 1 FOR UPDATE SKIP LOCKED", "FOR UPDATE");
w("SELECT * FROM t FOR UPDATE OF t NOWAIT", "FOR UPDATE");
w("SELECT * FROM (SELECT * FROM t FOR SHARE) s", "FOR SHARE");
w("WITH l AS (SELECT id FROM jobs FOR UPDATE SKIP LOCKED) SELECT * FROM l", "FOR UPDATE");
w("SELECT * FROM t WHERE id IN (SELECT id FROM u FOR KEY SHARE)", "FOR KEY SHARE");
w("DECLARE c CURSOR FOR SELECT * FROM t FOR UPDATE", "FOR UPDATE");
w("COPY (SELECT * FROM t FOR UPDATE) TO STDOUT", "FOR UPDATE");

// --- SELECT INTO and friends
w("SELECT * INTO backup FROM t", "SELECT INTO");
w("SELECT 1 AS a INTO TEMP tmp", "SELECT INTO", ["pin: SELECT INTO TEMP"]);
w("CREATE TABLE x AS SELECT * FROM t", "CREATE TABLE AS");
w("CREATE TEMP TABLE x AS SELECT 1", "CREATE TEMP TABLE AS", ["pin: CREATE TEMP TABLE AS"]);
w("CREATE TEMP TABLE x ON COMMIT DROP AS SELECT 1", "CREATE TEMP TABLE AS");
w("CREATE MATERIALIZED VIEW mv AS SELECT 1", "CREATE MATERIALIZED VIEW");
w("REFRESH MATERIALIZED VIEW CONCURRENTLY mv", "REFRESH MATERIALIZED VIEW");

// --- COPY both ways
w("COPY t FROM STDIN", "COPY FROM");
w("COPY t (a, b) FROM STDIN WITH (FORMAT csv, HEADER true)", "COPY FROM");
w("COPY t FROM '/tmp/data.csv'", "COPY FROM");
w("COPY t FROM PROGRAM 'cat /tmp/x'", "COPY FROM");
s("COPY t TO STDOUT", "COPY TO");
s("COPY (SELECT * FROM t WHERE a > 1) TO STDOUT WITH (FORMAT binary)", "COPY TO");
s("COPY t (a) TO STDOUT CSV HEADER", "COPY TO");
s("copy (select now()) to stdout", "COPY TO");
w("COPY t TO '/tmp/out.csv'", "COPY TO file");
w("COPY t TO PROGRAM 'gzip > /tmp/t.gz'", "COPY TO PROGRAM");
p("COPY (SELECT random()) TO STDOUT", "volatile function random()");

// --- DO, CALL, DDL and maintenance
w("DO $$ BEGIN PERFORM 1; END $$", "DO");
w("DO LANGUAGE plpgsql $body$ BEGIN RAISE NOTICE 'x'; END $body$", "DO");
w("DO $$ BEGIN PERFORM pg_sleep(0); END $$", "DO");
w("CALL my_proc(1)", "CALL");
w("CALL app.refresh()", "CALL");
w("CREATE TABLE t (id int PRIMARY KEY)", "CREATE TABLE");
w("CREATE UNLOGGED TABLE u (a int)", "CREATE TABLE");
w("CREATE INDEX CONCURRENTLY i ON t (a)", "CREATE INDEX");
w("ALTER TABLE t ADD COLUMN b text DEFAULT nextval('s')", "ALTER TABLE");
w("DROP TABLE IF EXISTS t CASCADE", "DROP TABLE");
w("DROP INDEX i", "DROP INDEX");
w("DROP MATERIALIZED VIEW mv", "DROP MATVIEW");
w("CREATE VIEW v AS SELECT 1", "CREATE VIEW");
w("CREATE OR REPLACE VIEW v AS SELECT set_config('a', 'b', false)", "CREATE VIEW");
w("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'", "CREATE FUNCTION");
w(
  "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN DELETE FROM t; END $$",
  "CREATE FUNCTION",
);
w("CREATE SCHEMA s", "CREATE SCHEMA");
w("CREATE EXTENSION IF NOT EXISTS pgcrypto", "CREATE EXTENSION");
w("CREATE SEQUENCE s", "CREATE SEQUENCE");
w("ALTER SEQUENCE s RESTART", "ALTER SEQUENCE");
w("GRANT SELECT ON t TO bob", "GRANT");
w("REVOKE ALL ON t FROM bob", "REVOKE");
w("GRANT admin TO bob", "GRANT");
w("COMMENT ON TABLE t IS 'x'", "COMMENT");
w("ALTER TABLE t RENAME TO u", "ALTER RENAME");
w("CREATE ROLE bob LOGIN", "CREATE ROLE");
w("ALTER SYSTEM SET work_mem = '64MB'", "ALTER SYSTEM");
w("ALTER ROLE bob SET search_path = app", "ALTER ROLE SET");
w("ALTER DATABASE d SET work_mem = '1MB'", "ALTER DATABASE SET");
w("CREATE DATABASE d", "CREATE DATABASE");
w("DROP DATABASE d", "DROP DATABASE");
w("CREATE TYPE mood AS ENUM ('a', 'b')", "CREATE TYPE");
w("CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()", "CREATE TRIGGER");
w("CREATE POLICY p ON t USING (true)", "CREATE POLICY");
w("ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO bob", "ALTER DEFAULT PRIVILEGES");
w("IMPORT FOREIGN SCHEMA s FROM SERVER srv INTO public", "IMPORT FOREIGN SCHEMA");
w("LOCK TABLE t IN ACCESS EXCLUSIVE MODE", "LOCK");
w("LOCK t IN ACCESS SHARE MODE", "LOCK");
w("VACUUM t", "VACUUM");
w("VACUUM (ANALYZE, VERBOSE) t", "VACUUM");
w("ANALYZE t", "ANALYZE");
w("CLUSTER t USING i", "CLUSTER");
w("REINDEX TABLE t", "REINDEX");
w("CHECKPOINT", "CHECKPOINT");
w("NOTIFY jobs", "NOTIFY");
w("NOTIFY jobs, 'payload'", "NOTIFY");

// --- unparsable text: the primary, whatever the hint
w("SELEC 1", 'parse error: syntax error at or near "SELEC"');
w("SELECT 'unterminated", 'parse error: unterminated quoted string at or near "\'unterminated"');
w("SELECT 1; SELEC 2", 'parse error: syntax error at or near "SELEC"');
w("INSERT INTO", "parse error: syntax error at end of input");
w("hello world", 'parse error: syntax error at or near "hello"');
w("SELECT (1", "parse error: syntax error at end of input");
w(
  "SELECT $$unterminated",
  'parse error: unterminated dollar-quoted string at or near "$$unterminated"',
);
w(
  "/* unterminated comment SELECT 1",
  'parse error: unterminated /* comment at or near "/* unterminated comment SELECT 1"',
);
w("/* dbmesh:standby */ SELEC 1", 'parse error: syntax error at or near "SELEC"');
w("SELECT 1\u0000; DELETE FROM t", "statement contains a NUL byte");
w("SELECT 1 FROM t WHERE", "parse error: syntax error at end of input");

// --- several statements in one Query message: one route, effects in order
s("SELECT 1; SELECT 2", "SELECT");
w("SELECT 1; INSERT INTO t VALUES (1)", "INSERT");
w("INSERT INTO t VALUES (1); SELECT 1", "INSERT");
w("SELECT 1; SELECT 2 FOR UPDATE; SELECT 3", "FOR UPDATE");
w("BEGIN; UPDATE t SET a = 1; COMMIT", "UPDATE", ["begin", "commit"]);
p("BEGIN; SELECT 1; COMMIT", "BEGIN", ["begin", "commit"]);
s("BEGIN READ ONLY; SELECT 1; COMMIT", "BEGIN READ ONLY", ["begin read only", "commit"]);
s("SET search_path TO app; SELECT 1", "SET", ["set search_path = app"]);
p("SELECT 1; SELECT random()", "volatile function random()");
w("SELECT random(); DELETE FROM t", "DELETE");
s("SELECT 1;;; SELECT 2;", "SELECT");
w("DELETE FROM a; DELETE FROM b; DROP TABLE c", "DELETE");
s("SHOW x; SET LOCAL y = 1", "SHOW", ["set local y = 1"]);
w("LISTEN a; LISTEN b", "LISTEN", ["pin: LISTEN a", "pin: LISTEN b"]);
w("SET a.b = 1; SELECT pg_advisory_lock(1); RESET a.b", "calls pg_advisory_lock()", [
  "set a.b = 1",
  "pin: pg_advisory_lock()",
  "reset a.b",
]);

// --- comments and hints
s("/* app=web */ SELECT 1", "SELECT");
s("-- leading comment\nSELECT 1", "SELECT");
s("SELECT 1 -- trailing comment", "SELECT");
s("SELECT /* inline */ 1", "SELECT");
p("/* dbmesh:primary */ SELECT 1", "hint primary");
p("-- dbmesh:primary\nSELECT * FROM t", "hint primary");
p("  /* dbmesh:primary */\n  SELECT 1", "hint primary");
p("/*dbmesh:primary*/SELECT 1", "hint primary");
p("/* app=web */ /* dbmesh:primary */ SELECT 1", "hint primary");
p("/* dbmesh:standby dbmesh:primary */ SELECT 1", "hint primary");
p("/* outer /* dbmesh:primary */ still comment */ SELECT 1", "hint primary");
p("/* dbmesh:primary */ SELECT 1; SELECT 2", "hint primary");
s("/* dbmesh:standby */ SELECT 1", "SELECT");
s("/* dbmesh:standby */ SELECT random()", "hint standby over volatile function random()");
s("/* dbmesh:standby */ SELECT foo()", "hint standby over unknown function foo()");
s("/* dbmesh:standby */ BEGIN", "hint standby over BEGIN", ["begin"]);
w("/* dbmesh:standby */ INSERT INTO t VALUES (1)", "INSERT");
w("/* dbmesh:standby */ SELECT nextval('s')", "calls nextval()");
w("/* dbmesh:standby */ SELECT * FROM t FOR UPDATE", "FOR UPDATE");
w("/* dbmesh:standby */ WITH d AS (DELETE FROM t RETURNING 1) SELECT 1", "DELETE in WITH");
w("-- dbmesh:standby\nUPDATE t SET a = 1", "UPDATE");
w("/* dbmesh:primary */ DELETE FROM t", "DELETE");
s("SELECT 1 /* dbmesh:primary */", "SELECT");
s("SELECT '/* dbmesh:primary */'", "SELECT");
s("SELECT 1; /* dbmesh:primary */ SELECT 2", "SELECT");
s("/* dbmesh:primaryx */ SELECT 1", "SELECT");

// --- transaction control
p("BEGIN", "BEGIN", ["begin"]);
p("START TRANSACTION", "BEGIN", ["begin"]);
p("BEGIN WORK", "BEGIN", ["begin"]);
s("BEGIN READ ONLY", "BEGIN READ ONLY", ["begin read only"]);
s("START TRANSACTION READ ONLY", "BEGIN READ ONLY", ["begin read only"]);
w("BEGIN READ WRITE", "BEGIN READ WRITE", ["begin read write"]);
s("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", "BEGIN READ ONLY", [
  "begin isolation level repeatable read read only",
]);
w("BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY DEFERRABLE", "BEGIN ISOLATION LEVEL SERIALIZABLE", [
  "begin isolation level serializable read only deferrable",
]);
p("BEGIN ISOLATION LEVEL READ COMMITTED", "BEGIN", ["begin isolation level read committed"]);
s("COMMIT", "COMMIT", ["commit"]);
s("END", "COMMIT", ["commit"]);
s("COMMIT AND CHAIN", "COMMIT", ["commit and chain"]);
s("ROLLBACK", "ROLLBACK", ["rollback"]);
s("ABORT", "ROLLBACK", ["rollback"]);
s("ROLLBACK AND CHAIN", "ROLLBACK", ["rollback and chain"]);
s("SAVEPOINT sp1", "SAVEPOINT", ["savepoint sp1"]);
s("RELEASE SAVEPOINT sp1", "RELEASE", ["release sp1"]);
s("RELEASE sp1", "RELEASE", ["release sp1"]);
s("ROLLBACK TO SAVEPOINT sp1", "ROLLBACK TO", ["rollback to sp1"]);
w("PREPARE TRANSACTION 'tx1'", "PREPARE TRANSACTION", ["prepare transaction tx1"]);
w("COMMIT PREPARED 'tx1'", "COMMIT PREPARED", ["commit prepared tx1"]);
w("ROLLBACK PREPARED 'tx1'", "ROLLBACK PREPARED", ["rollback prepared tx1"]);
s("SET TRANSACTION READ ONLY", "SET TRANSACTION READ ONLY", ["set transaction read only"]);
w("SET TRANSACTION READ WRITE", "SET TRANSACTION READ WRITE", ["set transaction read write"]);
w("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", [
  "set transaction isolation level serializable",
]);
s("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", "SET TRANSACTION", [
  "set transaction isolation level repeatable read",
]);
p("SET TRANSACTION SNAPSHOT '00000003-0000001B-1'", "SET TRANSACTION SNAPSHOT");
s("SET CONSTRAINTS ALL DEFERRED", "SET CONSTRAINTS");

// --- SET / RESET
s("SET search_path TO app, public", "SET", ["set search_path = app, public"]);
s('SET search_path = "MyApp", public', "SET", ['set search_path = "MyApp", public']);
s("SET SESSION statement_timeout = '5s'", "SET", ["set statement_timeout = '5s'"]);
s("SET LOCAL statement_timeout = 0", "SET", ["set local statement_timeout = 0"]);
s("SET TIME ZONE 'UTC'", "SET", ["set timezone = 'UTC'"]);
s("SET TIME ZONE INTERVAL '+01:00' HOUR TO MINUTE", "SET", [
  "set timezone = INTERVAL '+01:00' HOUR TO MINUTE",
]);
s("SET TIME ZONE LOCAL", "SET", ["reset timezone"]);
s("SET work_mem TO DEFAULT", "SET", ["reset work_mem"]);
s("SET LOCAL work_mem TO DEFAULT", "SET", ["set local work_mem = DEFAULT"]);
s("RESET work_mem", "RESET", ["reset work_mem"]);
s("RESET ALL", "RESET ALL", ["reset all"]);
s("SET ROLE bob", "SET", ["set role = bob"]);
s("SET ROLE NONE", "SET", ["set role = NONE"]);
s("RESET ROLE", "RESET", ["reset role"]);
s("SET SESSION AUTHORIZATION bob", "SET", ["set session_authorization = bob"]);
s("SET SESSION AUTHORIZATION DEFAULT", "SET", ["reset session_authorization"]);
s("RESET SESSION AUTHORIZATION", "RESET", ["reset session_authorization"]);
s("SET application_name = 'web-1'", "SET", ["set application_name = 'web-1'"]);
s("SET NAMES 'UTF8'", "SET", ["set client_encoding = 'UTF8'"]);
s("SET SCHEMA 'app'", "SET", ["set search_path = 'app'"]);
s("SET myapp.tenant = '42'", "SET", ["set myapp.tenant = '42'"]);
s("SET datestyle TO iso, mdy", "SET", ["set datestyle = iso, mdy"]);
s("SET extra_float_digits = -1 -- trailing comment", "SET", ["set extra_float_digits = -1"]);
s(
  "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL REPEATABLE READ",
  "SET SESSION CHARACTERISTICS",
  ["set default_transaction_isolation = 'repeatable read'"],
);
s(
  "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY, NOT DEFERRABLE",
  "SET SESSION CHARACTERISTICS",
  ["set default_transaction_read_only = on", "set default_transaction_deferrable = off"],
);
s("DISCARD ALL", "DISCARD ALL", ["discard all"]);
s("DISCARD PLANS", "DISCARD PLANS", ["discard plans"]);
s("DISCARD SEQUENCES", "DISCARD SEQUENCES", ["discard sequences"]);
s("DISCARD TEMP", "DISCARD TEMP", ["discard temp"]);
s("DISCARD TEMPORARY", "DISCARD TEMP", ["discard temp"]);
p("SELECT set_config('search_path', 'app, public', false)", "volatile function set_config()", [
  "set search_path = 'app, public'",
]);
p("SELECT set_config('myapp.user', '42', true)", "volatile function set_config()", [
  "set local myapp.user = '42'",
]);
p(
  "SELECT pg_catalog.set_config('A.B', 'c', 'false')",
  "volatile function pg_catalog.set_config()",
  ["set a.b = 'c'"],
);
p("SELECT set_config('a.b', $1, false)", "volatile function set_config()", [
  "pin: set_config() with non-constant arguments",
]);
p("SELECT set_config(name, value, false) FROM settings", "volatile function set_config()", [
  "pin: set_config() with non-constant arguments",
]);
p("SELECT set_config('a.b', 'c', is_local) FROM settings", "volatile function set_config()", [
  "pin: set_config() with non-constant arguments",
]);

// --- SET dbmesh.route: the router's own setting
s("SET dbmesh.route = 'primary'", "SET dbmesh.route", ["route primary"]);
s("SET dbmesh.route TO standby", "SET dbmesh.route", ["route standby"]);
s("SET dbmesh.route = auto", "SET dbmesh.route", ["route auto"]);
s("SET DBMESH.ROUTE = 'STANDBY'", "SET dbmesh.route", ["route standby"]);
s("SET SESSION dbmesh.route = 'primary'", "SET dbmesh.route", ["route primary"]);
s("SET LOCAL dbmesh.route = 'primary'", "SET dbmesh.route", ["route local primary"]);
s("SET dbmesh.route = 'sideways'", "SET dbmesh.route", ["route invalid sideways"]);
s("SET dbmesh.route = 'primary', 'standby'", "SET dbmesh.route", [
  "route invalid 'primary', 'standby'",
]);
// PRIMARY is a reserved word: unquoted, the server would reject it too
w("SET dbmesh.route = primary", 'parse error: syntax error at or near "primary"');
s("RESET dbmesh.route", "RESET dbmesh.route", ["route auto"]);
s("SET dbmesh.route TO DEFAULT", "RESET dbmesh.route", ["route auto"]);
s("SHOW dbmesh.route", "SHOW", ["show route"]);
w("SET dbmesh.route = 'standby'; DELETE FROM t", "DELETE", ["route standby"]);

// --- things that pin the server connection, and SQL-level prepared statements (tracked)
w("LISTEN jobs", "LISTEN", ["pin: LISTEN jobs"]);
p("UNLISTEN jobs", "UNLISTEN", ["unlisten jobs"]);
p("UNLISTEN *", "UNLISTEN", ["unlisten *"]);
w("CREATE TEMP TABLE tmp (a int)", "CREATE TEMP TABLE", ["pin: CREATE TEMP TABLE"]);
w("CREATE TEMPORARY TABLE tmp (a int) ON COMMIT DELETE ROWS", "CREATE TEMP TABLE", [
  "pin: CREATE TEMP TABLE",
]);
w("CREATE TEMP TABLE tmp (a int) ON COMMIT DROP", "CREATE TEMP TABLE");
w("CREATE TABLE pg_temp.t2 (a int)", "CREATE TEMP TABLE", ["pin: CREATE TEMP TABLE"]);
w("CREATE TEMP VIEW tv AS SELECT 1", "CREATE TEMP VIEW", ["pin: CREATE TEMP VIEW"]);
w("CREATE TEMP SEQUENCE ts", "CREATE TEMP SEQUENCE", ["pin: CREATE TEMP SEQUENCE"]);
w("SELECT pg_advisory_lock(42)", "calls pg_advisory_lock()", ["pin: pg_advisory_lock()"]);
w("SELECT pg_try_advisory_lock(1, 2)", "calls pg_try_advisory_lock()", [
  "pin: pg_try_advisory_lock()",
]);
w("SELECT pg_advisory_lock_shared(1)", "calls pg_advisory_lock_shared()", [
  "pin: pg_advisory_lock_shared()",
]);
w("SELECT pg_try_advisory_lock_shared(1)", "calls pg_try_advisory_lock_shared()", [
  "pin: pg_try_advisory_lock_shared()",
]);
w("SELECT pg_catalog.pg_advisory_lock(1)", "calls pg_advisory_lock()", ["pin: pg_advisory_lock()"]);
w("SELECT pg_advisory_xact_lock(42)", "calls pg_advisory_xact_lock()");
w("SELECT pg_try_advisory_xact_lock(42)", "calls pg_try_advisory_xact_lock()");
w("SELECT pg_advisory_xact_lock_shared(42)", "calls pg_advisory_xact_lock_shared()");
w("SELECT pg_advisory_unlock(42)", "calls pg_advisory_unlock()");
w("SELECT pg_advisory_unlock_all()", "calls pg_advisory_unlock_all()");
p("SELECT app.pg_advisory_lock(1)", "unknown function app.pg_advisory_lock()");
s("DECLARE c CURSOR WITH HOLD FOR SELECT * FROM t", "DECLARE CURSOR", ["pin: DECLARE WITH HOLD"]);
s("DECLARE c CURSOR FOR SELECT 1", "DECLARE CURSOR");
s("DECLARE c SCROLL CURSOR WITHOUT HOLD FOR SELECT 1", "DECLARE CURSOR");
s("DECLARE c BINARY CURSOR WITH HOLD FOR SELECT 1", "DECLARE CURSOR", ["pin: DECLARE WITH HOLD"]);
p("DECLARE c CURSOR FOR SELECT random()", "volatile function random()");
p("FETCH 10 FROM c", "FETCH");
p("FETCH ALL IN c", "FETCH");
p("MOVE NEXT IN c", "MOVE");
p("CLOSE c", "CLOSE");
p("LOAD 'auto_explain'", "LOAD", ["pin: LOAD"]);
s("PREPARE q AS SELECT * FROM t WHERE id = $1", "PREPARE SELECT", ["prepare q"]);
w("PREPARE ins (int) AS INSERT INTO t VALUES ($1)", "PREPARE INSERT", ["prepare ins"]);
p("PREPARE r AS SELECT random()", "volatile function random()", ["prepare r"]);
w("PREPARE l AS SELECT pg_advisory_lock(1)", "PREPARE calls pg_advisory_lock()", ["prepare l"]);
p("EXECUTE q(1)", "EXECUTE q", ["execute q"]);
p("EXECUTE q", "EXECUTE q", ["execute q"]);
p("EXECUTE q(now())", "EXECUTE q", ["execute q (calls functions)"]);
w("EXECUTE q(nextval('s'))", "calls nextval()", ["execute q (calls functions)"]);
p("EXPLAIN EXECUTE q(1)", "EXPLAIN EXECUTE q");
s("DEALLOCATE q", "DEALLOCATE", ["deallocate q"]);
s("DEALLOCATE PREPARE q", "DEALLOCATE", ["deallocate q"]);
s("DEALLOCATE ALL", "DEALLOCATE", ["deallocate all"]);

// --- quoted identifiers
s('SELECT "DELETE" FROM "INSERT"', "SELECT");
s('SELECT * FROM "My Table" WHERE "Id" = 1', "SELECT");
s('SELECT "for update" FROM t', "SELECT");
w('INSERT INTO "Select" ("From") VALUES (1)', "INSERT");
w("SELECT \"nextval\"('s')", "calls nextval()");
p('SELECT "update"()', "unknown function update()");
s('SELECT "MixedCase"()', "SELECT");
p("SELECT MixedCase()", "unknown function mixedcase()");
p('SELECT "Random"()', "unknown function Random()");
s("SELECT \"lower\"('X')", "SELECT");
s('SELECT U&"d\\0061t\\+000061" FROM t', "SELECT");
p('SELECT "app"."touch"(1)', "volatile function app.touch()");

// --- dollar quoting and string literals that look like statements
s("SELECT $$DELETE FROM t; INSERT INTO u VALUES (1)$$", "SELECT");
s("SELECT $tag$ -- not a comment; DROP TABLE t $tag$", "SELECT");
s("SELECT $a$ $b$ nested $b$ $a$", "SELECT");
s("SELECT 'it''s; DELETE FROM t'", "SELECT");
s("SELECT E'\\'; DELETE FROM t; --'", "SELECT");
s("SELECT 'random()', 'nextval(''s'')'", "SELECT");
w("DO $do$ BEGIN DELETE FROM t; END $do$", "DO");

// --- unicode
s("SELECT 'héllo wörld 🎉'", "SELECT");
s('SELECT * FROM "tåble" WHERE "näme" = \'ñ\'', "SELECT");
s("SET application_name = 'приложение' /* комментарий */", "SET", [
  "set application_name = 'приложение'",
]);
s('SELECT "ünïcode_fn"()', "SELECT");
w("INSERT INTO t VALUES ('日本語')", "INSERT");
s("SELECT '🎉'; SET dbmesh.route = standby", "SELECT", ["route standby"]);
s("/* ünïcode */ SELECT 1", "SELECT");
p("/* 日本 dbmesh:primary */ SELECT '日本'", "hint primary");

// --- very long statements
s(`SELECT ${range(5000).join(", ")}`, "SELECT");
w(
  `INSERT INTO t VALUES ${range(2000)
    .map((i) => `(${i}, 'row ${i}')`)
    .join(", ")}`,
  "INSERT",
);
s(`SELECT * FROM t WHERE id IN (${range(10000).join(", ")})`, "SELECT");
p(
  `SELECT ${range(1000)
    .map((i) => `lower('x${i}')`)
    .join(", ")}, random()`,
  "volatile function random()",
);
w(`${"SELECT 1; ".repeat(500)}DELETE FROM t`, "DELETE");
s(`SELECT ${"(".repeat(200)}1${")".repeat(200)}`, "SELECT");
s(`SELECT '${"x".repeat(100_000)}'`, "SELECT");
s(`-- ${"c".repeat(20_000)}\nSELECT 1`, "SELECT");

// --- the empty query
s("", "empty query");
s("   ", "empty query");
s(";", "empty query");
s(" ; ; ", "empty query");
s("-- just a comment", "empty query");
s("/* nothing */", "empty query");
p("/* dbmesh:primary */", "hint primary");

export const corpus: readonly CorpusEntry[] = entries;

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type MeshFixture, scottFixture } from "../testing/index.js";

// Workflows 1-3 of the design on two real servers, driven through the dbmesh command.

describe("scott example: two servers linked both ways", () => {
  let m: MeshFixture;
  let p1: number;
  let p2: number;
  const db1 = "db_postgre1";
  const db2 = "db_postgre2";

  before(async () => {
    m = await scottFixture("scott");
    [p1, p2] = m.ports as [number, number];
    const up = await m.run("up");
    assert.equal(up.code, 0, up.stdout + up.stderr);
  });
  after(async () => {
    await m?.destroy();
  });

  test("up prints progress per node and step, and never a password", async () => {
    const up = await m.run("apply");
    assert.equal(up.code, 0);
    assert.match(up.stdout, /no changes/);
    const plan = await m.run("plan", "--json");
    for (const secret of Object.values(m.env)) {
      assert.ok(!plan.stdout.includes(secret), "plan output contains a password");
    }
  });

  test("dblink views on postgre2 return postgre1's rows, with no column list", async () => {
    for (const table of ["bonus", "emp"]) {
      const source = await m.rows(p1, db1, `SELECT * FROM scott.${table} ORDER BY 1`);
      const viaView = await m.rows(p2, db2, `SELECT * FROM postgre1.${table} ORDER BY 1`, "pablo2");
      assert.deepEqual(viaView, source, `postgre1.${table}`);
      assert.ok(source.length > 0);
    }
  });

  test("the plain dblink('server', …) AS t(…) form and dblink_connect work for the mapped role", async () => {
    const source = await m.rows(p1, db1, "SELECT empno, bonus FROM scott.bonus ORDER BY 1");
    const plain = await m.rows(
      p2,
      db2,
      "SELECT * FROM dblink('postgre1', 'SELECT empno, bonus FROM scott.bonus ORDER BY 1') AS t(empno int, bonus int)",
      "pablo2",
    );
    assert.deepEqual(plain, source);
    const c = await m.connect(p2, db2, "pablo2");
    try {
      await c.query("SELECT dblink_connect('conn', 'postgre1')");
      const r = await c.query(
        "SELECT * FROM dblink('conn', 'SELECT count(*) FROM scott.emp') AS t(n bigint)",
      );
      assert.equal(r.rows[0].n, "14");
    } finally {
      await c.end();
    }
  });

  test("postgres_fdw imported tables on postgre1 return postgre2's rows", async () => {
    for (const table of ["dept", "emp", "salgrade"]) {
      const source = await m.rows(p2, db2, `SELECT * FROM scott.${table} ORDER BY 1`);
      const viaFdw = await m.rows(
        p1,
        db1,
        `SELECT * FROM postgre2_scott.${table} ORDER BY 1`,
        "pablo1",
      );
      assert.deepEqual(viaFdw, source, `postgre2_scott.${table}`);
    }
  });

  test("the copy of bonus on postgre2 has the structure, primary key and rows of the source", async () => {
    const source = await m.rows(p1, db1, "SELECT * FROM scott.bonus ORDER BY 1");
    const copy = await m.rows(p2, db2, "SELECT * FROM public.bonus ORDER BY 1", "pablo2");
    assert.deepEqual(copy, source);
    const columns = await m.rows(
      p2,
      db2,
      "SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'bonus' ORDER BY ordinal_position",
    );
    assert.deepEqual(columns, [
      ["empno", "integer", "NO"],
      ["bonus", "integer", "YES"],
    ]);
    const pk = await m.rows(
      p2,
      db2,
      "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'public.bonus'::regclass AND contype = 'p'",
    );
    assert.deepEqual(pk, [["PRIMARY KEY (empno)"]]);
  });

  test("a query combines local tables with remote ones", async () => {
    const rows = await m.rows(
      p2,
      db2,
      "SELECT e.ename, b.bonus FROM scott.emp e JOIN postgre1.bonus b USING (empno) ORDER BY e.ename",
      "pablo2",
    );
    assert.deepEqual(rows, [
      ["ALLEN", "300"],
      ["MARTIN", "1400"],
      ["TURNER", "0"],
      ["WARD", "500"],
    ]);
  });

  test("pg_hba.conf has one /32 line per role and database, never all all", async () => {
    const rules = await m.rows(
      p1,
      "postgres",
      "SELECT type, array_to_string(database, ','), array_to_string(user_name, ','), address, netmask, auth_method FROM pg_hba_file_rules ORDER BY rule_number",
    );
    for (const r of rules) {
      assert.equal(r[5], "scram-sha-256");
      assert.ok(!(r[1] === "all" && r[2] === "all"), `all/all line: ${r}`);
      if (r[0] === "host") assert.match(r[4]!, /^(255\.255\.255\.255|ffff(:ffff){7})$/);
    }
    assert.ok(
      rules.some((r) => r[1] === "db_postgre1" && r[2] === "pablo1" && r[3] === "127.0.0.1"),
    );
    const other = await m.connect(p1, "postgres", "pablo1").then(
      (c) => c.end().then(() => "connected"),
      (e: { code?: string }) => e.code,
    );
    assert.equal(other, "28000", "pablo1 must not reach the postgres database");
  });

  test("doctor passes every check and measures each link", async () => {
    const r = await m.run("doctor", "--json");
    assert.equal(r.code, 0, r.stdout);
    const report = JSON.parse(r.stdout) as {
      ok: boolean;
      checks: { check: string; ok: boolean; ms?: number }[];
    };
    assert.equal(report.ok, true);
    const links = report.checks.filter((c) => c.check === "link");
    assert.equal(links.length, 2);
    assert.ok(links.every((c) => typeof c.ms === "number"));
    for (const kind of ["reachable", "listening", "login", "hba", "extension"]) {
      assert.ok(
        report.checks.some((c) => c.check === kind),
        kind,
      );
    }
  });

  test("sql prints a table", async () => {
    const r = await m.run(
      "sql",
      "postgre2/db_postgre2",
      "SELECT ename FROM scott.emp WHERE empno = 7839",
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /ename\s*\n-+\s*\nKING\s*\n\(1 row\)/);
  });

  test("a column added remotely is drift: plan reports it, apply re-imports, plan is empty again", async () => {
    await m.rows(p2, db2, "ALTER TABLE scott.emp ADD COLUMN email text", "pablo2");
    await m.rows(p1, db1, "ALTER TABLE scott.bonus ADD COLUMN note text", "pablo1");
    const plan = await m.run("plan");
    assert.equal(plan.code, 1, plan.stdout);
    assert.match(plan.stdout, /emp changed \(\+email\)/);
    assert.match(plan.stdout, /recreate view postgre1\.bonus: remote columns changed \(\+note\)/);
    assert.match(plan.stdout, /recopy public\.bonus/);
    const apply = await m.run("apply");
    assert.equal(apply.code, 0, apply.stdout);
    const emails = await m.rows(
      p1,
      db1,
      "SELECT count(*), count(email) FROM postgre2_scott.emp",
      "pablo1",
    );
    assert.deepEqual(emails, [["14", "0"]]);
    const notes = await m.rows(p2, db2, "SELECT note FROM postgre1.bonus LIMIT 1", "pablo2");
    assert.equal(notes.length, 1);
    const again = await m.run("plan");
    assert.equal(again.code, 0, again.stdout);
    assert.match(again.stdout, /no changes/);
  });

  test("copies with refresh: true reload the remote rows on every apply", async () => {
    m.rewrite((t) =>
      t.replace(
        "copies: { into: public, tables: [scott.bonus] }",
        "copies: { into: public, tables: [scott.bonus], refresh: true }",
      ),
    );
    try {
      await m.rows(p1, db1, "INSERT INTO scott.bonus (empno, bonus) VALUES (7900, 77)", "pablo1");
      const plan = await m.run("plan");
      assert.match(plan.stdout, /refresh public\.bonus from postgre1/);
      assert.equal((await m.run("apply")).code, 0);
      const copied = await m.rows(
        p2,
        db2,
        "SELECT bonus FROM public.bonus WHERE empno = 7900",
        "pablo2",
      );
      assert.deepEqual(copied, [["77"]]);
    } finally {
      m.rewrite((t) => t.replace(", refresh: true }", " }"));
    }
  });

  test("settings in the file reach the server; one that needs a restart is reported by doctor", async () => {
    m.rewrite((t) =>
      t.replace(
        "postgre1: { host: 127.0.0.1, port:",
        "postgre1: { settings: { work_mem: 8MB, max_connections: 90 }, host: 127.0.0.1, port:",
      ),
    );
    try {
      const plan = await m.run("plan");
      assert.equal(plan.code, 1);
      assert.match(plan.stdout, /rewrite configuration files and reload/);
      assert.match(plan.stdout, /dbmesh\.conf \+ work_mem = '8MB'/);
      assert.equal((await m.run("apply")).code, 0);
      assert.deepEqual(await m.rows(p1, "postgres", "SHOW work_mem"), [["8MB"]]);
      const doctor = await m.run("doctor");
      assert.equal(doctor.code, 1);
      assert.match(
        doctor.stdout,
        /FAIL\s+settings\s+postgre1: changed but not in effect: max_connections/,
      );
      assert.match(
        doctor.stdout,
        /fix:\s+dbmesh down --node postgre1 && dbmesh up --node postgre1/,
      );
    } finally {
      m.rewrite((t) =>
        t.replace("{ settings: { work_mem: 8MB, max_connections: 90 }, host:", "{ host:"),
      );
    }
    assert.equal((await m.run("apply")).code, 0);
    assert.equal((await m.run("plan")).code, 0);
  });

  test("secrets in dbmesh's environment do not reach the servers' environment", async () => {
    const pidFile = join(m.dir, ".dbmesh", "postgre1", "data", "postmaster.pid");
    const pid = readFileSync(pidFile, "utf8").split("\n")[0];
    const environ = readFileSync(`/proc/${pid}/environ`, "utf8");
    assert.ok(environ.length > 0);
    for (const secret of Object.values(m.env)) assert.ok(!environ.includes(secret));
    assert.doesNotMatch(environ, /PABLO\d_PASSWORD/);
  });

  test("a rotated password reaches the role and the mapping, and no server log", async () => {
    for (const port of [p1, p2]) {
      await m.rows(port, "postgres", "ALTER SYSTEM SET log_statement = 'all'");
      await m.rows(port, "postgres", "SELECT pg_reload_conf()");
    }
    const old = m.env.PABLO1_PASSWORD!;
    m.env.PABLO1_PASSWORD = "rotated-Secret-FROBOZZ";
    try {
      const plan = await m.run("plan");
      assert.match(plan.stdout, /update role pablo1 \(password\)/);
      assert.match(plan.stdout, /update mapping of pablo2 on postgre1/);
      assert.ok(!plan.stdout.includes("FROBOZZ"));
      assert.equal((await m.run("apply")).code, 0);
      assert.deepEqual(
        await m.rows(p2, db2, "SELECT count(*) FROM postgre1.bonus WHERE empno > 0", "pablo2"),
        [[String((await m.rows(p1, db1, "SELECT count(*) FROM scott.bonus"))[0]![0])]],
      );
      for (const node of ["postgre1", "postgre2"]) {
        const log = readFileSync(join(m.dir, ".dbmesh", node, "postgres.log"), "utf8");
        assert.match(log, /statement: /, "log_statement = all is in effect");
        assert.ok(!log.includes("FROBOZZ"), `${node}'s log holds the password`);
      }
    } finally {
      for (const port of [p1, p2]) {
        await m.rows(port, "postgres", "ALTER SYSTEM RESET log_statement");
        await m.rows(port, "postgres", "SELECT pg_reload_conf()");
      }
      m.env.PABLO1_PASSWORD = old;
    }
    assert.equal((await m.run("apply")).code, 0);
  });

  test("a remote table that does not exist is named, with the tables that do", async () => {
    m.rewrite((t) =>
      t.replace(
        "tables: [scott.bonus, scott.emp]",
        "tables: [scott.bonus, scott.emp, scott.bonuses]",
      ),
    );
    try {
      const plan = await m.run("plan");
      assert.equal(plan.code, 1);
      assert.match(
        plan.stdout,
        /remote table scott\.bonuses does not exist in postgre1\/db_postgre1/,
      );
      assert.match(plan.stdout, /tables in scott there: bonus, dept, emp, salgrade/);
    } finally {
      m.rewrite((t) => t.replace(", scott.bonuses]", "]"));
    }
  });

  test("a port already in use is named with the process holding it", async () => {
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(0, "127.0.0.1", () => r()));
    const busy = (holder.address() as { port: number }).port;
    m.rewrite((t) => t.replace(`port: ${p1}`, `port: ${busy}`));
    try {
      const running = await m.run("up", "--node", "postgre1");
      assert.equal(running.code, 1);
      assert.match(
        running.stdout,
        new RegExp(`postgre1: FAILED .*running on port ${p1}, but the file says ${busy}`),
      );
      assert.equal((await m.run("down", "--node", "postgre1")).code, 0);
      const up = await m.run("up", "--node", "postgre1");
      assert.equal(up.code, 1);
      assert.match(up.stdout, new RegExp(`postgre1: FAILED .*port ${busy}.*${process.pid}`));
    } finally {
      holder.close();
      m.rewrite((t) => t.replace(`port: ${busy}`, `port: ${p1}`));
    }
    const back = await m.run("up");
    assert.equal(back.code, 0, back.stdout);
  });

  test("a missing password variable is an error naming it and its position", async () => {
    const saved = m.env.PABLO2_PASSWORD!;
    delete m.env.PABLO2_PASSWORD;
    try {
      const r = await m.run("plan");
      assert.equal(r.code, 2);
      assert.match(
        r.stderr,
        /dbmesh\.yaml:\d+:\d+: environment variable PABLO2_PASSWORD is not set/,
      );
    } finally {
      m.env.PABLO2_PASSWORD = saved;
    }
  });

  test("a stopped node: doctor names it, apply changes the others and fails only for it, a rerun completes", async () => {
    const down = await m.run("down", "--node", "postgre1");
    assert.equal(down.code, 0);
    m.rewrite((t) =>
      t
        .replace(
          "schemas: [scott], seed: [scott.sql, bonus.sql]",
          "schemas: [scott, extra1], seed: [scott.sql, bonus.sql]",
        )
        .replace(
          "schemas: [scott], seed: [scott.sql] }",
          "schemas: [scott, extra2], seed: [scott.sql] }",
        ),
    );
    const doctor = await m.run("doctor");
    assert.equal(doctor.code, 1);
    assert.match(doctor.stdout, /FAIL\s+reachable\s+postgre1: TCP 127\.0\.0\.1:\d+: ECONNREFUSED/);
    assert.match(doctor.stdout, /fix:\s+start it with `dbmesh up --node postgre1`/);
    const apply = await m.run("apply");
    assert.equal(apply.code, 1);
    assert.match(apply.stdout, /ok\s+postgre2\/db_postgre2\s+create schema extra2/);
    assert.match(apply.stdout, /node postgre1 is unreachable/);
    assert.match(apply.stdout, /not converged: postgre1/);
    const up = await m.run("up", "--node", "postgre1");
    assert.equal(up.code, 0, up.stdout + up.stderr);
    assert.match(up.stdout, /create schema extra1/);
    const plan = await m.run("plan");
    assert.equal(plan.code, 0, plan.stdout);
  });
});

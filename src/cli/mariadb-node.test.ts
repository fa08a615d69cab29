import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  connectMariadb,
  findMariadb,
  isMariadbError,
  type MariadbSession,
} from "../mariadb/index.js";
import { freePort, type MeshFixture, meshFixture } from "../testing/index.js";

// MariaDB is optional: without the system package these tests are skipped, saying why.
const missing = await findMariadb().then(
  () => undefined,
  (e: Error) => `MariaDB is not installed (${e.message})`,
);
if (missing) console.log(`# skipped MariaDB node tests: ${missing}`);

const TEXT = "Zoë Ångström — 東京 🚀 'quoted' \\ back";

describe("a MariaDB node: up, apply, status, doctor, sql, down", { skip: missing }, () => {
  let m: MeshFixture;
  let port: number;
  const login = (user: string, database?: string, password?: string): Promise<MariadbSession> =>
    connectMariadb({
      node: "shop",
      host: "127.0.0.1",
      port,
      user,
      password: password ?? m.env[`${user.toUpperCase()}_PASSWORD`]!,
      database,
    });

  before(async () => {
    m = await meshFixture({
      name: "mariadb",
      ports: 1,
      yaml: ([p]) => `version: 1
nodes:
  shop: { engine: mariadb, port: ${p} }
roles:
  clerk: { password: env:CLERK_PASSWORD, nodes: [shop] }
  auditor: { password: env:AUDITOR_PASSWORD, nodes: [shop], from: [127.0.0.1, 10.1.2.3/24] }
databases:
  orders: { node: shop, owner: clerk, seed: [orders.sql] }
  audit: { node: shop, owner: auditor }
`,
      env: { CLERK_PASSWORD: "clerk 'pw' \\ one", AUDITOR_PASSWORD: "auditor-pw" },
    });
    port = m.ports[0]!;
    writeFileSync(
      join(m.dir, "orders.sql"),
      `CREATE TABLE orders (id int PRIMARY KEY, customer varchar(100), total decimal(10,2), placed date);
INSERT INTO orders VALUES (1, 'Zoë Ångström', 12.50, '2024-01-02'), (2, '東京', NULL, NULL);
`,
    );
  });
  after(async () => {
    await m?.destroy();
  });

  test("up starts the node and applies the file; a second apply changes nothing", async () => {
    const up = await m.run("up");
    assert.equal(up.code, 0, up.stdout + up.stderr);
    assert.match(
      up.stdout,
      /shop: MariaDB \d+\.\d+\.\d+ \(system\) initialised, started on 127\.0\.0\.1:/,
    );
    assert.match(up.stdout, /create user 'auditor'@'10\.1\.2\.0\/255\.255\.255\.0'/);
    assert.match(up.stdout, /run seed orders\.sql as clerk/);
    const again = await m.run("apply");
    assert.equal(again.code, 0, again.stdout);
    assert.match(again.stdout, /no changes: every node matches the file/);
    const plan = await m.run("plan");
    assert.equal(plan.code, 0, plan.stdout);
    assert.match(plan.stdout, /shop: no changes/);
  });

  test("the owner logs in from its host, reads its seeded rows, and is refused a database it has no grant on", async () => {
    const s = await login("clerk", "orders");
    try {
      const [r] = await s.raw("SELECT id, customer, total, placed FROM orders ORDER BY id");
      assert.deepEqual(r?.rows, [
        ["1", "Zoë Ångström", "12.50", "2024-01-02"],
        ["2", "東京", null, null],
      ]);
    } finally {
      await s.end();
    }
    await assert.rejects(login("clerk", "audit"), (e) => {
      assert.ok(isMariadbError(e));
      assert.equal(e.kind, "access-denied");
      assert.match(e.message, /clerk has no grant on database audit/);
      return true;
    });
    // The server runs as an unprivileged user, never as root.
    const pid = readFileSync(join(m.dir, ".dbmesh", "shop", "data", "mariadbd.pid"), "utf8").trim();
    const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    assert.notEqual(uid, "0");
    const admin = await m.run(
      "sql",
      "shop",
      "SELECT @@character_set_server, @@skip_name_resolve, @@bind_address",
    );
    assert.match(admin.stdout, /utf8mb4 +\| 1 +\| 127\.0\.0\.1/);
  });

  test("non-ASCII text round-trips through dbmesh sql", async () => {
    const w = await m.run(
      "sql",
      "shop/orders",
      `INSERT INTO orders (id, customer) VALUES (3, '${TEXT.replace(/\\/g, "\\\\").replace(/'/g, "''")}')`,
    );
    assert.equal(w.code, 0, w.stderr);
    const r = await m.run(
      "--json",
      "sql",
      "shop/orders",
      "SELECT customer FROM orders WHERE id = 3",
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout)[0].rows, [[TEXT]]);
    const s = await login("clerk", "orders");
    try {
      assert.deepEqual((await s.query("SELECT customer FROM orders WHERE id = 3"))[0], {
        customer: TEXT,
      });
    } finally {
      await s.end();
    }
  });

  test("status and doctor report the node, its databases, grants and logins", async () => {
    const status = await m.run("status");
    assert.equal(status.code, 0, status.stdout);
    assert.match(status.stdout, /shop +\| up .*MariaDB \d+\.\d+.*\| orders, audit/);
    const doctor = await m.run("doctor");
    assert.equal(doctor.code, 0, doctor.stdout);
    assert.match(
      doctor.stdout,
      /ok +grant +shop\/orders: 'clerk'@'127\.0\.0\.1': ALL PRIVILEGES \(owner\)/,
    );
    assert.match(doctor.stdout, /ok +login +clerk@shop: logged in to orders/);
  });

  test("drift: a changed password, a revoked grant and a dropped from: address are planned and applied, passwords masked", async () => {
    await m.run("sql", "shop", "REVOKE ALL PRIVILEGES ON orders.* FROM 'clerk'@'127.0.0.1'");
    const doctor = await m.run("doctor");
    assert.equal(doctor.code, 1);
    assert.match(doctor.stdout, /FAIL +grant +shop\/orders: 'clerk'@'127\.0\.0\.1'/);
    assert.match(doctor.stdout, /fix: +run `dbmesh apply`/);
    m.env.CLERK_PASSWORD = "a new 'one'";
    m.rewrite((t) => t.replace("from: [127.0.0.1, 10.1.2.3/24]", "from: [127.0.0.1]"));
    const plan = await m.run("plan");
    assert.equal(plan.code, 1, plan.stdout);
    assert.match(plan.stdout, /update user 'clerk'@'127\.0\.0\.1' \(password\)/);
    assert.match(plan.stdout, /IDENTIFIED BY PASSWORD '\*\*\*\*\*\*\*\*'/);
    assert.doesNotMatch(plan.stdout, /a new|\*[0-9A-F]{40}/);
    assert.match(plan.stdout, /drop user 'auditor'@'10\.1\.2\.0\/255\.255\.255\.0'/);
    assert.match(plan.stdout, /grant all on database orders to its owner 'clerk'@'127\.0\.0\.1'/);
    assert.equal((await m.run("apply")).code, 0);
    assert.equal((await m.run("plan")).code, 0);
    await (await login("clerk", "orders")).end();
  });

  test("a wrong password gives an error naming the node, the account and the fix", async () => {
    await m.run(
      "sql",
      "shop",
      "ALTER USER 'clerk'@'127.0.0.1' IDENTIFIED BY 'changed behind dbmesh'",
    );
    const doctor = await m.run("doctor");
    assert.equal(doctor.code, 1);
    assert.match(
      doctor.stdout,
      /FAIL +login +clerk@shop: login to orders failed\n +cause: MariaDB node shop refused the login of clerk from this host/,
    );
    assert.match(doctor.stdout, /fix: +check the password reference of clerk/);
    const plan = await m.run("plan");
    assert.match(plan.stdout, /update user 'clerk'@'127\.0\.0\.1' \(password\)/);
    assert.equal((await m.run("apply")).code, 0);

    m.env.WRONG_ADMIN = "not the admin password";
    m.rewrite((t) =>
      t.replace(
        /shop: \{ engine: mariadb, port: (\d+) \}/,
        "shop: { engine: mariadb, port: $1, admin: { password: env:WRONG_ADMIN } }",
      ),
    );
    const sql = await m.run("sql", "shop", "SELECT 1");
    assert.equal(sql.code, 1);
    assert.match(sql.stderr, /MariaDB node shop refused the login of root from this host/);
    assert.match(sql.stderr, /hint: check the password reference of root/);
    m.rewrite((t) => t.replace(", admin: { password: env:WRONG_ADMIN }", ""));
  });

  test("an unmanaged node that does not answer is named with the fix, in plan and doctor", async () => {
    const gone = await freePort();
    m.env.GONE_ADMIN = "x";
    m.rewrite((t) =>
      t.replace(
        "roles:",
        `  gone: { engine: mariadb, port: ${gone}, managed: false, admin: { password: env:GONE_ADMIN } }\nroles:`,
      ),
    );
    const plan = await m.run("plan");
    assert.equal(plan.code, 1);
    assert.match(
      plan.stdout,
      new RegExp(
        `! MariaDB node gone is unreachable at 127\\.0\\.0\\.1:${gone} \\(ECONNREFUSED\\)`,
      ),
    );
    assert.match(plan.stdout, /hint: start it .* or fix host\/port of nodes\.gone/);
    const doctor = await m.run("doctor");
    assert.match(
      doctor.stdout,
      /FAIL +reachable gone: .*\n.*\n +fix: +start the server or fix nodes\.gone\.host\/port/,
    );
    m.rewrite((t) => t.replace(/ {2}gone: .*\n/, ""));
  });

  test("down stops the node and up starts it again with its data", async () => {
    const down = await m.run("down");
    assert.match(down.stdout, /shop: stopped/);
    const status = await m.run("status");
    assert.equal(status.code, 1);
    assert.match(status.stdout, /shop +\| down/);
    const doctor = await m.run("doctor");
    assert.match(
      doctor.stdout,
      /fix: +start it with `dbmesh up --node shop` \(log: \.dbmesh\/shop\/mariadb\.log\)/,
    );
    const up = await m.run("up");
    assert.equal(up.code, 0, up.stdout + up.stderr);
    assert.match(up.stdout, /shop: MariaDB .* started on/);
    assert.match(up.stdout, /no changes: every node matches the file/);
    const r = await m.run("--json", "sql", "shop/orders", "SELECT count(*) FROM orders");
    assert.deepEqual(JSON.parse(r.stdout)[0].rows, [["3"]]);
  });
});

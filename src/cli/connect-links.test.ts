import assert from "node:assert/strict";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { odbcDriverInstalled } from "../links/connect-odbc.js";
import { connectMariadb, findMariadb, type MariadbSession } from "../mariadb/index.js";
import { type MeshFixture, meshFixture } from "../testing/index.js";

// MariaDB → PostgreSQL (connect_odbc) and MariaDB → MariaDB (federatedx) on real servers.
// Skipped, saying why, without the system packages.
const missing = await findMariadb().then(
  () =>
    odbcDriverInstalled()
      ? undefined
      : "the PostgreSQL ODBC driver is not installed (apt-get install odbc-postgresql unixodbc)",
  (e: Error) => `MariaDB is not installed (${e.message})`,
);
if (missing) console.log(`# skipped CONNECT/FederatedX link tests: ${missing}`);

const TEXT = "Zoë Ångström — 東京 🚀 'q' \\ b";

describe("links from MariaDB: connect_odbc to PostgreSQL, federatedx to MariaDB", {
  skip: missing,
}, () => {
  let m: MeshFixture;
  let pg: number;
  let shop: number;
  const env = {
    CRM_OWNER_PASSWORD: "owner-pw",
    CRM_READER_PASSWORD: "reader:pw'\\x",
    CLERK_PASSWORD: "clerk-pw",
    INTERN_PASSWORD: "intern-pw",
    STOCKER_PASSWORD: "stocker-pw",
    KEEPER_PASSWORD: "keeper-pw",
  };
  const login = (user: string): Promise<MariadbSession> =>
    connectMariadb({
      node: "shop",
      host: "127.0.0.1",
      port: shop,
      user,
      password: env[`${user.toUpperCase()}_PASSWORD` as keyof typeof env],
      database: "sales",
    });
  const asClerk = async (sql: string) => {
    const s = await login("clerk");
    try {
      return (await s.raw(sql))[0]!.rows;
    } finally {
      await s.end();
    }
  };

  before(async () => {
    m = await meshFixture({
      name: "connect-links",
      ports: 3,
      yaml: ([p, s, w]) => `version: 1
nodes:
  crm: { port: ${p} }
  shop: { engine: mariadb, port: ${s} }
  warehouse: { engine: mariadb, port: ${w} }
roles:
  crm_owner: { password: env:CRM_OWNER_PASSWORD, nodes: [crm] }
  crm_reader: { password: env:CRM_READER_PASSWORD, nodes: [crm] }
  clerk: { password: env:CLERK_PASSWORD, nodes: [shop] }
  intern: { password: env:INTERN_PASSWORD, nodes: [shop] }
  stocker: { password: env:STOCKER_PASSWORD, nodes: [warehouse] }
  keeper: { password: env:KEEPER_PASSWORD, nodes: [warehouse] }
databases:
  crm: { node: crm, owner: crm_owner, seed: [crm.sql] }
  sales: { node: shop, owner: clerk, seed: [sales.sql] }
  scratch: { node: shop, owner: intern }
  stock: { node: warehouse, owner: stocker, seed: [stock.sql] }
links:
  - { from: shop/sales, to: crm/crm, via: connect_odbc, as: { clerk: crm_reader },
      import: { schema: public, into: crm, tables: [customers] } }
  - { from: shop/sales, to: warehouse/stock, via: federatedx, as: { clerk: keeper },
      import: { schema: stock, into: warehouse } }
`,
      env,
    });
    [pg, shop] = [m.ports[0]!, m.ports[1]!];
    writeFileSync(
      join(m.dir, "crm.sql"),
      `CREATE TABLE customers (id int PRIMARY KEY, name text, balance numeric(12,2), born date,
  seen timestamptz, vip boolean, code varchar(8));
SET TimeZone = 'Europe/Paris';
INSERT INTO customers VALUES
  (1, '${TEXT.replace(/'/g, "''")}', 1234567890.12, '1990-02-03', '2024-01-02 04:04:05.123456+01', true, 'é1'),
  (2, NULL, NULL, NULL, NULL, NULL, NULL),
  (3, 'Bob', -0.05, '2000-02-29', '1999-12-31 23:59:59+00', false, '');
`,
    );
    writeFileSync(
      join(m.dir, "sales.sql"),
      `CREATE TABLE orders (id int PRIMARY KEY, customer_id int, total decimal(10,2));
INSERT INTO orders VALUES (10, 1, 9.99), (11, 1, 20.00), (12, 3, 5.00), (13, 2, NULL);
`,
    );
    writeFileSync(
      join(m.dir, "stock.sql"),
      `CREATE TABLE items (sku varchar(20) PRIMARY KEY, label text, qty int unsigned, price decimal(8,2), added datetime);
INSERT INTO items VALUES ('A1', '${TEXT.replace(/\\/g, "\\\\").replace(/'/g, "''")}', 3, 9.99, '2024-05-06 07:08:09'), ('B2', NULL, NULL, NULL, NULL);
`,
    );
  });
  after(async () => {
    await m?.destroy();
  });

  test("up creates the data source, the CONNECT and FederatedX tables and the grants; a second apply changes nothing", async () => {
    const up = await m.run("up");
    assert.equal(up.code, 0, up.stdout + up.stderr);
    assert.match(up.stdout, /install the CONNECT storage engine \(plugin ha_connect\)/);
    assert.match(up.stdout, /write ODBC data source crm to \.dbmesh\/shop\/odbc\.ini/);
    assert.match(up.stdout, /grant crm_reader what links\[0\] connect_odbc from shop reads/);
    assert.match(
      up.stdout,
      /create CONNECT table crm\.customers over crm\/crm public\.customers \(name: text → varchar\(2000\)/,
    );
    assert.match(
      up.stdout,
      /seen: timestamp with time zone → datetime: fractions of a second are dropped \(CONNECT reads whole seconds\), read in UTC/,
    );
    assert.match(up.stdout, /create FederatedX table warehouse\.items over warehouse\/stock/);
    const again = await m.run("apply");
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /no changes: every node matches the file/);
  });

  test("the password is in the 0600 password file only, never in odbc.ini, a table definition or the plan", async () => {
    const state = join(m.dir, ".dbmesh", "shop");
    const ini = readFileSync(join(state, "odbc.ini"), "utf8");
    assert.match(ini, /^\[crm\]$/m);
    assert.match(ini, /^Driver = PostgreSQL Unicode$/m);
    assert.match(ini, new RegExp(`^Port = ${pg}$`, "m"));
    assert.doesNotMatch(ini, /reader:pw|Password/);
    assert.equal(statSync(join(state, "pgpass")).mode & 0o777, 0o600);
    const ddl = await m.run("sql", "shop", "SHOW CREATE TABLE crm.customers");
    assert.match(ddl.stdout, /CONNECTION='DSN=crm'/);
    assert.doesNotMatch(ddl.stdout, /reader/);
    const fx = await m.run("sql", "shop", "SHOW CREATE TABLE warehouse.items");
    assert.match(fx.stdout, /ENGINE=FEDERATED.*CONNECTION='warehouse\/items'/);
    assert.doesNotMatch(fx.stdout, /keeper-pw/);
    const log = readFileSync(join(state, "mariadb.log"), "utf8");
    assert.doesNotMatch(log, /reader:pw|keeper-pw/);
  });

  test("rows read through CONNECT equal the PostgreSQL rows: NULLs, dates, decimals, timestamptz in UTC, non-ASCII", async () => {
    const source = await m.rows(
      pg,
      "crm",
      `SELECT id::text, name, balance::text, born::text,
         to_char(seen AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), CASE vip WHEN true THEN '1' WHEN false THEN '0' END, code
       FROM customers ORDER BY id`,
    );
    const through = await asClerk(
      "SELECT id, name, balance, born, seen, vip, code FROM crm.customers ORDER BY id",
    );
    assert.deepEqual(through, source);
    assert.deepEqual(through[0], [
      "1",
      TEXT,
      "1234567890.12",
      "1990-02-03",
      "2024-01-02 03:04:05",
      "1",
      "é1",
    ]);
    assert.deepEqual(through[1], ["2", null, null, null, null, null, null]);
    // A filter CONNECT sends to PostgreSQL, and one on non-ASCII text.
    assert.deepEqual(await asClerk(`SELECT id FROM crm.customers WHERE code = 'é1'`), [["1"]]);
  });

  test("a MariaDB user joins local orders with PostgreSQL customers and MariaDB items", async () => {
    const rows = await asClerk(
      `SELECT c.name, COUNT(o.id), SUM(o.total) FROM orders o JOIN crm.customers c ON c.id = o.customer_id
       GROUP BY c.id, c.name ORDER BY c.id`,
    );
    assert.deepEqual(rows, [
      [TEXT, "2", "29.99"],
      [null, "1", null],
      ["Bob", "1", "5.00"],
    ]);
    assert.deepEqual(
      await asClerk("SELECT sku, label, qty, price, added FROM warehouse.items ORDER BY sku"),
      [
        ["A1", TEXT, "3", "9.99", "2024-05-06 07:08:09"],
        ["B2", null, null, null, null],
      ],
    );
  });

  test("a MariaDB user the link does not map is refused with the missing grant named", async () => {
    const intern = await connectMariadb({
      node: "shop",
      host: "127.0.0.1",
      port: shop,
      user: "intern",
      password: env.INTERN_PASSWORD,
    });
    try {
      await assert.rejects(intern.query("SELECT * FROM crm.customers"), (e: Error) => {
        assert.match(
          e.message,
          /SELECT command denied to user 'intern'@'127\.0\.0\.1' for table `crm`\.`customers`/,
        );
        return true;
      });
    } finally {
      await intern.end();
    }
  });

  test("a revoked PostgreSQL grant: doctor names it, plan grants it again, apply restores the read", async () => {
    await m.rows(pg, "crm", "REVOKE SELECT ON customers FROM crm_reader");
    const doctor = await m.run("doctor");
    assert.equal(doctor.code, 1, doctor.stdout);
    assert.match(
      doctor.stdout,
      /FAIL +link +links\[0\].*crm_reader may not read public\.customers/,
    );
    assert.match(doctor.stdout, /permission denied for table customers/);
    assert.match(
      doctor.stdout,
      /fix: +GRANT SELECT ON public\.customers TO crm_reader on crm\/crm/,
    );
    const plan = await m.run("plan");
    assert.equal(plan.code, 1, plan.stdout);
    assert.match(plan.stdout, /GRANT SELECT ON "public"\."customers" TO "crm_reader"/);
    const apply = await m.run("apply");
    assert.equal(apply.code, 0, apply.stdout + apply.stderr);
    assert.equal((await asClerk("SELECT COUNT(*) FROM crm.customers"))[0]![0], "3");
    const ok = await m.run("doctor");
    assert.equal(ok.code, 0, ok.stdout);
    assert.match(ok.stdout, /ok +link +links\[1\].*clerk read 1 row through federatedx/);
  });

  test("drift: a PostgreSQL column change recreates the CONNECT table; an unmappable column is refused by name", async () => {
    await m.rows(
      pg,
      "crm",
      "ALTER TABLE customers ADD COLUMN email varchar(100), ALTER COLUMN code TYPE varchar(12)",
    );
    await m.rows(pg, "crm", "UPDATE customers SET email = 'zoë@example.org' WHERE id = 1");
    const plan = await m.run("plan");
    assert.equal(plan.code, 1, plan.stdout);
    assert.match(
      plan.stdout,
      /recreate CONNECT table crm\.customers: remote columns changed \(\+email, ~code\)/,
    );
    assert.match(plan.stdout, /`email` varchar\(100\) COMMENT 'character varying\(100\)'/);
    const apply = await m.run("apply");
    assert.equal(apply.code, 0, apply.stdout + apply.stderr);
    assert.deepEqual(await asClerk("SELECT email FROM crm.customers WHERE id = 1"), [
      ["zoë@example.org"],
    ]);

    await m.rows(pg, "crm", "ALTER TABLE customers ADD COLUMN photo bytea, ADD COLUMN tags text[]");
    const refused = await m.run("plan");
    assert.equal(refused.code, 1, refused.stdout);
    assert.match(
      refused.stdout,
      /column public\.customers\.photo \(bytea\) cannot be exposed through connect_odbc: bytea: CONNECT's ODBC tables have no binary column type/,
    );
    assert.match(refused.stdout, /column public\.customers\.tags \(text\[\]\) cannot be exposed/);
    // The table already there is left as it is, and still reads.
    assert.equal((await asClerk("SELECT COUNT(*) FROM crm.customers"))[0]![0], "3");
    await m.rows(pg, "crm", "ALTER TABLE customers DROP COLUMN photo, DROP COLUMN tags");
  });

  test("a remote MariaDB column change recreates the FederatedX table", async () => {
    const w = await m.run("sql", "warehouse/stock", "ALTER TABLE items ADD COLUMN bin varchar(10)");
    assert.equal(w.code, 0, w.stderr);
    const plan = await m.run("plan");
    assert.match(
      plan.stdout,
      /recreate FederatedX table warehouse\.items: remote columns changed \(\+bin\)/,
    );
    const apply = await m.run("apply");
    assert.equal(apply.code, 0, apply.stdout + apply.stderr);
    assert.deepEqual(await asClerk("SELECT sku, bin FROM warehouse.items ORDER BY sku"), [
      ["A1", null],
      ["B2", null],
    ]);
  });
});

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { connectMariadb } from "../mariadb/index.js";
import { exampleFixture, type MeshFixture } from "../testing/index.js";
import { loadTopology } from "../topology/index.js";
import {
  shopFile,
  shopMariadbQuery,
  shopMissing,
  shopPostgresQuery,
} from "./commands/demo-shop.js";

// Workflow 4: examples/shop — customers in PostgreSQL 15, orders in MariaDB, a link each way
// (connect_odbc and mysql_fdw), and the demo's query from each side. Skipped, saying which
// packages to install, when the system lacks them.
const missing = await shopMissing(loadTopology(shopFile));
if (missing) console.log(`# skipped shop example tests: install ${missing}`);

describe("shop example: PostgreSQL customers and MariaDB orders, linked both ways", {
  skip: missing,
}, () => {
  let m: MeshFixture;
  let crm: number;
  let shop: number;
  const env = {
    CRM_OWNER_PASSWORD: "crm owner 'pw'",
    CRM_READER_PASSWORD: "crm:reader\\pw",
    CLERK_PASSWORD: "clerk-pw",
    SALES_READER_PASSWORD: "sales-reader-pw",
  };

  before(async () => {
    m = await exampleFixture("shop-example", "shop", env);
    [crm, shop] = m.ports as [number, number];
    const up = await m.run("up");
    assert.equal(up.code, 0, up.stdout + up.stderr);
  });
  after(async () => {
    await m?.destroy();
  });

  test("plan after up says no changes; doctor passes every link check", async () => {
    const plan = await m.run("plan");
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);
    assert.match(plan.stdout, /no changes/);
    const doctor = await m.run("doctor");
    assert.equal(doctor.code, 0, doctor.stdout);
    assert.match(doctor.stdout, /ok +link +links\[0\].*clerk read 1 row through connect_odbc/);
  });

  test("status shows both links with their tables", async () => {
    const r = await m.run("status", "--json");
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const links: { via: string; state: string; foreignTables: number }[] = JSON.parse(
      r.stdout,
    ).links;
    assert.deepEqual(
      links.map((l) => [l.via, l.state, l.foreignTables > 0]),
      [
        ["connect_odbc", "present", true],
        ["mysql_fdw", "present", true],
      ],
    );
  });

  test("MariaDB joins its orders with PostgreSQL's customers", async () => {
    const s = await connectMariadb({
      node: "shop",
      host: "127.0.0.1",
      port: shop,
      user: "clerk",
      password: env.CLERK_PASSWORD,
      database: "sales",
    });
    try {
      assert.deepEqual((await s.raw(shopMariadbQuery))[0]!.rows, [
        ["Zoë Ångström", "SE", "2", "155.50"],
        ["山田 太郎", "JP", "2", "992.25"],
        ["Ada Lovelace", "GB", "1", null],
      ]);
    } finally {
      await s.end();
    }
  });

  test("PostgreSQL joins its customers with MariaDB's orders", async () => {
    assert.deepEqual(await m.rows(crm, "crm", shopPostgresQuery, "crm_owner"), [
      ["Zoë Ångström", "t", "2", "155.50"],
      ["山田 太郎", "f", "2", "992.25"],
      ["José Núñez", "f", "0", null],
      ["Ada Lovelace", "t", "1", null],
    ]);
  });
});

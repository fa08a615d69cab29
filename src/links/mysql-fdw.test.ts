import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { issuesOf } from "../testing/index.js";
import { mapMariadbColumn } from "./mysql-fdw.js";
import { asPostgresFdwPlan } from "./mysql-fdw-explain.js";

const col = (dataType: string, columnType = dataType) => ({
  name: "c",
  dataType,
  columnType,
  notNull: false,
  key: "",
});

describe("mysql_fdw column mapping", () => {
  test("types mysql_fdw imports cleanly keep its mapping", () => {
    for (const [dt, ct, pg] of [
      ["int", "int(11)", "integer"],
      ["tinyint", "tinyint(3) unsigned", "smallint"],
      ["decimal", "decimal(10,2)", "numeric"],
      ["varchar", "varchar(20)", "character varying(20)"],
      ["char", "char(5)", "character(5)"],
      ["datetime", "datetime", "timestamp without time zone"],
      ["longtext", "longtext", "text"],
      ["varbinary", "varbinary(8)", "bytea"],
      ["bit", "bit(1)", "bit(1)"],
    ] as const) {
      const m = mapMariadbColumn(col(dt, ct));
      assert.equal(m.kind, "mapped", ct);
      if (m.kind === "mapped") {
        assert.equal(m.type, pg, ct);
        assert.equal(m.alter, false, ct);
      }
    }
  });

  test("UNSIGNED and BIT(n) are widened after the import, and say so", () => {
    for (const [dt, ct, pg] of [
      ["smallint", "smallint(5) unsigned", "integer"],
      ["int", "int(10) unsigned", "bigint"],
      ["bigint", "bigint(20) unsigned", "numeric(20,0)"],
      ["bit", "bit(8)", "bit(8)"],
    ] as const) {
      const m = mapMariadbColumn(col(dt, ct));
      assert.ok(m.kind === "mapped" && m.alter && m.type === pg && m.note, ct);
    }
  });

  test("ENUM maps to text with a note; YEAR, SET and spatial types are refused with a reason", () => {
    const e = mapMariadbColumn(col("enum", "enum('a','b')"));
    assert.ok(e.kind === "mapped" && e.type === "text");
    assert.match(e.kind === "mapped" ? (e.note ?? "") : "", /enum\('a','b'\) → text/);
    for (const [dt, ct, why] of [
      ["year", "year(4)", /YEAR, which mysql_fdw imports as a type PostgreSQL does not have/],
      ["set", "set('x','y')", /set\('x','y'\), for which mysql_fdw has no PostgreSQL type/],
      ["point", "point", /POINT, a spatial type/],
    ] as const) {
      const m = mapMariadbColumn(col(dt, ct));
      assert.equal(m.kind, "refused", ct);
      assert.match(m.kind === "refused" ? m.reason : "", why);
    }
  });
});

describe("mysql_fdw plans in postgres_fdw's shape", () => {
  test("Remote query becomes Remote SQL and Relations name the local foreign tables", () => {
    const plan = [
      {
        Plan: {
          "Node Type": "Foreign Scan",
          Relations: "(orders.t r1) INNER JOIN (orders.b r2)",
          "Remote query": "SELECT r1.`id` FROM (`orders`.`t` r1 INNER JOIN `orders`.`b` r2)",
        },
      },
    ];
    const out = asPostgresFdwPlan(plan, [
      { schema: "shop", table: "t", server: "shop", dbname: "orders", remote_table: "t" },
      { schema: "My Shop", table: "b", server: "shop", dbname: "orders", remote_table: "b" },
    ]) as { Plan: Record<string, unknown> }[];
    assert.equal(out[0]!.Plan["Remote SQL"], plan[0]!.Plan["Remote query"]);
    assert.equal(out[0]!.Plan.Relations, '(shop.t r1) INNER JOIN ("My Shop".b r2)');
  });
});

describe("mysql_fdw links in the topology file", () => {
  const file = (from: string, link = "") => `version: 1
nodes:
  app: { port: 5432${from} }
  shop: { engine: mariadb, port: 13306 }
roles:
  a: { password: env:A, nodes: [app] }
  c: { password: env:C, nodes: [shop] }
databases:
  appdb: { node: app, owner: a }
  orders: { node: shop, owner: c }
links:
  - { from: app/appdb, to: shop/orders, via: mysql_fdw, as: { a: c }${link} }
`;

  test("a link from a node on the embedded PostgreSQL 17 is refused with the binaries hint", () => {
    const issues = issuesOf(file("", ", import: { schema: orders, into: shop }"));
    assert.equal(issues.length, 1, JSON.stringify(issues));
    assert.equal(issues[0]!.at, "/mesh/dbmesh.yaml:12:13");
    assert.match(
      issues[0]!.message,
      /node "app" runs the embedded PostgreSQL 17, which cannot load mysql_fdw/,
    );
    assert.match(issues[0]!.hint ?? "", /binaries: \/usr\/lib\/postgresql\/15\/bin \(or system\)/);
    const written = issuesOf(
      file(", binaries: embedded", ", import: { schema: orders, into: shop }"),
    );
    assert.equal(written[0]!.at, "/mesh/dbmesh.yaml:3:32");
  });

  test("an import from another database, views: and no import: are refused", () => {
    const sys = ", binaries: system";
    assert.match(
      issuesOf(file(sys, ", import: { schema: other, into: shop }"))[0]!.message,
      /import\.schema "other" is not the link's MariaDB database "orders"/,
    );
    assert.match(
      issuesOf(file(sys, ", views: { into: v, tables: [orders.t] }"))
        .map((i) => i.message)
        .join("\n"),
      /views: is not supported on mysql_fdw links/,
    );
    assert.match(issuesOf(file(sys))[0]!.message, /without import: exposes nothing/);
  });
});

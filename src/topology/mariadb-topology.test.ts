import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { issuesOf } from "../testing/index.js";
import { parseTopology } from "./index.js";

const FILE = "/mesh/dbmesh.yaml";

describe("engine: mariadb in the topology file", () => {
  test("mariadb and mysql nodes load as MariaDB nodes with root as their admin", () => {
    const t = parseTopology(
      FILE,
      `version: 1
nodes:
  shop: { engine: mariadb, port: 13306 }
  legacy: { engine: mysql, port: 13307 }
roles:
  clerk: { password: env:CLERK, nodes: [shop], from: [127.0.0.1, 10.0.0.0/24] }
databases:
  orders: { node: shop, owner: clerk }
`,
    );
    assert.equal(t.nodes.get("shop")?.engine, "mariadb");
    assert.equal(t.nodes.get("legacy")?.engine, "mariadb");
    assert.equal(t.nodes.get("shop")?.admin.user, "root");
    assert.equal(t.nodes.get("shop")?.managed, true);
  });

  test("PostgreSQL-only node fields, role attributes and schemas are refused, naming the field", () => {
    const issues = issuesOf(`version: 1
nodes:
  pg: { port: 5432 }
  shop: { engine: mariadb, port: 13306, settings: { work_mem: 4MB } }
  copy: { engine: mariadb, port: 13307, replicaOf: shop }
roles:
  clerk: { password: env:CLERK, nodes: [shop], createdb: true }
databases:
  orders: { node: shop, owner: clerk, schemas: [sales] }
  mysql: { node: shop, owner: clerk }
`);
    const at = (line: number) => issues.filter((i) => i.at.startsWith(`${FILE}:${line}:`));
    assert.match(
      at(4)[0]?.message ?? "",
      /settings: is a PostgreSQL setting; node "shop" is a MariaDB node/,
    );
    assert.ok(at(5).some((i) => /replicaOf: is a PostgreSQL setting; node "copy"/.test(i.message)));
    assert.ok(at(7).some((i) => /createdb: is a PostgreSQL role attribute/.test(i.message)));
    assert.ok(at(9).some((i) => /schemas: are PostgreSQL namespaces/.test(i.message)));
    assert.ok(at(10).some((i) => /database "mysql" is reserved/.test(i.message)));
  });

  test("a link to a MariaDB node is refused with the reason", () => {
    const issues = issuesOf(`version: 1
nodes:
  pg: { port: 5432 }
  shop: { engine: mariadb, port: 13306 }
roles:
  a: { password: env:A, nodes: [pg, shop] }
databases:
  app: { node: pg, owner: a }
  orders: { node: shop, owner: a }
links:
  - { from: pg/app, to: shop/orders, via: postgres_fdw, as: { a: a } }
`);
    const link = issues.find((i) => i.at.startsWith(`${FILE}:11:`));
    assert.match(
      link?.message ?? "",
      /postgres_fdw links PostgreSQL databases; node "shop" is a MariaDB node/,
    );
    assert.match(link?.hint ?? "", /use via: mysql_fdw/);
  });

  test("a managed MariaDB node listens on loopback only", () => {
    const issues = issuesOf(`version: 1
nodes:
  shop: { engine: mariadb, host: 10.0.0.5, port: 13306, managed: true }
`);
    assert.match(issues[0]?.message ?? "", /loopback address only, not 10\.0\.0\.5/);
  });
});

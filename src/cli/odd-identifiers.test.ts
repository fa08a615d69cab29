import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type MeshFixture, meshFixture } from "../testing/index.js";

// Names with spaces, capitals, quotes and an hba keyword ("all") as a database name must be
// quoted correctly in SQL, in pg_hba.conf and in option strings.

const seed = `
CREATE TABLE "Q1 Data"."Order Lines" ("Line ID" integer PRIMARY KEY, "Amount ($)" numeric(10,2) NOT NULL, "it's" text);
INSERT INTO "Q1 Data"."Order Lines" VALUES (1, 10.50, 'a''b'), (2, 99.99, NULL), (3, 0, 'ünïcode');
`;

describe("identifiers with quotes, spaces and capitals", () => {
  let m: MeshFixture;
  const anaPassword = "Ana's pass \\ word";
  const bobPassword = "bob-pw";

  before(async () => {
    m = await meshFixture({
      name: "identifiers",
      ports: 2,
      yaml: ([a, b]) => `version: 1
nodes:
  Node One: { port: ${a} }
  node-two: { port: ${b} }
roles:
  'Ana "Q" O''Neil': { password: env:ANA, nodes: [Node One] }
  Bob Smith: { password: env:BOB, nodes: [node-two] }
databases:
  Sales DB: { node: Node One, owner: 'Ana "Q" O''Neil', schemas: [Q1 Data], seed: [odd.sql] }
  all: { node: node-two, owner: Bob Smith }
links:
  - from: node-two/all
    to: Node One/Sales DB
    via: postgres_fdw
    name: Sales "FDW"
    as: { Bob Smith: 'Ana "Q" O''Neil' }
    import: { schema: Q1 Data, into: Remote Sales }
  - from: node-two/all
    to: Node One/Sales DB
    via: dblink
    name: Sales Link
    as: { Bob Smith: 'Ana "Q" O''Neil' }
    views: { into: Views, tables: [Q1 Data.Order Lines] }
    copies: { into: Copies, tables: [Q1 Data.Order Lines] }
`,
      env: { ANA: anaPassword, BOB: bobPassword },
    });
    writeFileSync(join(m.dir, "odd.sql"), seed);
    const up = await m.run("up");
    assert.equal(up.code, 0, up.stdout + up.stderr);
  });
  after(async () => {
    await m?.destroy();
  });

  test("rows read through every link kind equal the source", async () => {
    const [a, b] = m.ports as [number, number];
    const source = await m.rows(a, "Sales DB", 'SELECT * FROM "Q1 Data"."Order Lines" ORDER BY 1');
    assert.equal(source.length, 3);
    for (const rel of [
      '"Remote Sales"."Order Lines"',
      '"Views"."Order Lines"',
      '"Copies"."Order Lines"',
    ]) {
      const rows = await m.rows(
        b,
        "all",
        `SELECT * FROM ${rel} ORDER BY 1`,
        "Bob Smith",
        bobPassword,
      );
      assert.deepEqual(rows, source, rel);
    }
  });

  test("a second plan is empty and doctor passes", async () => {
    const plan = await m.run("plan");
    assert.equal(plan.code, 0, plan.stdout);
    const doctor = await m.run("doctor");
    assert.equal(doctor.code, 0, doctor.stdout);
  });
});

import * as assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { serverOptions } from "../links/index.js";
import type { Plan, Step } from "../pgadmin/index.js";
import {
  Connections,
  managedMarker,
  type ObservedColumn,
  type ObservedDatabaseContent,
  type ObservedRelation,
  type ObservedRole,
  type ObservedServer,
  PgAdminError,
  scramMatches,
  scramVerifier,
} from "../pgadmin/index.js";
import { parseTopology, type Topology } from "../topology/index.js";
import type { MeshAccess } from "./mesh-access.js";
import type { MeshState, NodeState } from "./observe.js";
import { planFromState } from "./plan.js";
import { formatPlan, planJson } from "./print-plan.js";

// Distinctive passwords, so any leak into printed plans is easy to spot.
const PW1 = "Pablo1-Sekr1t-Zq81";
const PW2 = "Pablo2-Sekr1t-Wv42";
process.env.DBMESH_UNIT_PLAN_PABLO1 = PW1;
process.env.DBMESH_UNIT_PLAN_PABLO2 = PW2;

const dir = mkdtempSync(join(tmpdir(), "dbmesh-plan-"));
const SCOTT_SQL = "CREATE TABLE scott.emp (empno integer PRIMARY KEY);\n";
writeFileSync(join(dir, "scott.sql"), SCOTT_SQL);
writeFileSync(join(dir, "bonus.sql"), "CREATE TABLE scott.bonus (ename text);\n");

after(() => {
  rmSync(dir, { recursive: true, force: true });
  delete process.env.DBMESH_UNIT_PLAN_PABLO1;
  delete process.env.DBMESH_UNIT_PLAN_PABLO2;
});

// The scott example: postgre2 reads postgre1 over dblink (views and a copy), postgre1 imports
// postgre2's scott schema over postgres_fdw.
const yaml = `version: 1
nodes:
  postgre1: { host: 127.0.0.1, port: 15432 }
  postgre2: { host: 127.0.0.1, port: 15433 }
roles:
  pablo1: { password: env:DBMESH_UNIT_PLAN_PABLO1, nodes: [postgre1] }
  pablo2: { password: env:DBMESH_UNIT_PLAN_PABLO2, nodes: [postgre2] }
databases:
  db_postgre1: { node: postgre1, owner: pablo1, schemas: [scott], seed: [scott.sql, bonus.sql] }
  db_postgre2: { node: postgre2, owner: pablo2, schemas: [scott], seed: [scott.sql] }
links:
  - from: postgre2/db_postgre2
    to: postgre1/db_postgre1
    via: dblink
    as: { pablo2: pablo1 }
    views: { into: postgre1, tables: [scott.bonus, scott.emp] }
    copies: { into: public, tables: [scott.bonus] }
  - from: postgre1/db_postgre1
    to: postgre2/db_postgre2
    via: postgres_fdw
    as: { pablo1: pablo2 }
    import: { schema: scott, into: postgre2_scott }
`;

const file = join(dir, "dbmesh.yaml");
const topology = parseTopology(file, yaml);

function accessTo(t: Topology): MeshAccess {
  return {
    topology: t,
    connections: new Connections(async () => {
      throw new Error("no connections in unit tests");
    }),
    config: undefined,
    prune: false,
  };
}

// ---- observed catalogs, built by hand ------------------------------------------------------

const col = (name: string, type: string, notNull = false): ObservedColumn => ({
  name,
  type,
  notNull,
});

const empColumns = () => [
  col("empno", "integer", true),
  col("ename", "character varying(10)"),
  col("deptno", "integer"),
];
const deptColumns = () => [col("deptno", "integer", true), col("dname", "character varying(14)")];
const bonusColumns = () => [col("ename", "character varying(10)", true), col("sal", "numeric")];

function relation(
  schema: string,
  name: string,
  kind: string,
  columns: ObservedColumn[],
  extra: Partial<ObservedRelation> = {},
): ObservedRelation {
  return {
    schema,
    name,
    kind,
    owner: "postgres",
    comment: null,
    server: null,
    foreignOptions: {},
    columns,
    primaryKey: [],
    grants: [],
    ...extra,
  };
}

function role(name: string, password: string | null, extra: Partial<ObservedRole> = {}) {
  const r: ObservedRole = {
    name,
    login: true,
    createdb: false,
    connlimit: -1,
    superuser: false,
    replication: false,
    password,
    comment: managedMarker,
    ...extra,
  };
  return [name, r] as const;
}

const superuser = () =>
  role("postgres", scramVerifier("admin-pw"), { superuser: true, comment: null });

function emptyServer(): ObservedServer {
  return {
    version: "17.2",
    roles: new Map([superuser()]),
    databases: new Map([
      ["postgres", { name: "postgres", owner: "postgres", comment: null, seeds: [] }],
    ]),
    availableExtensions: new Set(["plpgsql", "dblink", "postgres_fdw"]),
    slots: new Set(),
  };
}

function schema(name: string, owner: string, grants: ObservedRelation["grants"] = []) {
  return [name, { name, owner, comment: null, grants }] as const;
}

function byKey(relations: ObservedRelation[]): Map<string, ObservedRelation> {
  return new Map(relations.map((r) => [`${r.schema}.${r.name}`, r]));
}

/** Every node as it is after a successful apply of `t` (the scott topology). */
function convergedState(t: Topology = topology): MeshState {
  const [toPostgre1, toPostgre2] = [t.links[0]!, t.links[1]!];

  const server1 = emptyServer();
  server1.roles.set(...role("pablo1", scramVerifier(PW1)));
  server1.databases.set("db_postgre1", {
    name: "db_postgre1",
    owner: "pablo1",
    comment: managedMarker,
    seeds: ["scott.sql", "bonus.sql"],
  });
  const db1: ObservedDatabaseContent = {
    schemas: new Map([
      schema("public", "pg_database_owner"),
      schema("scott", "pablo1"),
      schema("postgre2_scott", "pablo1"),
    ]),
    extensions: new Set(["plpgsql", "postgres_fdw"]),
    servers: new Map([
      [
        "postgre2",
        {
          name: "postgre2",
          fdw: "postgres_fdw",
          owner: "postgres",
          options: serverOptions(t, toPostgre2),
          usage: ["pablo1"],
          comment: managedMarker,
          mappings: new Map([["pablo1", { user: "pablo2", password: PW2 }]]),
        },
      ],
    ]),
    relations: byKey([
      relation("scott", "emp", "r", empColumns(), { owner: "pablo1", primaryKey: ["empno"] }),
      relation("scott", "dept", "r", deptColumns(), { owner: "pablo1", primaryKey: ["deptno"] }),
      relation("scott", "bonus", "r", bonusColumns(), { owner: "pablo1", primaryKey: ["ename"] }),
      ...["emp", "dept"].map((name) =>
        relation("postgre2_scott", name, "f", name === "emp" ? empColumns() : deptColumns(), {
          owner: "pablo1",
          server: "postgre2",
          comment: managedMarker,
          foreignOptions: { schema_name: "scott", table_name: name },
        }),
      ),
    ]),
  };

  const server2 = emptyServer();
  server2.roles.set(...role("pablo2", scramVerifier(PW2)));
  server2.databases.set("db_postgre2", {
    name: "db_postgre2",
    owner: "pablo2",
    comment: managedMarker,
    seeds: ["scott.sql"],
  });
  const db2: ObservedDatabaseContent = {
    schemas: new Map([
      schema("public", "pg_database_owner", [
        { grantee: "pablo2", privilege: "USAGE" },
        { grantee: "pablo2", privilege: "CREATE" },
      ]),
      schema("scott", "pablo2"),
      schema("postgre1", "pablo2"),
    ]),
    extensions: new Set(["plpgsql", "dblink"]),
    servers: new Map([
      [
        "postgre1",
        {
          name: "postgre1",
          fdw: "dblink_fdw",
          owner: "postgres",
          options: serverOptions(t, toPostgre1),
          usage: ["pablo2"],
          comment: managedMarker,
          mappings: new Map([["pablo2", { user: "pablo1", password: PW1 }]]),
        },
      ],
    ]),
    relations: byKey([
      relation("scott", "emp", "r", empColumns(), { owner: "pablo2", primaryKey: ["empno"] }),
      relation("scott", "dept", "r", deptColumns(), { owner: "pablo2", primaryKey: ["deptno"] }),
      relation("postgre1", "bonus", "v", bonusColumns(), {
        owner: "pablo2",
        comment: `${managedMarker}; dblink server "postgre1"`,
      }),
      relation("postgre1", "emp", "v", empColumns(), {
        owner: "pablo2",
        comment: `${managedMarker}; dblink server "postgre1"`,
      }),
      relation("public", "bonus", "r", bonusColumns(), {
        owner: "pablo2",
        comment: managedMarker,
        primaryKey: ["ename"],
      }),
    ]),
  };

  return new Map<string, NodeState>([
    ["postgre1", { server: server1, error: undefined, databases: new Map([["db_postgre1", db1]]) }],
    ["postgre2", { server: server2, error: undefined, databases: new Map([["db_postgre2", db2]]) }],
  ]);
}

function emptyState(): MeshState {
  return new Map<string, NodeState>(
    ["postgre1", "postgre2"].map((n) => [
      n,
      { server: emptyServer(), error: undefined, databases: new Map() },
    ]),
  );
}

function stepsOf(plan: Plan, node: string): Step[] {
  const n = plan.nodes.find((p) => p.node === node);
  assert.ok(n, `no plan for ${node}`);
  return n.steps;
}

function problemsOf(plan: Plan, node: string) {
  return plan.nodes.find((p) => p.node === node)!.problems;
}

const summaries = (steps: readonly Step[]) => steps.map((s) => `[${s.phase}] ${s.summary}`);

/** Everything a plan shows a user: the text and the --json data. */
const printed = (plan: Plan) => `${formatPlan(plan)}\n${JSON.stringify(planJson(plan))}`;

// ---- tests --------------------------------------------------------------------------------

describe("planFromState: empty servers", () => {
  let plan: Plan;
  before(async () => {
    plan = await planFromState(accessTo(topology), emptyState(), 1);
  });

  test("postgre1 gets its role, database, schema, seeds, extension, server, mapping and grant", () => {
    assert.deepEqual(summaries(stepsOf(plan, "postgre1")), [
      "[1] create role pablo1",
      "[1] create database db_postgre1",
      "[1] mark database db_postgre1 as created by dbmesh",
      "[2] create schema scott",
      "[2] run seed scott.sql as pablo1",
      "[2] run seed bonus.sql as pablo1",
      "[2] create extension postgres_fdw",
      "[2] create postgres_fdw server postgre2 → postgre2/db_postgre2",
      "[2] map pablo1 to pablo2@postgre2 on postgre2",
      "[2] grant usage on server postgre2 to pablo1",
      "[2] create schema postgre2_scott owned by pablo1",
      "[3] import scott from postgre2/db_postgre2 into postgre2_scott",
    ]);
    assert.deepEqual(problemsOf(plan, "postgre1"), []);
  });

  test("postgre2 gets the dblink side, with views and the copy deferred to apply time", () => {
    assert.deepEqual(summaries(stepsOf(plan, "postgre2")), [
      "[1] create role pablo2",
      "[1] create database db_postgre2",
      "[1] mark database db_postgre2 as created by dbmesh",
      "[2] create schema scott",
      "[2] run seed scott.sql as pablo2",
      "[2] create extension dblink",
      "[2] create dblink server postgre1 → postgre1/db_postgre1",
      "[2] map pablo2 to pablo1@postgre1 on postgre1",
      "[2] grant usage on server postgre1 to pablo2",
      "[2] create schema postgre1 owned by pablo2",
      "[2] create schema public owned by pablo2",
      "[3] create view postgre1.bonus over dblink scott.bonus",
      "[3] create view postgre1.emp over dblink scott.emp",
      "[3] copy scott.bonus into public.bonus",
    ]);
    assert.deepEqual(problemsOf(plan, "postgre2"), []);
  });

  test("only CREATE DATABASE runs outside a transaction, on the maintenance database", () => {
    const all = plan.nodes.flatMap((n) => n.steps);
    assert.deepEqual(
      all.filter((s) => !s.transaction).map((s) => `${s.node}/${s.database} ${s.sql.join()}`),
      [
        `postgre1/postgres CREATE DATABASE "db_postgre1" OWNER "pablo1" ENCODING 'UTF8' TEMPLATE template0`,
        `postgre2/postgres CREATE DATABASE "db_postgre2" OWNER "pablo2" ENCODING 'UTF8' TEMPLATE template0`,
      ],
    );
  });

  test("every phase-3 step is deferred, and only phase-3 steps are", () => {
    for (const s of plan.nodes.flatMap((n) => n.steps)) {
      assert.equal(s.deferred === true, s.phase === 3, `${s.node}: ${s.summary}`);
    }
    const copy = stepsOf(plan, "postgre2").at(-1)!;
    assert.deepEqual(copy.sql, [
      "-- columns are read from postgre1/db_postgre1 when apply reaches this step",
    ]);
  });

  test("steps run in phase order on each node", () => {
    for (const n of plan.nodes) {
      const phases = n.steps.map((s) => s.phase);
      assert.deepEqual(phases, [...phases].sort(), n.node);
    }
  });

  test("a seed step runs the file as the owner and records every seed run so far", () => {
    const steps = stepsOf(plan, "postgre1");
    const first = steps.find((s) => s.summary === "run seed scott.sql as pablo1")!;
    assert.deepEqual(first.sql, [
      `SET LOCAL ROLE "pablo1"`,
      SCOTT_SQL,
      "RESET ROLE",
      `ALTER DATABASE "db_postgre1" SET dbmesh.seeds = '["scott.sql"]'`,
    ]);
    assert.equal(first.display?.[1], "-- the statements of scott.sql");
    const second = steps.find((s) => s.summary === "run seed bonus.sql as pablo1")!;
    assert.equal(
      second.sql[3],
      `ALTER DATABASE "db_postgre1" SET dbmesh.seeds = '["scott.sql","bonus.sql"]'`,
    );
  });

  test("the foreign server points at the remote node with postgres_fdw tuning", () => {
    const server = stepsOf(plan, "postgre1").find((s) =>
      s.summary.startsWith("create postgres_fdw"),
    )!;
    assert.deepEqual(server.sql, [
      `CREATE SERVER "postgre2" FOREIGN DATA WRAPPER "postgres_fdw" OPTIONS ("host" '127.0.0.1', "port" '15433', "dbname" 'db_postgre2', "fetch_size" '1000', "batch_size" '100', "async_capable" 'true')`,
      `COMMENT ON SERVER "postgre2" IS 'managed by dbmesh'`,
    ]);
  });

  test("create role sends a verifier of the declared password, not the password", async () => {
    const create = stepsOf(plan, "postgre1")[0]!;
    const sql = create.sql.join("\n");
    assert.ok(!sql.includes(PW1));
    const verifier = sql.match(/PASSWORD '(SCRAM-SHA-256\$[^']+)'/)?.[1];
    assert.ok(verifier, sql);
    assert.equal(await scramMatches(verifier, PW1), true);
  });

  test("formatPlan shows role verifiers masked and the seed file by name only", () => {
    const text = formatPlan(plan);
    assert.ok(text.startsWith("postgre1: 12 steps\n  [1] postgres: create role pablo1\n"), text);
    assert.match(text, /PASSWORD '\*{8}'/);
    assert.ok(!text.includes("SCRAM-SHA-256"));
    assert.ok(!text.includes(SCOTT_SQL.trim()));
    assert.match(text, /-- the statements of scott\.sql/);
    assert.match(text, /create view postgre1\.bonus over dblink scott\.bonus \(at apply time\)/);
  });

  test("formatPlan and planJson never print a password value", {}, () => {
    const out = printed(plan);
    assert.ok(!out.includes(PW1), "pablo1's password is printed");
    assert.ok(!out.includes(PW2), "pablo2's password is printed");
  });

  test("planJson counts every step and keeps the order", () => {
    const json = planJson(plan) as {
      changes: number;
      roundTrips: number;
      nodes: { node: string; steps: { phase: number; summary: string; deferred: boolean }[] }[];
    };
    assert.equal(json.changes, 26);
    assert.deepEqual(
      json.nodes.map((n) => n.node),
      ["postgre1", "postgre2"],
    );
    assert.equal(json.nodes[1]!.steps.at(-1)!.deferred, true);
  });
});

describe("planFromState: a converged mesh", () => {
  test("has zero steps and zero problems", async () => {
    const plan = await planFromState(accessTo(topology), convergedState(), 1);
    assert.deepEqual(
      plan.nodes.map((n) => [n.node, summaries(n.steps), n.problems]),
      [
        ["postgre1", [], []],
        ["postgre2", [], []],
      ],
    );
    assert.equal(formatPlan(plan), "postgre1: no changes\npostgre2: no changes");
  });

  test("a remote table that gained a column is dropped and imported again, in one phase-3 step", async () => {
    const state = convergedState();
    const remote = state.get("postgre2")!.databases.get("db_postgre2")!;
    remote.relations.get("scott.emp")!.columns.push(col("email", "text"));
    const plan = await planFromState(accessTo(topology), state, 1);
    assert.deepEqual(stepsOf(plan, "postgre2"), []);
    const steps = stepsOf(plan, "postgre1");
    assert.equal(steps.length, 1);
    const step = steps[0]!;
    assert.equal(step.phase, 3);
    assert.equal(step.database, "db_postgre1");
    assert.equal(step.deferred, false);
    assert.equal(
      step.summary,
      "import scott from postgre2/db_postgre2 into postgre2_scott: emp changed (+email)",
    );
    assert.deepEqual(step.sql, [
      `SET LOCAL ROLE "pablo1"`,
      `DROP FOREIGN TABLE IF EXISTS "postgre2_scott"."emp"`,
      `IMPORT FOREIGN SCHEMA "scott" LIMIT TO ("emp") FROM SERVER "postgre2" INTO "postgre2_scott"`,
      `COMMENT ON FOREIGN TABLE "postgre2_scott"."emp" IS 'managed by dbmesh'`,
    ]);
    assert.deepEqual(problemsOf(plan, "postgre1"), []);
  });

  test("a role whose verifier was made from another password gets a password update without plaintext", async () => {
    const state = convergedState();
    state.get("postgre1")!.server!.roles.set(...role("pablo1", scramVerifier("old password")));
    const plan = await planFromState(accessTo(topology), state, 1);
    const steps = stepsOf(plan, "postgre1");
    assert.deepEqual(summaries(steps), ["[1] update role pablo1 (password)"]);
    const sql = steps[0]!.sql.join("\n");
    assert.ok(!sql.includes(PW1));
    assert.ok(sql.startsWith(`ALTER ROLE "pablo1" LOGIN NOCREATEDB`), sql);
    const verifier = sql.match(/PASSWORD '(SCRAM-SHA-256\$[^']+)'/)?.[1];
    assert.equal(await scramMatches(verifier ?? null, PW1), true);
    assert.deepEqual(stepsOf(plan, "postgre2"), []);
  });

  test("a role stored with an md5 hash or no password gets its password reset", async () => {
    const state = convergedState();
    state.get("postgre2")!.server!.roles.set(...role("pablo2", null));
    const plan = await planFromState(accessTo(topology), state, 1);
    assert.deepEqual(summaries(stepsOf(plan, "postgre2")), ["[1] update role pablo2 (password)"]);
  });

  test("a remote table named in views that does not exist is a problem listing the tables there", async () => {
    const typo = parseTopology(
      file,
      yaml.replace("tables: [scott.bonus, scott.emp]", "tables: [scott.bonus, scott.emps]"),
    );
    const plan = await planFromState(accessTo(typo), convergedState(typo), 1);
    assert.deepEqual(stepsOf(plan, "postgre2"), []);
    assert.deepEqual(problemsOf(plan, "postgre2"), [
      {
        node: "postgre2",
        message: "links[0] views: remote table scott.emps does not exist in postgre1/db_postgre1",
        hint: "tables in scott there: bonus, dept, emp",
      },
    ]);
    assert.match(formatPlan(plan), /! links\[0\] views: remote table scott\.emps does not exist/);
  });

  test("an unreachable node is a problem for that node while the other node still gets steps", async () => {
    const state = emptyState();
    const error = new PgAdminError(
      "unreachable",
      "postgre1",
      "node postgre1 is unreachable at 127.0.0.1:15432 (ECONNREFUSED)",
      "start it (`dbmesh up` for nodes dbmesh manages) or fix host/port of nodes.postgre1",
    );
    state.set("postgre1", { server: undefined, error, databases: new Map() });
    const plan = await planFromState(accessTo(topology), state, 1);
    assert.deepEqual(stepsOf(plan, "postgre1"), []);
    assert.deepEqual(problemsOf(plan, "postgre1"), [
      { node: "postgre1", message: error.message, hint: error.hint },
    ]);
    const steps = stepsOf(plan, "postgre2");
    assert.deepEqual(summaries(steps).slice(0, 3), [
      "[1] create role pablo2",
      "[1] create database db_postgre2",
      "[1] mark database db_postgre2 as created by dbmesh",
    ]);
    assert.ok(steps.every((s) => s.phase < 3));
    // What postgre2 reads from postgre1 cannot be planned: a problem per remote table read.
    const problems = problemsOf(plan, "postgre2");
    assert.deepEqual(
      problems.map((p) => p.message),
      [
        "links[0]: cannot read postgre1/db_postgre1: node postgre1 is unreachable at 127.0.0.1:15432 (ECONNREFUSED)",
      ],
    );
    for (const p of problems) assert.equal(p.hint, "bring postgre1 up, then run apply again");
  });
});

describe("formatPlan and planJson: secrets", () => {
  test("a changed mapping password is shown masked", {}, async () => {
    const state = convergedState();
    const db = state.get("postgre2")!.databases.get("db_postgre2")!;
    db.servers.get("postgre1")!.mappings.set("pablo2", { user: "pablo1", password: "stale" });
    const plan = await planFromState(accessTo(topology), state, 1);
    assert.deepEqual(summaries(stepsOf(plan, "postgre2")), [
      "[2] update mapping of pablo2 on postgre1",
    ]);
    const out = printed(plan);
    assert.ok(!out.includes(PW1), "pablo1's password is printed");
  });

  test("a password update is printed with the verifier masked", async () => {
    const state = convergedState();
    state.get("postgre1")!.server!.roles.set(...role("pablo1", scramVerifier("old password")));
    const plan = await planFromState(accessTo(topology), state, 1);
    const out = printed(plan);
    assert.ok(!out.includes(PW1));
    assert.ok(!out.includes("SCRAM-SHA-256"));
    assert.match(formatPlan(plan), /ALTER ROLE "pablo1" .* PASSWORD '\*{8}';/);
  });
});

import * as assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { issuesOf, type ShownIssue as Shown } from "../testing/index.js";
import {
  formatIssue,
  formatPosition,
  loadTopology,
  parseTopology,
  TopologyError,
} from "./index.js";

const FILE = "/mesh/dbmesh.yaml";

/** Two nodes, a role and a database on each; links are appended by each test. */
const twoNodes = `version: 1
nodes:
  alpha: { port: 5432 }
  beta: { port: 5433 }
roles:
  ra: { password: env:RA, nodes: [alpha] }
  rb: { password: env:RB, nodes: [beta] }
databases:
  da: { node: alpha, owner: ra }
  db: { node: beta, owner: rb }
links:
`;

/** The repository's examples/ directory, found from this file (src/… or dist/src/…). */
function exampleFile(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, "examples", "scott", "dbmesh.yaml");
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) throw new Error("examples/scott/dbmesh.yaml not found above this test");
    dir = up;
  }
}

describe("parseTopology: errors in the file's shape", () => {
  test("an unknown key is reported at the key, with the keys allowed and a did-you-mean hint", () => {
    const text = `version: 1
nodes:
  a:
    hots: 127.0.0.1
    port: 5432
`;
    assert.deepEqual(issuesOf(text), [
      {
        at: `${FILE}:4:5`,
        message: 'unknown key "hots" in nodes.a',
        expected:
          "one of host, port, engine, capacity, managed, binaries, admin, settings, replicaOf, sync, slot, maxLag, replicationRole, onMismatch, synchronous",
        hint: 'did you mean "host"?',
      },
    ]);
  });

  test("an unknown key far from every known key gets the remove hint instead of a guess", () => {
    const text = `version: 1
nodes:
  a: { port: 5432, colour: blue }
`;
    assert.deepEqual(issuesOf(text), [
      {
        at: `${FILE}:3:20`,
        message: 'unknown key "colour" in nodes.a',
        expected:
          "one of host, port, engine, capacity, managed, binaries, admin, settings, replicaOf, sync, slot, maxLag, replicationRole, onMismatch, synchronous",
        hint: "remove it; `dbmesh schema` lists every key",
      },
    ]);
  });

  test("a value of the wrong type is reported as a wrong type at the value, not as a missing key", {}, () => {
    const text = `version: 1
nodes:
  a: { port: "abc" }
`;
    assert.deepEqual(issuesOf(text), [
      {
        at: `${FILE}:3:14`,
        message: "wrong type at nodes.a.port",
        expected: "number",
        hint: 'got string "abc"',
      },
    ]);
  });

  test("a node without port is reported at the node as a missing required key", () => {
    const text = `version: 1
nodes:
  a:
    host: 127.0.0.1
`;
    assert.deepEqual(issuesOf(text), [
      {
        at: `${FILE}:4:5`,
        message: 'missing required key "port" in nodes.a',
        expected: "number",
        hint: "add port: …",
      },
    ]);
  });

  test("a role without password is reported at the role as a missing required key", () => {
    const text = `version: 1
nodes:
  a: { port: 5432 }
roles:
  r:
    nodes: [a]
`;
    assert.deepEqual(issuesOf(text), [
      {
        at: `${FILE}:6:5`,
        message: 'missing required key "password" in roles.r',
        expected: "string",
        hint: "add password: …",
      },
    ]);
  });

  test("a bad enum value is reported at the value with the allowed values", () => {
    const text = `${twoNodes}  - from: alpha/da
    to: beta/db
    via: dblinkx
    as: { ra: rb }
`;
    assert.deepEqual(issuesOf(text), [
      {
        at: `${FILE}:14:10`,
        message: "invalid value at links.0.via",
        expected: 'one of "dblink", "postgres_fdw", "mysql_fdw", "connect_odbc", "federatedx"',
        hint: undefined,
      },
    ]);
  });

  test("a password that is not a secret reference is rejected without echoing it", () => {
    const text = `version: 1
nodes:
  a: { port: 5432 }
roles:
  r: { password: hunter2, nodes: [a] }
`;
    const issues = issuesOf(text);
    assert.deepEqual(issues, [
      {
        at: `${FILE}:5:18`,
        message: "invalid value at roles.r.password",
        expected: "a secret reference: env:VARIABLE or file:PATH",
        hint: undefined,
      },
    ]);
    assert.ok(!JSON.stringify(issues).includes("hunter2"));
  });

  test("a node declared twice is a YAML duplicate key at the second one", () => {
    const text = `version: 1
nodes:
  a: { port: 5432 }
  a: { port: 5433 }
`;
    assert.deepEqual(issuesOf(text), [
      {
        at: `${FILE}:4:3`,
        message: "duplicate key: every name must be unique",
        expected: "a name used once",
        hint: "rename or merge the two entries",
      },
    ]);
  });

  test("an empty file is not a mapping, reported at 1:1", () => {
    const expected = [
      {
        at: `${FILE}:1:1`,
        message: "the topology file must be a mapping",
        expected: "version: 1, nodes: …",
        hint: "run `dbmesh init` for a starter file",
      },
    ];
    assert.deepEqual(issuesOf(""), expected);
    assert.deepEqual(issuesOf("# only a comment\n"), expected);
  });

  test("a YAML syntax error is reported where the parser stopped", () => {
    const text = `version: 1
nodes:
  a: { port: 5432
roles: {}
`;
    const issues = issuesOf(text);
    assert.equal(issues.length, 1);
    assert.equal(issues[0]!.at, `${FILE}:4:1`);
    assert.match(issues[0]!.message, /Flow map/);
    assert.equal(issues[0]!.expected, "valid YAML");
    assert.equal(issues[0]!.hint, "check indentation and quoting near this line");
  });

  test("several shape errors are all reported, sorted by position", () => {
    const text = `version: 1
nodes:
  alpha: { prot: 5432 }
roles:
  ra: { password: hunter2, nodes: [alpha] }
`;
    assert.deepEqual(
      issuesOf(text).map((i) => `${i.at} ${i.message}`),
      [
        `${FILE}:3:10 missing required key "port" in nodes.alpha`,
        `${FILE}:3:12 unknown key "prot" in nodes.alpha`,
        `${FILE}:5:19 invalid value at roles.ra.password`,
      ],
    );
  });

  test("a name longer than 63 bytes is rejected even when it has fewer than 63 characters", {}, () => {
    const long = "é".repeat(32); // 32 characters, 64 bytes in UTF-8
    const text = `version: 1
nodes:
  a: { port: 5432 }
roles:
  ${long}: { password: env:X, nodes: [a] }
`;
    const issues = issuesOf(text);
    assert.equal(issues.length, 1);
    assert.ok(issues[0]!.at.startsWith(`${FILE}:5:`), issues[0]!.at);
    assert.match(issues[0]!.message, /roles/);
  });

  test("the error message lists every issue as file:line:col: message, expected, hint", () => {
    try {
      parseTopology(FILE, "version: 1\nnodes:\n  a: { port: 5432 }\n  a: { port: 5433 }\n");
      assert.fail("expected a TopologyError");
    } catch (e) {
      assert.ok(e instanceof TopologyError);
      assert.equal(e.kind, "topology");
      assert.equal(
        e.message,
        `${FILE}:4:3: duplicate key: every name must be unique\n  expected: a name used once\n  hint: rename or merge the two entries`,
      );
      assert.equal(formatIssue(e.issues[0]!), e.message);
    }
  });
});

describe("parseTopology: cross-reference errors", () => {
  test("two nodes on the same host:port are reported at the second node's port", () => {
    const text = `version: 1
nodes:
  a: { port: 5432 }
  b: { host: 127.0.0.1, port: 5432 }
`;
    assert.deepEqual(issuesOf(text), [
      {
        at: `${FILE}:4:31`,
        message: 'nodes "a" and "b" both use 127.0.0.1:5432',
        expected: "a distinct host:port per node",
        hint: "give this node another port",
      },
    ]);
  });

  test("a role on an unknown node is reported at that list item, with a did-you-mean", () => {
    const text = `version: 1
nodes:
  alpha: { port: 5432 }
roles:
  ra: { password: env:RA, nodes: [alpha, alpah] }
`;
    assert.deepEqual(issuesOf(text), [
      {
        at: `${FILE}:5:42`,
        message: 'unknown node "alpah"',
        expected: "one of alpha",
        hint: 'did you mean "alpha"?',
      },
    ]);
  });

  test("a database owner not declared on the database's node is reported at owner", () => {
    const text = `version: 1
nodes:
  alpha: { port: 5432 }
  beta: { port: 5433 }
roles:
  ra: { password: env:RA, nodes: [alpha] }
databases:
  d: { node: beta, owner: ra }
`;
    assert.deepEqual(issuesOf(text), [
      {
        at: `${FILE}:8:27`,
        message: 'role "ra" is not declared on node "beta"',
        expected: '"beta" in roles.ra.nodes',
        hint: "add beta to roles.ra.nodes",
      },
    ]);
  });

  test("a link to an undeclared node is reported at to:", () => {
    const text = `${twoNodes}  - { from: alpha/da, to: gamma/dc, via: dblink, as: { ra: ra } }
`;
    const issues = issuesOf(text);
    assert.deepEqual(issues[0], {
      at: `${FILE}:12:27`,
      message: 'unknown node "gamma"',
      expected: "one of alpha, beta",
      hint: "declare it under nodes:",
    });
  });

  test("a link to an undeclared database is reported at to:, listing the node's databases", () => {
    const text = `${twoNodes}  - { from: alpha/da, to: beta/nope, via: dblink, as: { ra: rb } }
`;
    assert.deepEqual(issuesOf(text), [
      {
        at: `${FILE}:12:27`,
        message: 'no database "nope" on node "beta"',
        expected: "one of beta/db",
        hint: "declare it under databases:",
      },
    ]);
  });

  test("a link from a database to itself is reported at to:", () => {
    const text = `${twoNodes}  - { from: alpha/da, to: alpha/da, via: dblink, as: { ra: ra } }
`;
    assert.deepEqual(issuesOf(text), [
      {
        at: `${FILE}:12:27`,
        message: "a link from a database to itself",
        expected: "another node/database",
        hint: "remove this link",
      },
    ]);
  });

  test("import: on a dblink link is reported at import:", () => {
    const text = `${twoNodes}  - from: alpha/da
    to: beta/db
    via: dblink
    as: { ra: rb }
    import: { schema: s, into: beta_s }
`;
    assert.deepEqual(issuesOf(text), [
      {
        at: `${FILE}:16:13`,
        message: "import: needs a postgres_fdw link",
        expected: "via: postgres_fdw",
        hint: "use views: to expose tables over dblink, or change via:",
      },
    ]);
  });

  test("views: on a postgres_fdw link is reported at views:", () => {
    const text = `${twoNodes}  - from: alpha/da
    to: beta/db
    via: postgres_fdw
    as: { ra: rb }
    views: { into: v, tables: [s.t] }
`;
    assert.deepEqual(issuesOf(text), [
      {
        at: `${FILE}:16:12`,
        message: "views: are for dblink links",
        expected: "via: dblink",
        hint: "postgres_fdw exposes tables with import:",
      },
    ]);
  });

  test("two links from one database to one node without name: define the same foreign server", () => {
    const text = `${twoNodes}  - { from: alpha/da, to: beta/db, via: dblink, as: { ra: rb } }
  - { from: alpha/da, to: beta/db, via: postgres_fdw, as: { ra: rb } }
`;
    assert.deepEqual(issuesOf(text), [
      {
        at: `${FILE}:13:27`,
        message: 'foreign server "beta" is already defined by links[0] in alpha/da',
        expected: "a unique server name per database",
        hint: "set name: on one of the links",
      },
    ]);
  });

  test("two links to one node load when name: tells their servers apart", () => {
    const text = `${twoNodes}  - { from: alpha/da, to: beta/db, via: dblink, as: { ra: rb } }
  - { from: alpha/da, to: beta/db, via: postgres_fdw, name: beta_fdw, as: { ra: rb } }
`;
    const t = parseTopology(FILE, text);
    assert.deepEqual(
      t.links.map((l) => l.server),
      ["beta", "beta_fdw"],
    );
  });

  test("import.into equal to a schema declared on the database is reported at into:", () => {
    const text = `version: 1
nodes:
  alpha: { port: 5432 }
  beta: { port: 5433 }
roles:
  ra: { password: env:RA, nodes: [alpha] }
  rb: { password: env:RB, nodes: [beta] }
databases:
  da: { node: alpha, owner: ra, schemas: [app] }
  db: { node: beta, owner: rb, schemas: [s] }
links:
  - from: alpha/da
    to: beta/db
    via: postgres_fdw
    as: { ra: rb }
    import: { schema: s, into: app }
`;
    assert.deepEqual(issuesOf(text), [
      {
        at: `${FILE}:16:32`,
        message:
          'schema "app" is declared in databases.da.schemas; an import needs a schema of its own',
        expected: "a schema used only by this import",
        hint: "choose another into:",
      },
    ]);
  });

  test("a loop of exposures (A imports B.s into r, B imports A.r into s) is reported at the first link", () => {
    const text = `${twoNodes}  - from: alpha/da
    to: beta/db
    via: postgres_fdw
    as: { ra: rb }
    import: { schema: s, into: r }
  - from: beta/db
    to: alpha/da
    via: postgres_fdw
    as: { rb: ra }
    import: { schema: r, into: s }
`;
    assert.deepEqual(issuesOf(text), [
      {
        at: `${FILE}:12:5`,
        message: "links expose each other in a loop: alpha/da.r → beta/db.s → alpha/da.r",
        expected: "exposures that end at real tables",
        hint: "remove one of the links in the loop",
      },
    ]);
  });

  test("a seed file that does not exist is reported at the list item with its absolute path", () => {
    const text = `version: 1
nodes:
  alpha: { port: 5432 }
roles:
  ra: { password: env:RA, nodes: [alpha] }
databases:
  da: { node: alpha, owner: ra, seed: [missing.sql] }
`;
    assert.deepEqual(issuesOf(text), [
      {
        at: `${FILE}:7:40`,
        message: "seed file not found: /mesh/missing.sql",
        expected: "a path relative to the topology file",
        hint: undefined,
      },
    ]);
  });

  test("several cross-reference errors are all reported, sorted by position", () => {
    const text = `version: 1
nodes:
  alpha: { port: 5432 }
databases:
  db: { node: gamma, owner: ra }
  da: { node: alpha, owner: rx }
roles:
  ra: { password: env:RA, nodes: [alpah] }
`;
    assert.deepEqual(
      issuesOf(text).map((i) => `${i.at} ${i.message} (${i.hint})`),
      [
        `${FILE}:5:15 unknown node "gamma" (declare it under nodes:)`,
        `${FILE}:5:29 role "ra" is not declared on node "gamma" (add gamma to roles.ra.nodes)`,
        `${FILE}:6:29 unknown role "rx" (did you mean "ra"?)`,
        `${FILE}:8:35 unknown node "alpah" (did you mean "alpha"?)`,
      ],
    );
  });
});

describe("loadTopology: the scott example", () => {
  const file = exampleFile();
  const dir = dirname(file);
  const t = loadTopology(file);

  test("has two managed nodes on loopback with the defaults filled in", () => {
    assert.equal(t.file, file);
    assert.equal(t.stateDir, join(dir, ".dbmesh"));
    assert.deepEqual([...t.nodes.keys()], ["postgre1", "postgre2"]);
    assert.deepEqual(t.nodes.get("postgre1"), {
      name: "postgre1",
      host: "127.0.0.1",
      port: 15432,
      engine: "postgres",
      capacity: 1,
      managed: true,
      binaries: "embedded",
      admin: { user: "postgres", password: undefined },
      settings: {},
      group: "postgre1",
      standby: undefined,
      synchronous: { mode: "first", count: 1 },
    });
    assert.equal(t.nodes.get("postgre2")?.port, 15433);
    assert.equal(t.nodes.get("postgre2")?.managed, true);
  });

  test("has two roles with password references, logging in from 127.0.0.1 by default", () => {
    assert.deepEqual([...t.roles.keys()], ["pablo1", "pablo2"]);
    assert.deepEqual(t.roles.get("pablo1"), {
      name: "pablo1",
      password: { ref: "env:PABLO1_PASSWORD", at: { file, line: 10, col: 23 } },
      nodes: ["postgre1"],
      from: ["127.0.0.1"],
      createdb: false,
      connectionLimit: -1,
      replication: false,
    });
    assert.equal(t.roles.get("pablo2")?.password.ref, "env:PABLO2_PASSWORD");
  });

  test("has two databases with seed paths made absolute", () => {
    assert.deepEqual(t.databases, [
      {
        key: "db_postgre1",
        name: "db_postgre1",
        node: "postgre1",
        owner: "pablo1",
        schemas: ["scott"],
        seed: [join(dir, "scott.sql"), join(dir, "bonus.sql")],
      },
      {
        key: "db_postgre2",
        name: "db_postgre2",
        node: "postgre2",
        owner: "pablo2",
        schemas: ["scott"],
        seed: [join(dir, "scott.sql")],
      },
    ]);
  });

  test("has a dblink link named after its remote node, owned by its first local role", () => {
    assert.equal(t.links.length, 2);
    assert.deepEqual(t.links[0], {
      index: 0,
      from: { node: "postgre2", database: "db_postgre2" },
      to: { node: "postgre1", database: "db_postgre1" },
      via: "dblink",
      server: "postgre1",
      as: [{ local: "pablo2", remote: "pablo1" }],
      owner: "pablo2",
      import: undefined,
      views: {
        into: "postgre1",
        tables: [
          { schema: "scott", table: "bonus" },
          { schema: "scott", table: "emp" },
        ],
      },
      copies: { into: "public", tables: [{ schema: "scott", table: "bonus" }], refresh: false },
      options: {},
    });
  });

  test("has a postgres_fdw link importing a whole schema", () => {
    assert.deepEqual(t.links[1], {
      index: 1,
      from: { node: "postgre1", database: "db_postgre1" },
      to: { node: "postgre2", database: "db_postgre2" },
      via: "postgres_fdw",
      server: "postgre2",
      as: [{ local: "pablo1", remote: "pablo2" }],
      owner: "pablo1",
      import: { schema: "scott", into: "postgre2_scott", tables: undefined, writable: false },
      views: undefined,
      copies: undefined,
      options: {},
    });
  });

  test("knows where each part was written", () => {
    assert.equal(formatPosition(t.positionOf(["links", 1, "to"])), `${file}:29:9`);
  });

  test("a file that cannot be read is a TopologyError naming it, with no position", () => {
    const missing = join(dir, "no-such-file.yaml");
    assert.throws(
      () => loadTopology(missing),
      (e: unknown) =>
        e instanceof TopologyError &&
        e.issues.length === 1 &&
        e.issues[0]!.at === undefined &&
        e.issues[0]!.message.startsWith(`cannot read topology file ${missing}: `),
    );
  });
});

describe("parseTopology: defaults and names", () => {
  const tmp = mkdtempSync(join(tmpdir(), "dbmesh-load-"));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  test("a non-loopback node defaults to unmanaged and then needs admin.password", () => {
    const text = `version: 1
nodes:
  remote: { host: 10.0.0.5, port: 5432 }
`;
    assert.deepEqual(issuesOf(text), [
      {
        at: `${FILE}:3:11`,
        message: 'node "remote" is not managed by dbmesh, so it needs superuser credentials',
        expected: "admin: { user: postgres, password: env:NAME }",
        hint: "add admin credentials, or set managed: true if dbmesh should run this server locally",
      },
    ]);
  });

  test("a non-loopback node with admin credentials loads as unmanaged", () => {
    const text = `version: 1
nodes:
  remote: { host: 10.0.0.5, port: 5432, admin: { user: dba, password: env:DBA_PW } }
  local: { host: localhost, port: 5433 }
`;
    const t = parseTopology(FILE, text);
    const remote = t.nodes.get("remote")!;
    assert.equal(remote.managed, false);
    assert.equal(remote.admin.user, "dba");
    assert.equal(remote.admin.password?.ref, "env:DBA_PW");
    assert.equal(formatPosition(remote.admin.password?.at), `${FILE}:3:71`);
    assert.equal(t.nodes.get("local")?.managed, true);
  });

  test("names with quotes, spaces, capitals and non-ASCII letters are accepted", () => {
    writeFileSync(join(tmp, "seed.sql"), "SELECT 1;\n");
    const file = join(tmp, "dbmesh.yaml");
    const text = `version: 1
nodes:
  'Main "Node"': { port: 5432 }
  'o''brien': { port: 5433 }
roles:
  'Sales "Team"': { password: env:SALES, nodes: ['Main "Node"'] }
  Ünïcode: { password: env:UNI, nodes: ["o'brien"] }
databases:
  sales: { node: Main "Node", name: "Sales DB's", owner: 'Sales "Team"', schemas: ['My "Schema"', CamelCase], seed: [seed.sql] }
  other: { node: "o'brien", owner: Ünïcode }
links:
  - from: Main "Node"/sales
    to: o'brien/other
    via: postgres_fdw
    as: { 'Sales "Team"': Ünïcode }
    import: { schema: "Remote Schema", into: "Into Here" }
`;
    const t = parseTopology(file, text);
    assert.deepEqual([...t.nodes.keys()], ['Main "Node"', "o'brien"]);
    assert.deepEqual([...t.roles.keys()], ['Sales "Team"', "Ünïcode"]);
    assert.deepEqual(t.databases[0], {
      key: "sales",
      name: "Sales DB's",
      node: 'Main "Node"',
      owner: 'Sales "Team"',
      schemas: ['My "Schema"', "CamelCase"],
      seed: [join(tmp, "seed.sql")],
    });
    const link = t.links[0]!;
    assert.deepEqual(link.from, { node: 'Main "Node"', database: "Sales DB's" });
    assert.deepEqual(link.to, { node: "o'brien", database: "other" });
    assert.equal(link.server, "o'brien");
    assert.equal(link.owner, 'Sales "Team"');
    assert.deepEqual(link.import, {
      schema: "Remote Schema",
      into: "Into Here",
      tables: undefined,
      writable: false,
    });
  });
});

describe("parseTopology: the router section", () => {
  test("listen and metrics are host:port with a port in range, reported at the value", () => {
    const file = `version: 1
nodes:
  a: { port: 5432 }
router: { listen: "127.0.0.1:70000", metrics: localhost }
`;
    assert.deepEqual(
      issuesOf(file).map((i) => [i.at, i.message, i.expected]),
      ["4:19 router.listen", "4:47 router.metrics"].map((w) => {
        const [at, where] = w.split(" ");
        return [
          `/mesh/dbmesh.yaml:${at}`,
          `invalid value at ${where}`,
          "host:port with a port from 1 to 65535, e.g. 127.0.0.1:6432",
        ];
      }),
    );
  });

  test("defaults: transaction pooling, 20 connections per pool, 5 s queue timeout", () => {
    const t = parseTopology(
      FILE,
      "version: 1\nnodes:\n  a: { port: 5432 }\nrouter: { listen: 127.0.0.1:6432 }\n",
    );
    assert.deepEqual(
      { ...t.router },
      {
        host: "127.0.0.1",
        port: 6432,
        mode: "transaction",
        poolSize: 20,
        queueTimeout: 5,
        readFromPrimary: false,
        healthInterval: 1,
        replayWait: 0.1,
        maxMessage: 64 * 1024 * 1024,
        serverIdleTimeout: 300,
        maxPreparedStatements: 200,
        messageTimeout: 60,
        metrics: undefined,
        tls: undefined,
        nodeTls: { mode: "disable", ca: undefined },
      },
    );
  });

  test("nodeTls: the mode and ca, resolved beside the file, carried into the router", () => {
    const t = parseTopology(
      FILE,
      "version: 1\nnodes:\n  a: { port: 5432 }\nrouter:\n  listen: 127.0.0.1:6432\n  nodeTls: { mode: verify-full, ca: tls/ca.pem }\n",
    );
    assert.deepEqual(t.router?.nodeTls, { mode: "verify-full", ca: "/mesh/tls/ca.pem" });
  });

  test("nodeTls: verify-* needs ca, other modes refuse one, the mode is libpq's", () => {
    const file = `version: 1
nodes:
  a: { port: 5432 }
router:
  listen: 127.0.0.1:6432
  nodeTls: { mode: verify-ca }
`;
    assert.deepEqual(issuesOf(file).map(atMessageExpected), [
      [
        "/mesh/dbmesh.yaml:6:12",
        "invalid value at router.nodeTls",
        "ca: FILE, the CA certificates verify-ca and verify-full check the nodes against",
      ],
    ]);
    assert.deepEqual(
      issuesOf(file.replace("{ mode: verify-ca }", "{ mode: require, ca: ca.pem }")).map(
        atMessageExpected,
      ),
      [
        [
          "/mesh/dbmesh.yaml:6:12",
          "invalid value at router.nodeTls",
          "mode: verify-ca or verify-full with ca (libpq's require with a CA file verifies too; say which)",
        ],
      ],
    );
    assert.deepEqual(issuesOf(file.replace("verify-ca", "verify")).map(atMessageExpected), [
      [
        "/mesh/dbmesh.yaml:6:20",
        "invalid value at router.nodeTls.mode",
        'one of "disable", "prefer", "require", "verify-ca", "verify-full"',
      ],
    ]);
  });
});

function atMessageExpected(i: Shown): [string, string, string | undefined] {
  return [i.at, i.message, i.expected];
}

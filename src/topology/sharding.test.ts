import * as assert from "node:assert/strict";
import { describe, test } from "node:test";
import { issuesOf } from "../testing/index.js";
import { parseColumnList } from "./column-list.js";
import { parseTopology } from "./index.js";

const FILE = "/mesh/dbmesh.yaml";

/** Three primaries with a `library` database each, one standby; `sharded:` entries start at line 15. */
const mesh = `version: 1
nodes:
  postgre1: { port: 5432 }
  postgre2: { port: 5433 }
  postgre3: { port: 5434 }
  postgre2-standby: { replicaOf: postgre2, port: 5435 }
roles:
  lib: { password: env:LIB, nodes: [postgre1, postgre2, postgre3] }
  repl: { password: env:REPL, nodes: [postgre2, postgre1, postgre3], replication: true }
databases:
  library: { node: postgre1, owner: lib }
  library2: { node: postgre2, name: library, owner: lib }
  library3: { node: postgre3, name: library, owner: lib }
sharded:
`;

const COLUMNS = '"id bigint, state text, lendable boolean, location text, book_id bigint"';
const LEND = '"student_id bigint, booksample_id bigint, at timestamptz, returned_at timestamptz"';

/** booksample by location, written block style from line 15; `extra` lines follow at 20. */
function booksample(placement: string, extra = ""): string {
  return `${mesh}  booksample:
    coordinator: postgre1/library
    key: location
    columns: ${COLUMNS}
${placement}
${extra}`;
}

const at = (line: number, col: number) => `${FILE}:${line}:${col}`;

describe("sharded: the model", () => {
  test("the tutorial's library: list shards, a following table, a reference table", () => {
    const t = parseTopology(
      FILE,
      `${mesh}  booksample:
    coordinator: postgre1/library
    key: location
    columns: ${COLUMNS}
    list: { paris: postgre2, lagos: postgre3 }
    id: { column: id }
  lend: { follows: booksample, through: booksample_id, columns: ${LEND} }
  books: { coordinator: postgre1/library, reference: true, table: public.books }
`,
    );
    assert.deepEqual(
      t.sharded.map((s) => [s.kind, s.name]),
      [
        ["distributed", "booksample"],
        ["follows", "lend"],
        ["reference", "books"],
      ],
    );
    const [b, lend, books] = t.sharded;
    assert.ok(b?.kind === "distributed" && lend?.kind === "follows" && books);
    assert.deepEqual(b.table, { schema: "public", table: "booksample" });
    assert.deepEqual(b.coordinator, { node: "postgre1", database: "library" });
    assert.equal(b.key, "location");
    assert.deepEqual(b.id, { column: "id", sequence: "booksample_id_seq" });
    assert.deepEqual(
      b.source.kind === "columns" && b.source.columns.map((c) => `${c.name} ${c.type}`),
      ["id bigint", "state text", "lendable boolean", "location text", "book_id bigint"],
    );
    assert.deepEqual(b.shards, [
      {
        name: "booksample_paris",
        node: "postgre2",
        database: "library",
        bounds: { kind: "list", values: ["paris"] },
        local: false,
      },
      {
        name: "booksample_lagos",
        node: "postgre3",
        database: "library",
        bounds: { kind: "list", values: ["lagos"] },
        local: false,
      },
    ]);
    // lend takes booksample's coordinator, key and placement; its shards carry its own name.
    assert.deepEqual(lend.coordinator, b.coordinator);
    assert.equal(lend.key, "location");
    assert.equal(lend.through, "booksample_id");
    assert.equal(lend.references, "id");
    assert.deepEqual(lend.placement, b.placement);
    assert.deepEqual(
      lend.shards.map((s) => [s.name, s.node, s.bounds]),
      [
        ["lend_paris", "postgre2", { kind: "list", values: ["paris"] }],
        ["lend_lagos", "postgre3", { kind: "list", values: ["lagos"] }],
      ],
    );
    // books is copied to every shard node of booksample, under its own name.
    assert.deepEqual(books.source, { kind: "table", table: { schema: "public", table: "books" } });
    assert.deepEqual(
      books.shards.map((s) => [s.name, s.node, s.database, s.bounds.kind]),
      [
        ["books", "postgre2", "library", "copy"],
        ["books", "postgre3", "library", "copy"],
      ],
    );
    assert.ok(Object.isFrozen(t.sharded) && Object.isFrozen(b) && Object.isFrozen(b.shards[0]));
  });

  test("a coordinator that is also a shard node holds a local partition", () => {
    const t = parseTopology(
      FILE,
      booksample("    list: { paris: postgre1, lagos: postgre2 }\n    default: postgre3"),
    );
    assert.deepEqual(
      t.sharded[0]!.shards.map((s) => [s.name, s.node, s.bounds.kind, s.local]),
      [
        ["booksample_paris", "postgre1", "list", true],
        ["booksample_lagos", "postgre2", "list", false],
        ["booksample_default", "postgre3", "default", false],
      ],
    );
  });

  test("hash: N shards round-robin on the nodes, with modulus and remainder", () => {
    const t = parseTopology(
      FILE,
      booksample("    hash: { shards: 3, nodes: [postgre2, postgre3] }"),
    );
    assert.deepEqual(
      t.sharded[0]!.shards.map((s) => [s.name, s.node, s.bounds]),
      [
        ["booksample_p0", "postgre2", { kind: "hash", modulus: 3, remainder: 0 }],
        ["booksample_p1", "postgre3", { kind: "hash", modulus: 3, remainder: 1 }],
        ["booksample_p2", "postgre2", { kind: "hash", modulus: 3, remainder: 2 }],
      ],
    );
  });

  test("range: from defaults to the previous to (MINVALUE first), to to MAXVALUE", () => {
    const t = parseTopology(
      FILE,
      booksample(`    range:
      - { to: 1000, node: postgre2 }
      - { from: 1000, to: 2000, node: postgre3 }
      - { node: postgre1 }`),
    );
    assert.deepEqual(
      t.sharded[0]!.shards.map((s) => [s.name, s.node, s.bounds]),
      [
        ["booksample_p0", "postgre2", { kind: "range", from: null, to: 1000 }],
        ["booksample_p1", "postgre3", { kind: "range", from: 1000, to: 2000 }],
        ["booksample_p2", "postgre1", { kind: "range", from: 2000, to: null }],
      ],
    );
  });

  test("name: and database: place the parent and the shards; shard names fit 63 bytes", () => {
    const long = "x".repeat(60);
    const t = parseTopology(
      FILE,
      `${mesh.replace("sharded:\n", "  shards2: { node: postgre2, owner: lib }\nsharded:\n")}  b:
    name: app.${long}
    coordinator: postgre1/library
    key: location
    table: app.old_books
    list: { "São Paulo": postgre2, paris: postgre2 }
    database: shards2
`,
    );
    const b = t.sharded[0]!;
    assert.deepEqual(b.table, { schema: "app", table: long });
    assert.deepEqual(b.source, { kind: "table", table: { schema: "app", table: "old_books" } });
    assert.deepEqual(
      b.shards.map((s) => [s.name, s.node, s.database, s.local]),
      [
        [`${"x".repeat(53)}_s_o_paulo`, "postgre2", "shards2", false],
        [`${"x".repeat(57)}_paris`, "postgre2", "shards2", false],
      ],
    );
  });

  test("a reference table without columns: or table: is the coordinator's table of its name", () => {
    const t = parseTopology(
      FILE,
      booksample(
        "    list: { paris: postgre2 }",
        "  books: { coordinator: postgre1/library, reference: true }\n",
      ),
    );
    assert.deepEqual(t.sharded[1]!.source, {
      kind: "table",
      table: { schema: "public", table: "books" },
    });
  });
});

describe("sharded: errors with positions", () => {
  test("an unknown coordinator node gets a did-you-mean", () => {
    const text = booksample("    list: { paris: postgre2 }").replace(
      "postgre1/library",
      "postgre9/library",
    );
    assert.deepEqual(issuesOf(text), [
      {
        at: at(16, 18),
        message: 'unknown coordinator node "postgre9"',
        expected: "one of postgre1, postgre2, postgre3, postgre2-standby",
        hint: 'did you mean "postgre1"?',
      },
    ]);
  });

  test("an unknown coordinator database gets a did-you-mean among the node's databases", () => {
    const text = booksample("    list: { paris: postgre2 }").replace(
      "postgre1/library",
      "postgre1/libary",
    );
    assert.deepEqual(issuesOf(text), [
      {
        at: at(16, 18),
        message: 'no database "libary" on coordinator node "postgre1"',
        expected: "one of postgre1/library",
        hint: 'did you mean "library"?',
      },
    ]);
  });

  test("a shard node that is not declared is reported at its value", () => {
    assert.deepEqual(issuesOf(booksample("    list: { paris: postgre2, lagos: postgre4 }")), [
      {
        at: at(19, 37),
        message: 'unknown shard node "postgre4"',
        expected: "one of postgre1, postgre2, postgre3, postgre2-standby",
        hint: 'did you mean "postgre1"?',
      },
    ]);
  });

  test("a shard node that is a standby names its primary", () => {
    assert.deepEqual(
      issuesOf(booksample("    hash: { shards: 2, nodes: [postgre3, postgre2-standby] }")),
      [
        {
          at: at(19, 42),
          message:
            'shard node "postgre2-standby" is a standby of "postgre2"; writes must go to a primary',
          expected: 'the primary "postgre2"',
          hint: "use postgre2; its standbys replicate what it holds",
        },
      ],
    );
  });

  test("a shard node without the coordinator's database says how to declare it", () => {
    const text = booksample("    list: { paris: postgre2 }").replace(
      "  library2: { node: postgre2, name: library, owner: lib }\n",
      "",
    );
    assert.deepEqual(issuesOf(text), [
      {
        at: at(18, 20),
        message: 'no database "library" on shard node "postgre2"',
        expected: "a database on postgre2 under databases:",
        hint: "declare library on postgre2 under databases: (the coordinator's database name), or set database:",
      },
    ]);
  });

  test("a key that is not among the columns gets a did-you-mean (unquoted names fold)", () => {
    const text = booksample("    list: { paris: postgre2 }").replace(
      "key: location",
      "key: Location",
    );
    assert.deepEqual(issuesOf(text), [
      {
        at: at(17, 10),
        message: 'key "Location" is not a column of booksample',
        expected: "one of id, state, lendable, location, book_id",
        hint: 'did you mean "location"? (unquoted names in columns: are lower-cased)',
      },
    ]);
  });

  test("a key among columns with parentheses and quoted names is found", () => {
    const text = booksample("    list: { paris: postgre2 }")
      .replace(COLUMNS, `'id bigint, price numeric(10,2), "Where" text, primary key (id, "Where")'`)
      .replace("key: location", 'key: "Where"');
    const t = parseTopology(FILE, text);
    assert.deepEqual(t.sharded[0]!.source, {
      kind: "columns",
      text: 'id bigint, price numeric(10,2), "Where" text, primary key (id, "Where")',
      columns: [
        { name: "id", type: "bigint" },
        { name: "price", type: "numeric(10,2)" },
        { name: "Where", type: "text" },
      ],
      constraints: ['primary key (id, "Where")'],
    });
  });

  test("a column list that cannot be read is reported at columns:", () => {
    const text = booksample("    list: { paris: postgre2 }").replace(
      COLUMNS,
      '"id bigint, price numeric(10,2"',
    );
    assert.deepEqual(issuesOf(text), [
      {
        at: at(18, 14),
        message: 'cannot read the columns of booksample: "(" without ")"',
        expected: "column definitions as in CREATE TABLE, separated by commas",
        hint: 'e.g. "id bigint, location text, price numeric(10,2)"',
      },
    ]);
  });

  test("a list value written twice is a duplicate key, also when only its quoting differs", () => {
    assert.deepEqual(issuesOf(booksample("    list: { paris: postgre2, paris: postgre3 }")), [
      {
        at: at(19, 30),
        message: "duplicate key: every name must be unique",
        expected: "a name used once",
        hint: "rename or merge the two entries",
      },
    ]);
    assert.deepEqual(issuesOf(booksample('    list: { 1: postgre2, "1": postgre3 }')), [
      {
        at: at(19, 26),
        message: 'duplicate key: 1 and "1" are the same name',
        expected: "a name used once",
        hint: "rename or merge the two entries",
      },
    ]);
  });

  test("overlapping ranges are reported at the later from:", () => {
    const text = booksample(`    range:
      - { to: 1000, node: postgre2 }
      - { from: 500, to: 2000, node: postgre3 }`);
    assert.deepEqual(issuesOf(text), [
      {
        at: at(21, 17),
        message: "range 1 [500, 2000) overlaps range 0 [MINVALUE, 1000)",
        expected:
          "ranges in ascending order without overlap: each from at or above the previous to",
        hint: "start it at 1000",
      },
    ]);
  });

  test("ranges out of order are reported as such", () => {
    const text = booksample(`    range:
      - { from: 1000, to: 2000, node: postgre2 }
      - { from: 0, to: 1000, node: postgre3 }`);
    assert.deepEqual(issuesOf(text), [
      {
        at: at(21, 17),
        message: "range 1 [0, 1000) comes before range 0 [1000, 2000)",
        expected:
          "ranges in ascending order without overlap: each from at or above the previous to",
        hint: "list the ranges in ascending order",
      },
    ]);
  });

  test("an empty range and a to-less range before the last are reported", () => {
    const text = booksample(`    range:
      - { from: "2024-06-01", to: "2024-01-01", node: postgre2 }
      - { node: postgre3 }
      - { from: "2025-01-01", node: postgre1 }`);
    assert.deepEqual(
      issuesOf(text).map((i) => `${i.at} ${i.message}`),
      [
        `${at(20, 17)} range 0 ["2024-06-01", "2024-01-01") is empty: from must be below to`,
        `${at(21, 9)} range 1 has no to: but is not the last range`,
      ],
    );
  });

  test("hash shards below 1, and fewer shards than nodes", () => {
    assert.deepEqual(issuesOf(booksample("    hash: { shards: 0, nodes: [postgre2] }")), [
      {
        at: at(19, 21),
        message: "invalid value at sharded.booksample.hash.shards",
        expected: "at least 1 shard: the number of hash partitions",
        hint: undefined,
      },
    ]);
    assert.deepEqual(issuesOf(booksample("    hash: { shards: 1, nodes: [postgre2, postgre3] }")), [
      {
        at: at(19, 21),
        message: "1 shards on 2 nodes leave postgre3 without a shard",
        expected: "at least 2 shards",
        hint: "raise shards or remove nodes",
      },
    ]);
  });

  test("no placement, two placements, and default: with hash", () => {
    assert.deepEqual(issuesOf(booksample("")), [
      {
        at: at(16, 5),
        message: "booksample has no placement",
        expected: "one of list:, hash:, range:",
        hint: "e.g. list: { paris: postgre2, lagos: postgre3 }",
      },
    ]);
    assert.deepEqual(
      issuesOf(
        booksample("    list: { paris: postgre2 }\n    hash: { shards: 2, nodes: [postgre3] }"),
      ).map((i) => `${i.at} ${i.message}`),
      [`${at(20, 11)} booksample has more than one placement: list: and hash:`],
    );
    assert.deepEqual(
      issuesOf(booksample("    hash: { shards: 2, nodes: [postgre2] }\n    default: postgre3")),
      [
        {
          at: at(20, 14),
          message: "default: is for list placement",
          expected: "list: { VALUE: NODE, … }",
          hint: "remove default:; hash placement has a shard for every key",
        },
      ],
    );
  });

  test("both columns: and table:, or neither", () => {
    assert.deepEqual(
      issuesOf(booksample("    list: { paris: postgre2 }\n    table: public.books")).map(
        (i) => `${i.at} ${i.message} / ${i.expected}`,
      ),
      [`${at(20, 12)} booksample has both columns: and table: / one of columns: or table:`],
    );
    const text = booksample(
      "    list: { paris: postgre2 }",
      "  lend: { follows: booksample, through: booksample_id }\n",
    );
    assert.deepEqual(issuesOf(text), [
      {
        at: at(20, 9),
        message: "lend has no columns",
        expected: 'columns: "id bigint, …" or table: schema.table',
        hint: "write its columns, or name an existing table on the coordinator with table:",
      },
    ]);
  });

  test("follows: an unknown table, a reference table, a following table, itself", () => {
    const lend = (follows: string) =>
      `  lend: { follows: ${follows}, through: booksample_id, columns: ${LEND} }\n`;
    const placement = "    list: { paris: postgre2 }\n    id: { column: id }";
    assert.deepEqual(issuesOf(booksample(placement, lend("booksampel"))), [
      {
        at: at(21, 20),
        message: 'lend follows unknown table "booksampel"',
        expected: "one of booksample",
        hint: 'did you mean "booksample"?',
      },
    ]);
    const books = "  books: { coordinator: postgre1/library, reference: true }\n";
    assert.deepEqual(
      issuesOf(booksample(placement, books + lend("books"))).map((i) => [i.at, i.message, i.hint]),
      [
        [
          at(22, 20),
          'lend follows reference table "books", which has no key',
          "reference tables are copied whole to every shard node; join them instead",
        ],
      ],
    );
    const chain = `${lend("booksample")}  returns: { follows: lend, through: booksample_id, columns: "booksample_id bigint" }\n`;
    assert.deepEqual(issuesOf(booksample(placement, chain)), [
      {
        at: at(22, 23),
        message: 'returns follows "lend", which follows "booksample"',
        expected: "a distributed table (follows do not chain)",
        hint: 'follow "booksample" directly: follows: booksample, through a column that holds its id',
      },
    ]);
    assert.deepEqual(
      issuesOf(booksample(placement, lend("lend"))).map((i) => `${i.at} ${i.message}`),
      [`${at(21, 20)} lend follows itself`],
    );
  });

  test("through: not a column of the following table, and a parent without the id column", () => {
    const text = booksample(
      "    list: { paris: postgre2 }",
      `  lend: { follows: booksample, through: booksample_di, columns: ${LEND} }\n`,
    ).replace(COLUMNS, '"uid bigint, location text"');
    assert.deepEqual(issuesOf(text), [
      {
        at: at(20, 20),
        message: 'booksample has no column "id" for lend.through to reference',
        expected: "id: { column: … } on booksample, one of uid, location",
        hint: "set sharded.booksample.id.column to its id column",
      },
      {
        at: at(20, 41),
        message: 'through "booksample_di" is not a column of lend',
        expected: "one of student_id, booksample_id, at, returned_at",
        hint: 'did you mean "booksample_id"? (unquoted names in columns: are lower-cased)',
      },
    ]);
  });

  test("placement keys on a following table are reported at the key", () => {
    const text = booksample(
      "    list: { paris: postgre2 }",
      `  lend: { follows: booksample, through: booksample_id, columns: ${LEND}, key: location }\n`,
    );
    assert.deepEqual(issuesOf(text), [
      {
        at: at(20, 154),
        message: "key: does not apply to following table lend",
        expected:
          "follows:, through:, columns: or table:, id: (placement and coordinator are booksample's)",
        hint: "remove key:",
      },
    ]);
  });

  test("a table name reused: a shard name that is another table's name on the same database", () => {
    const text = booksample(
      "    list: { paris: postgre2 }",
      `  paris: { name: booksample_paris, coordinator: postgre2/library, key: k, columns: "k text", list: { x: postgre3 } }\n`,
    );
    assert.deepEqual(issuesOf(text), [
      {
        at: at(20, 10),
        message:
          "table public.booksample_paris on postgre2/library would be both shard booksample_paris of booksample and the table of paris",
        expected: "each table name once per database",
        hint: "rename one with name: (sharded.paris.name: another_name)",
      },
    ]);
  });

  test("a reference table whose coordinator has no distributed table", () => {
    const text = booksample(
      "    list: { paris: postgre2 }",
      "  books: { coordinator: postgre3/library, reference: true }\n",
    );
    assert.deepEqual(issuesOf(text), [
      {
        at: at(20, 25),
        message:
          "reference table books joins no distributed table: none has coordinator postgre3/library",
        expected: "a distributed table with coordinator: postgre3/library",
        hint: "give the reference table the coordinator of the tables it joins",
      },
    ]);
  });

  test("an unknown key in a sharded table gets a did-you-mean", () => {
    const text = booksample("    lsit: { paris: postgre2 }");
    assert.deepEqual(issuesOf(text)[0], {
      at: at(19, 5),
      message: 'unknown key "lsit" in sharded.booksample',
      expected:
        "one of name, coordinator, key, columns, table, list, default, hash, range, database, id, follows, through, replicateAs, reference",
      hint: 'did you mean "list"?',
    });
  });
});

describe("parseColumnList", () => {
  test("splits at top-level commas only, keeps quoted names and string defaults whole", () => {
    assert.deepEqual(
      parseColumnList(`ID bigint, "a,b" text default 'x,y', n numeric(10, 2) not null`),
      {
        ok: true,
        columns: [
          { name: "id", type: "bigint" },
          { name: "a,b", type: "text default 'x,y'" },
          { name: "n", type: "numeric(10, 2) not null" },
        ],
        constraints: [],
      },
    );
  });

  test("reports an empty item, a missing type, a duplicate column, unbalanced quotes", () => {
    const errors = ["id bigint,", "id", "id int, ID text", `"id bigint`, "a int)"].map((s) => {
      const r = parseColumnList(s);
      return r.ok ? "ok" : r.error;
    });
    assert.deepEqual(errors, [
      "item 2 is empty",
      'column "id" has no type',
      'column "id" is declared twice',
      'unterminated " quote',
      '")" without "(" at character 6',
    ]);
  });
});

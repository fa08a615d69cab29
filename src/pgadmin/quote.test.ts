import * as assert from "node:assert/strict";
import { describe, test } from "node:test";
import { alterOptions, alterUserMapping, createUserMapping } from "./fdw-sql.js";
import { hbaToken, ident, literal, qualified } from "./quote.js";
import { alterRole, createRole, maskSecrets } from "./role-sql.js";

describe("ident", () => {
  test("double-quotes every name, even plain lower-case ones", () => {
    assert.equal(ident("scott"), '"scott"');
  });

  test("keeps capitals, spaces and unicode as they are", () => {
    assert.equal(ident("My Table"), '"My Table"');
    assert.equal(ident("Ünïcode ✓"), '"Ünïcode ✓"');
  });

  test("doubles embedded double quotes and leaves single quotes and backslashes alone", () => {
    assert.equal(ident('say "hi"'), '"say ""hi"""');
    assert.equal(ident("o'brien"), '"o\'brien"');
    assert.equal(ident("a\\b"), '"a\\b"');
  });

  test("rejects a NUL byte", () => {
    assert.throws(() => ident("a\0b"), /NUL/);
  });
});

describe("qualified", () => {
  test("quotes schema and name separately", () => {
    assert.equal(qualified("scott", "emp"), '"scott"."emp"');
    assert.equal(qualified('My "S"', "a.b"), '"My ""S"""."a.b"');
  });

  test("rejects a NUL byte in either part", () => {
    assert.throws(() => qualified("a\0", "b"), /NUL/);
    assert.throws(() => qualified("a", "\0b"), /NUL/);
  });
});

describe("literal", () => {
  test("single-quotes plain text", () => {
    assert.equal(literal("hello world"), "'hello world'");
    assert.equal(literal(""), "''");
    assert.equal(literal("Ünïcode ✓"), "'Ünïcode ✓'");
  });

  test("doubles single quotes and leaves double quotes alone", () => {
    assert.equal(literal("it's"), "'it''s'");
    assert.equal(literal('say "hi"'), "'say \"hi\"'");
  });

  test("uses the E'' form with backslashes doubled when the value has a backslash", () => {
    assert.equal(literal("C:\\dir"), "E'C:\\\\dir'");
    assert.equal(literal("a\\'b"), "E'a\\\\''b'");
  });

  test("rejects a NUL byte", () => {
    assert.throws(() => literal("a\0b"), /NUL/);
  });
});

describe("hbaToken", () => {
  test("leaves plain lower-case names bare", () => {
    assert.equal(hbaToken("db_postgre1"), "db_postgre1");
    assert.equal(hbaToken("pablo2"), "pablo2");
  });

  test("quotes pg_hba keywords so they name the object, not the keyword", () => {
    for (const k of ["all", "replication", "sameuser", "samerole", "samegroup", "samehost"]) {
      assert.equal(hbaToken(k), `"${k}"`);
    }
  });

  test("quotes capitals, spaces, punctuation and unicode, doubling double quotes", () => {
    assert.equal(hbaToken("Sales"), '"Sales"');
    assert.equal(hbaToken("my db"), '"my db"');
    assert.equal(hbaToken("a,b"), '"a,b"');
    assert.equal(hbaToken("+group"), '"+group"');
    assert.equal(hbaToken("@file"), '"@file"');
    assert.equal(hbaToken("ünï"), '"ünï"');
    assert.equal(hbaToken('say "hi"'), '"say ""hi"""');
  });
});

describe("maskSecrets", () => {
  test("masks PASSWORD '…' in role statements, whatever the case", () => {
    assert.equal(
      maskSecrets("ALTER ROLE x PASSWORD 'a''b' VALID UNTIL 'infinity'"),
      "ALTER ROLE x PASSWORD '********' VALID UNTIL 'infinity'",
    );
    assert.equal(maskSecrets("alter role x password 'pw'"), "alter role x password '********'");
    assert.equal(
      maskSecrets("ALTER ROLE x PASSWORD E'a\\\\b'"),
      "ALTER ROLE x PASSWORD '********'",
    );
  });

  test("masks password 'x''y' in an OPTIONS list and keeps the other options", () => {
    assert.equal(
      maskSecrets("OPTIONS (password 'x''y', user 'bob')"),
      "OPTIONS (password '********', user 'bob')",
    );
  });

  test("masks the password of user mappings as dbmesh writes them (quoted option names)", {}, () => {
    const create = createUserMapping("pablo1", "postgre2", { user: "pablo2", password: "x'y" });
    assert.equal(
      maskSecrets(create),
      `CREATE USER MAPPING FOR "pablo1" SERVER "postgre2" OPTIONS ("user" 'pablo2', "password" '********')`,
    );
    const change = alterOptions({ user: "u", password: "old" }, { user: "u", password: "n3w" });
    const alter = alterUserMapping("pablo1", "postgre2", change!);
    assert.ok(!maskSecrets(alter).includes("n3w"), maskSecrets(alter));
  });

  test("masks SCRAM verifiers wherever they appear", () => {
    const v = "SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy";
    assert.equal(maskSecrets(`SELECT '${v}'`), "SELECT '********'");
  });

  test("leaves other literals alone, including the word password inside one", () => {
    const sql = "SELECT 'password' AS k, 'keep' AS v, 'it''s' AS w";
    assert.equal(maskSecrets(sql), sql);
    const comment = `COMMENT ON ROLE "r" IS 'managed by dbmesh'`;
    assert.equal(maskSecrets(comment), comment);
  });
});

describe("createRole and alterRole", () => {
  const spec = {
    name: "Pablo's",
    password: "pl41n-t3xt",
    createdb: true,
    connectionLimit: 5,
    replication: false,
  };

  test("send a SCRAM verifier, never the plaintext password", () => {
    const create = createRole(spec);
    assert.ok(!create.includes("pl41n-t3xt"));
    assert.match(
      create,
      /^CREATE ROLE "Pablo's" LOGIN CREATEDB NOREPLICATION NOSUPERUSER NOCREATEROLE CONNECTION LIMIT 5 PASSWORD 'SCRAM-SHA-256\$4096:[^']+'$/,
    );
    const alter = alterRole(spec, true);
    assert.ok(!alter.includes("pl41n-t3xt"));
    assert.match(alter, /PASSWORD 'SCRAM-SHA-256\$4096:/);
  });

  test("alterRole without a password change has no PASSWORD clause", () => {
    assert.equal(
      alterRole({ ...spec, createdb: false, connectionLimit: -1 }, false),
      `ALTER ROLE "Pablo's" LOGIN NOCREATEDB NOREPLICATION NOSUPERUSER NOCREATEROLE CONNECTION LIMIT -1`,
    );
  });

  test("masked, the statement shows neither the password nor the verifier", () => {
    const masked = maskSecrets(createRole(spec));
    assert.ok(masked.endsWith("PASSWORD '********'"), masked);
    assert.ok(!masked.includes("SCRAM"));
  });
});

import * as assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  alterOptions,
  alterServer,
  alterUserMapping,
  commentOnServer,
  createServer,
  createUserMapping,
  dropForeignTable,
  dropServer,
  dropUserMapping,
  grantServerUsage,
  importForeignSchema,
} from "./fdw-sql.js";

describe("alterOptions", () => {
  test("is null when current and desired options are equal, whatever their order", () => {
    assert.equal(alterOptions({}, {}), null);
    assert.equal(alterOptions({ host: "h", port: "1" }, { port: "1", host: "h" }), null);
  });

  test("ADDs a new option, SETs a changed one, DROPs one no longer wanted", () => {
    assert.equal(
      alterOptions(
        { host: "127.0.0.1", port: "5432", fetch_size: "100" },
        { host: "127.0.0.1", port: "5433", dbname: "db" },
      ),
      `OPTIONS (SET "port" '5433', ADD "dbname" 'db', DROP "fetch_size")`,
    );
  });

  test("quotes option names and values", () => {
    assert.equal(
      alterOptions({ "odd key": "x" }, { "odd key": "it's", other: "C:\\x" }),
      `OPTIONS (SET "odd key" 'it''s', ADD "other" E'C:\\\\x')`,
    );
  });

  test("treats a changed empty value as a change", () => {
    assert.equal(alterOptions({ a: "" }, { a: "x" }), `OPTIONS (SET "a" 'x')`);
    assert.equal(alterOptions({ a: "x" }, { a: "" }), `OPTIONS (SET "a" '')`);
  });
});

describe("importForeignSchema", () => {
  test("imports a whole schema when no tables are listed", () => {
    assert.equal(
      importForeignSchema("scott", [], "postgre2", "postgre2_scott"),
      `IMPORT FOREIGN SCHEMA "scott" FROM SERVER "postgre2" INTO "postgre2_scott"`,
    );
  });

  test("limits the import to the listed tables", () => {
    assert.equal(
      importForeignSchema("scott", ["emp", "dept"], "postgre2", "postgre2_scott"),
      `IMPORT FOREIGN SCHEMA "scott" LIMIT TO ("emp", "dept") FROM SERVER "postgre2" INTO "postgre2_scott"`,
    );
  });

  test("quotes every name with special characters", () => {
    assert.equal(
      importForeignSchema('My "S"', ["Emp Table", "o'k"], "srv-1", "Into Here"),
      `IMPORT FOREIGN SCHEMA "My ""S""" LIMIT TO ("Emp Table", "o'k") FROM SERVER "srv-1" INTO "Into Here"`,
    );
  });
});

describe("server, mapping and table builders", () => {
  const name = 'Srv "X"';
  const role = "Rôle o'k";
  const q = '"Srv ""X"""';
  const qr = `"Rôle o'k"`;

  test("createServer quotes the server, the wrapper and the option names and values", () => {
    assert.equal(
      createServer(name, "postgres_fdw", { host: "127.0.0.1", dbname: "Sales DB's" }),
      `CREATE SERVER ${q} FOREIGN DATA WRAPPER "postgres_fdw" OPTIONS ("host" '127.0.0.1', "dbname" 'Sales DB''s')`,
    );
  });

  test("alterServer, commentOnServer and dropServer quote the server", () => {
    assert.equal(
      alterServer(name, `OPTIONS (SET "port" '1')`),
      `ALTER SERVER ${q} OPTIONS (SET "port" '1')`,
    );
    assert.equal(commentOnServer(name), `COMMENT ON SERVER ${q} IS 'managed by dbmesh'`);
    assert.equal(dropServer(name), `DROP SERVER IF EXISTS ${q} CASCADE`);
  });

  test("user mapping builders quote the local role and the server", () => {
    assert.equal(
      createUserMapping(role, name, { user: "Remote Role" }),
      `CREATE USER MAPPING FOR ${qr} SERVER ${q} OPTIONS ("user" 'Remote Role')`,
    );
    assert.equal(
      alterUserMapping(role, name, `OPTIONS (SET "user" 'x')`),
      `ALTER USER MAPPING FOR ${qr} SERVER ${q} OPTIONS (SET "user" 'x')`,
    );
    assert.equal(dropUserMapping(role, name), `DROP USER MAPPING IF EXISTS FOR ${qr} SERVER ${q}`);
  });

  test("grantServerUsage and dropForeignTable quote every name", () => {
    assert.equal(grantServerUsage(name, role), `GRANT USAGE ON FOREIGN SERVER ${q} TO ${qr}`);
    assert.equal(
      dropForeignTable("Into Here", 'T"1'),
      `DROP FOREIGN TABLE IF EXISTS "Into Here"."T""1"`,
    );
  });

  test("builders refuse a name with a NUL byte", () => {
    assert.throws(() => createServer("a\0b", "postgres_fdw", {}), /NUL/);
    assert.throws(() => createUserMapping("r", "s", { password: "a\0b" }), /NUL/);
  });
});

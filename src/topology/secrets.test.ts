import * as assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, describe, test } from "node:test";
import { formatIssue, type Position, resolveSecret, TopologyError } from "./index.js";

const at: Position = { file: "/mesh/dbmesh.yaml", line: 7, col: 15 };
const VAR = "DBMESH_UNIT_SECRET_VAR";

/** The TopologyError resolveSecret throws; fails the test if it returns. */
function errorOf(ref: string, baseDir: string): TopologyError {
  try {
    resolveSecret({ ref, at }, baseDir);
  } catch (e) {
    if (e instanceof TopologyError) return e;
    throw e;
  }
  return assert.fail(`expected ${ref} to fail`);
}

describe("resolveSecret: env:NAME", () => {
  afterEach(() => {
    delete process.env[VAR];
  });

  test("returns the variable's value as is", () => {
    process.env[VAR] = " s3cret with spaces\n";
    assert.equal(resolveSecret({ ref: `env:${VAR}`, at }, "/nowhere"), " s3cret with spaces\n");
  });

  test("a missing variable is a TopologyError naming the variable at the reference's position", () => {
    const e = errorOf(`env:${VAR}`, "/nowhere");
    assert.equal(e.issues.length, 1);
    const issue = e.issues[0]!;
    assert.deepEqual(issue.at, at);
    assert.equal(issue.message, `environment variable ${VAR} is not set (env:${VAR})`);
    assert.equal(issue.expected, "a non-empty variable");
    assert.equal(issue.hint, `export ${VAR}=… before running dbmesh, or use file:PATH`);
    assert.ok(e.message.startsWith(`/mesh/dbmesh.yaml:7:15: environment variable ${VAR}`));
  });

  test("an empty variable counts as missing", () => {
    process.env[VAR] = "";
    assert.match(errorOf(`env:${VAR}`, "/nowhere").message, /is not set/);
  });

  test("the error never shows the value of any other variable", () => {
    process.env.DBMESH_UNIT_SECRET_OTHER = "do-not-print-me-4711";
    try {
      const e = errorOf(`env:${VAR}`, "/nowhere");
      assert.ok(!e.message.includes("do-not-print-me-4711"));
      assert.ok(!formatIssue(e.issues[0]!).includes("do-not-print-me-4711"));
    } finally {
      delete process.env.DBMESH_UNIT_SECRET_OTHER;
    }
  });
});

describe("resolveSecret: file:PATH", () => {
  const base = mkdtempSync(join(tmpdir(), "dbmesh-secrets-"));
  mkdirSync(join(base, "secrets"));
  after(() => rmSync(base, { recursive: true, force: true }));

  test("reads a file relative to the base directory, dropping one trailing newline", () => {
    writeFileSync(join(base, "secrets", "pw"), "s3cret\n");
    assert.equal(resolveSecret({ ref: "file:secrets/pw", at }, base), "s3cret");
  });

  test("drops a trailing CRLF, and only one trailing newline", () => {
    writeFileSync(join(base, "secrets", "crlf"), "s3cret\r\n");
    writeFileSync(join(base, "secrets", "two"), "s3cret\n\n");
    assert.equal(resolveSecret({ ref: "file:secrets/crlf", at }, base), "s3cret");
    assert.equal(resolveSecret({ ref: "file:secrets/two", at }, base), "s3cret\n");
  });

  test("an absolute path is read as is", () => {
    const abs = join(base, "secrets", "abs");
    writeFileSync(abs, "abs-secret");
    assert.equal(resolveSecret({ ref: `file:${abs}`, at }, "/elsewhere"), "abs-secret");
  });

  test("a missing file is a TopologyError naming the absolute path and the reference", () => {
    const e = errorOf("file:secrets/missing", base);
    assert.equal(e.issues.length, 1);
    const issue = e.issues[0]!;
    assert.deepEqual(issue.at, at);
    assert.ok(
      issue.message.startsWith(
        `cannot read secret file ${join(base, "secrets", "missing")} (file:secrets/missing): `,
      ),
      issue.message,
    );
    assert.match(issue.message, /ENOENT/);
    assert.equal(issue.expected, "a readable file holding the secret");
    assert.equal(issue.hint, "create the file (mode 0600) or use env:NAME");
  });

  test("an empty file, or one holding only a newline, is an error", () => {
    writeFileSync(join(base, "secrets", "empty"), "");
    writeFileSync(join(base, "secrets", "newline"), "\n");
    for (const name of ["empty", "newline"]) {
      const e = errorOf(`file:secrets/${name}`, base);
      assert.equal(
        e.issues[0]!.message,
        `cannot read secret file ${join(base, "secrets", name)} (file:secrets/${name}): the file is empty`,
      );
      assert.deepEqual(e.issues[0]!.at, at);
    }
  });
});

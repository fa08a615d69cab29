import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type MeshFixture, meshFixture } from "../testing/index.js";

// Bad input that must be refused before anything starts.

describe("command line: bad input", () => {
  let m: MeshFixture;
  before(async () => {
    m = await meshFixture({
      name: "cli-errors",
      ports: 1,
      yaml: ([p]) => `version: 1\nnodes:\n  a: { port: ${p}, hots: 127.0.0.1 }\n`,
    });
  });
  after(async () => {
    await m?.destroy();
  });

  test("a malformed file: exit 2, position, expected and hint; nothing started", async () => {
    const r = await m.run("up");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /dbmesh\.yaml:3:\d+: unknown key "hots" in nodes\.a/);
    assert.match(r.stderr, /hint: did you mean "host"\?/);
    assert.equal(existsSync(join(m.dir, ".dbmesh", "a")), false);
  });

  test("--json reports the issues as data", async () => {
    const r = await m.run("plan", "--json");
    assert.equal(r.code, 2);
    const out = JSON.parse(r.stdout) as { error: string; issues: { at: { line: number } }[] };
    assert.equal(out.error, "topology");
    assert.equal(out.issues[0]?.at.line, 3);
  });

  test("unknown command and unknown option are usage errors", async () => {
    assert.equal((await m.run("frobnicate")).code, 2);
    assert.equal((await m.run("plan", "--frob")).code, 2);
  });

  test("schema prints a JSON Schema that rejects unknown keys", async () => {
    const r = await m.run("schema");
    assert.equal(r.code, 0);
    const schema = JSON.parse(r.stdout) as {
      properties: Record<string, unknown>;
      additionalProperties: boolean;
    };
    assert.ok("links" in schema.properties);
    assert.equal(schema.additionalProperties, false);
  });

  test("init writes a starter file that loads, and refuses to overwrite it", async () => {
    assert.equal((await m.run("init")).code, 2, "dbmesh.yaml exists, so init must refuse");
    const starter = join(m.dir, "starter.yaml");
    // A later -f wins, as in any command line.
    assert.equal((await m.run("-f", starter, "init")).code, 0);
    const plan = await m.run("-f", starter, "plan");
    assert.equal(plan.code, 1, plan.stderr);
    assert.match(plan.stdout, /node app has not been created yet[^\n]*\n\s+hint: run `dbmesh up`/);
  });
});

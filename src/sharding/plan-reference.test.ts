import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseTopology } from "../topology/index.js";
import { planReferenceCopies } from "./plan-reference.js";

const mesh = `version: 1
nodes:
  c: { port: 5432 }
  a: { port: 5433 }
roles:
  lib: { password: env:DBMESH_REFERENCE_TEST_PW, nodes: [c, a] }
  sync: { password: env:DBMESH_REFERENCE_TEST_SYNC, nodes: [c], replication: true }
databases:
  library: { node: c, owner: lib }
  library_a: { node: a, name: library, owner: lib }
sharded:
  booksample:
    coordinator: c/library
    key: location
    columns: "id bigint, location text"
    list: { paris: a }
  books: { coordinator: c/library, reference: true, columns: "id bigint primary key, title text" }
`;

describe("planning a reference table's copies", () => {
  test("the copy's table, then a subscription whose password the plan never shows", () => {
    process.env.DBMESH_REFERENCE_TEST_PW = "pw";
    process.env.DBMESH_REFERENCE_TEST_SYNC = "s3cret 'sync'";
    const t = parseTopology("/mesh/dbmesh.yaml", mesh);
    const empty = {
      schemas: new Map([["public", { name: "public", owner: "lib" }]]),
      extensions: new Set<string>(),
      servers: new Map(),
      relations: new Map(),
    };
    const r = planReferenceCopies(t, "a", "library", empty as never, undefined);
    assert.deepEqual(r.problems, []);
    assert.deepEqual(
      r.steps.map((s) => [s.phase, s.summary]),
      [
        [2, "create reference table public.books (copy of c/library)"],
        [3, "subscribe to c/library (publication dbmesh_reference) as sync: books"],
      ],
    );
    const sub = r.steps[1]!;
    assert.ok(sub.secret);
    assert.match(sub.sql.join(";"), /password=''s3cret /);
    assert.doesNotMatch(sub.display!.join(";"), /s3cret/);
    assert.match(sub.display!.join(";"), /password=''\*{8}''/);
  });
});

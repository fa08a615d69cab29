import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseTopology, TopologyError } from "./index.js";

const file = "/mesh/dbmesh.yaml";

function issues(yaml: string): string[] {
  try {
    parseTopology(file, yaml);
    return [];
  } catch (e) {
    if (!(e instanceof TopologyError)) throw e;
    return e.issues.map((i) => `${i.at?.line}:${i.at?.col} ${i.message}`);
  }
}

const base = `version: 1
nodes:
  p: { port: 1 }
  s1: { replicaOf: p, port: 2, sync: true }
  s2: { replicaOf: s1, port: 3, slot: false }
roles:
  rep: { password: env:R, nodes: [p], replication: true }
`;

describe("standbys in the topology file", () => {
  test("a chain resolves upstreams, slots, sync flags and the replication role", () => {
    const t = parseTopology(
      file,
      base.replace("slot: false }", "slot: false, maxLag: { seconds: 5 } }"),
    );
    assert.deepEqual(t.nodes.get("s1")?.standby, {
      upstream: "p",
      sync: true,
      slot: "s1",
      role: "rep",
      maxLag: { bytes: 64 * 1024 * 1024, seconds: undefined },
      onMismatch: "refuse",
    });
    assert.deepEqual(t.nodes.get("s2")?.standby, {
      upstream: "s1",
      sync: false,
      slot: undefined,
      role: "rep",
      maxLag: { bytes: 64 * 1024 * 1024, seconds: 5 },
      onMismatch: "refuse",
    });
    assert.equal(t.nodes.get("p")?.standby, undefined);
  });

  test("a loop of replicaOf is refused", () => {
    const out = issues(`version: 1
nodes:
  a: { port: 1, replicaOf: b }
  b: { port: 2, replicaOf: a }
roles:
  rep: { password: env:R, nodes: [a], replication: true }
`);
    assert.ok(
      out.some((i) => /replicaOf forms a loop/.test(i)),
      out.join("\n"),
    );
  });

  test("a standby without a replication role says how to declare one", () => {
    const out = issues(base.replace(", replication: true", ""));
    assert.ok(
      out.some((i) => i.startsWith('4:7 standby "s1" has no replication role')),
      out.join("\n"),
    );
  });

  test("roles, databases and links on a standby are refused with the primary named", () => {
    const out = issues(`${base}  app: { password: env:A, nodes: [s1] }
databases:
  d: { node: s2, owner: app }
links:
  - { from: s1/d, to: p/d, via: dblink, as: { app: app } }
`);
    assert.ok(
      out.some((i) => /role "app" is declared on standby "s1"/.test(i)),
      out.join("\n"),
    );
    assert.ok(
      out.some((i) => /database "d" is declared on standby "s2"/.test(i)),
      out.join("\n"),
    );
  });

  test("sync: on a primary and a count above the sync standbys are refused", () => {
    const out = issues(
      base.replace("p: { port: 1 }", "p: { port: 1, sync: true, synchronous: { count: 2 } }"),
    );
    assert.ok(
      out.some((i) => /sync: is for standbys/.test(i)),
      out.join("\n"),
    );
    assert.ok(
      out.some((i) => /synchronous.count 2 exceeds the 1 sync standbys/.test(i)),
      out.join("\n"),
    );
  });
});

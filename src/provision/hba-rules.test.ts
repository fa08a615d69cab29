import assert from "node:assert/strict";
import { test } from "node:test";
import { parseTopology } from "../topology/index.js";
import { hbaRules } from "./hba-rules.js";

const yaml = (router: string) => `version: 1
nodes:
  app: { port: 5501 }
roles:
  owner: { password: env:P, nodes: [app], from: [10.0.0.7] }
  reader: { password: env:P, nodes: [app] }
databases:
  shop: { node: app, owner: owner }
${router}`;

const lines = (text: string) =>
  hbaRules(parseTopology("/tmp/dbmesh.yaml", text), "app")
    .filter((l) => l.type === "host" && l.user !== "postgres")
    .map((l) => `${l.database} ${l.user} ${l.address}`);

test("who may log in directly may log in through the router, from its address only", () => {
  assert.deepEqual(lines(yaml("")), ["shop owner 10.0.0.7/32"]);
  assert.deepEqual(lines(yaml("router: { listen: 127.0.0.3:6432 }")), [
    "shop owner 10.0.0.7/32",
    "shop owner 127.0.0.1/32",
  ]);
  assert.deepEqual(lines(yaml("router: { listen: 192.168.1.4:6432 }")), [
    "shop owner 10.0.0.7/32",
    "shop owner 192.168.1.4/32",
  ]);
  assert.deepEqual(lines(yaml("router: { listen: 0.0.0.0:6432 }")), [
    "shop owner 10.0.0.7/32",
    "shop owner 127.0.0.1/32",
  ]);
});

test("a shard node lets the coordinator log in to its database as that database's owner", () => {
  const t = parseTopology(
    "/tmp/dbmesh.yaml",
    `version: 1
nodes:
  coord: { host: 10.0.0.1, port: 5501, admin: { user: postgres, password: env:P } }
  paris: { host: 10.0.0.2, port: 5502, admin: { user: postgres, password: env:P } }
roles:
  lib: { password: env:P, nodes: [coord, paris] }
databases:
  library: { node: coord, owner: lib }
  library_paris: { node: paris, name: library, owner: lib }
sharded:
  booksample:
    coordinator: coord/library
    key: location
    columns: "id bigint, location text"
    list: { paris: paris, here: coord }
`,
  );
  const hosts = (node: string) =>
    hbaRules(t, node)
      .filter((l) => l.type === "host" && l.user !== "postgres")
      .map((l) => `${l.database} ${l.user} ${l.address}`);
  // Beside the owner's own line (its from:, loopback by default), one from the coordinator.
  assert.deepEqual(hosts("paris"), ["library lib 127.0.0.1/32", "library lib 10.0.0.1/32"]);
  // The coordinator's own shard is a local partition: no line for it.
  assert.deepEqual(hosts("coord"), ["library lib 127.0.0.1/32"]);
});

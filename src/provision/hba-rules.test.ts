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

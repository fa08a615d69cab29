import * as assert from "node:assert/strict";
import { describe, test } from "node:test";
import { jsonSchema } from "./index.js";

type Json = Record<string, unknown>;

/** Every sub-schema that declares `properties` (an object with fixed keys). */
function objectSchemas(s: unknown, path = "#", out: [string, Json][] = []): [string, Json][] {
  if (Array.isArray(s)) {
    s.forEach((x, i) => {
      objectSchemas(x, `${path}/${i}`, out);
    });
  } else if (s !== null && typeof s === "object") {
    const o = s as Json;
    if (o.properties && typeof o.properties === "object") out.push([path, o]);
    for (const [k, v] of Object.entries(o)) objectSchemas(v, `${path}/${k}`, out);
  }
  return out;
}

describe("jsonSchema", () => {
  const schema = jsonSchema() as Json;

  test("is a draft 2020-12 JSON Schema for an object", () => {
    assert.equal(schema.$schema, "https://json-schema.org/draft/2020-12/schema");
    assert.equal(schema.type, "object");
    assert.deepEqual(JSON.parse(JSON.stringify(schema)), schema);
  });

  test("declares version, nodes, roles, databases, links, sharded and router, requiring version and nodes", () => {
    const properties = schema.properties as Json;
    assert.deepEqual(Object.keys(properties).sort(), [
      "databases",
      "links",
      "nodes",
      "roles",
      "router",
      "sharded",
      "version",
    ]);
    assert.deepEqual([...(schema.required as string[])].sort(), ["nodes", "version"]);
    assert.equal((properties.version as Json).const, 1);
    assert.equal((properties.links as Json).type, "array");
  });

  test("every object with fixed keys sets additionalProperties: false", () => {
    const objects = objectSchemas(schema);
    // top level, node, node.admin, role, database, link, import, views, copies
    assert.ok(objects.length >= 9, `only ${objects.length} object schemas found`);
    for (const [path, o] of objects) assert.equal(o.additionalProperties, false, path);
  });

  test("a node's port is an integer TCP port and the only required node key", () => {
    const nodes = (schema.properties as Json).nodes as Json;
    const node = nodes.additionalProperties as Json;
    assert.deepEqual(node.required, ["port"]);
    const port = (node.properties as Json).port as Json;
    assert.equal(port.type, "integer");
    assert.equal(port.minimum, 1);
    assert.equal(port.maximum, 65535);
  });

  test("sharded: a table per key, every field described, hash.shards an integer from 1", () => {
    const sharded = (schema.properties as Json).sharded as Json;
    assert.equal(sharded.type, "object");
    assert.match(String(sharded.description), /coordinator/);
    const table = sharded.additionalProperties as Json;
    const fields = table.properties as Record<string, Json>;
    assert.deepEqual(Object.keys(fields), [
      "name",
      "coordinator",
      "key",
      "columns",
      "table",
      "list",
      "default",
      "hash",
      "range",
      "database",
      "id",
      "follows",
      "through",
      "replicateAs",
      "reference",
    ]);
    for (const [k, f] of Object.entries(fields)) assert.ok(f.description, `${k} has a description`);
    const shards = (fields.hash!.properties as Record<string, Json>).shards!;
    assert.equal(shards.type, "integer");
    assert.equal(shards.minimum, 1);
  });

  test("input defaults are shown to editors (host 127.0.0.1)", () => {
    const node = ((schema.properties as Json).nodes as Json).additionalProperties as Json;
    assert.equal(((node.properties as Json).host as Json).default, "127.0.0.1");
  });
});

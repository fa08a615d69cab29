import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isClusterError } from "./cluster-error.js";
import { quoteConfValue, renderConf } from "./config-file.js";
import type { LocalNode } from "./local-node.js";
import { nodePaths } from "./paths.js";

const node: LocalNode = {
  name: "n1",
  host: "127.0.0.1",
  port: 5544,
  stateDir: "/srv/project/.dbmesh/n1",
  binaries: "embedded",
  adminUser: "postgres",
  settings: {},
  hba: [],
};

describe("quoteConfValue", () => {
  it("quotes strings, doubling quotes and escaping backslashes and newlines", () => {
    assert.equal(quoteConfValue("32MB"), "'32MB'");
    assert.equal(quoteConfValue(""), "''");
    assert.equal(quoteConfValue("it's"), "'it''s'");
    assert.equal(quoteConfValue("C:\\dir"), "'C:\\\\dir'");
    assert.equal(quoteConfValue("a\nb\r"), "'a\\nb\\r'");
    assert.equal(quoteConfValue("%m [%p] "), "'%m [%p] '");
  });

  it("writes booleans as on/off and integers bare", () => {
    assert.equal(quoteConfValue(true), "on");
    assert.equal(quoteConfValue(false), "off");
    assert.equal(quoteConfValue(100), "100");
    assert.equal(quoteConfValue(-1), "-1");
    assert.equal(quoteConfValue(0.5), "'0.5'");
  });

  it("rejects values postgresql.conf cannot hold", () => {
    assert.throws(() => quoteConfValue(Number.NaN));
    assert.throws(() => quoteConfValue(Number.POSITIVE_INFINITY));
    assert.throws(() => quoteConfValue("a\0b"));
  });
});

describe("renderConf", () => {
  it("writes the managed settings, then defaults overridden by node settings", () => {
    const text = renderConf({
      ...node,
      settings: { max_connections: 20, "dbmesh.note": "x'y", log_min_messages: "warning" },
    });
    const lines = text.trimEnd().split("\n");
    assert.deepEqual(lines.slice(1, 4), [
      "listen_addresses = '127.0.0.1'",
      "port = 5544",
      `unix_socket_directories = '${nodePaths(node).socketDir}'`,
    ]);
    assert.ok(lines.includes("password_encryption = 'scram-sha-256'"));
    assert.ok(lines.includes("shared_buffers = '32MB'"));
    assert.ok(lines.includes("max_connections = 20"));
    assert.ok(!lines.includes("max_connections = 100"));
    assert.ok(lines.includes("dbmesh.note = 'x''y'"));
    assert.equal(lines.at(-1), "log_min_messages = 'warning'");
  });

  it("rejects settings dbmesh manages and malformed names", () => {
    const bad: Record<string, string | number>[] = [
      { port: 1 },
      { LISTEN_ADDRESSES: "*" },
      { "a b": 1 },
      { "x\ny": 1 },
    ];
    for (const settings of bad) {
      assert.throws(
        () => renderConf({ ...node, settings }),
        (e: unknown) => isClusterError(e) && e.kind === "config-invalid" && e.node === "n1",
      );
    }
  });
});

describe("nodePaths", () => {
  it("keeps files under stateDir", () => {
    const p = nodePaths(node);
    assert.equal(p.dataDir, "/srv/project/.dbmesh/n1/data");
    assert.equal(p.confFile, "/srv/project/.dbmesh/n1/data/dbmesh.conf");
    assert.equal(p.socketDir, "/srv/project/.dbmesh/n1/socket");
  });

  it("moves the socket dir to a short path when stateDir is long", () => {
    const long = { ...node, stateDir: `/srv/${"x".repeat(120)}/n1` };
    const p = nodePaths(long);
    assert.ok(Buffer.byteLength(`${p.socketDir}/.s.PGSQL.65535`) < 100, p.socketDir);
    assert.match(p.socketDir, /dbmesh-[0-9a-f]{16}$/);
    assert.equal(nodePaths(long).socketDir, p.socketDir);
  });

  it("rejects a relative stateDir", () => {
    assert.throws(() => nodePaths({ ...node, stateDir: "rel/n1" }), isClusterError);
  });
});

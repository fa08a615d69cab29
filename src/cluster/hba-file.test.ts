import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isClusterError } from "./cluster-error.js";
import { HBA_HEADER, renderHba } from "./hba-file.js";

describe("renderHba", () => {
  it("renders aligned columns under the managed-file header", () => {
    const text = renderHba([
      { type: "local", database: "all", user: "postgres", method: "scram-sha-256" },
      {
        type: "host",
        database: "db_postgre1",
        user: "app",
        address: "127.0.0.1/32",
        method: "scram-sha-256",
        comment: "app reads its own db",
      },
      {
        type: "hostssl",
        database: '"My Db"',
        user: "all",
        address: "10.0.0.0/8",
        method: "reject",
      },
    ]);
    assert.equal(
      text,
      [
        HBA_HEADER,
        "",
        "# TYPE   DATABASE     USER      ADDRESS       METHOD",
        "local    all          postgres                scram-sha-256",
        "# app reads its own db",
        "host     db_postgre1  app       127.0.0.1/32  scram-sha-256",
        'hostssl  "My Db"      all       10.0.0.0/8    reject',
        "",
      ].join("\n"),
    );
  });

  it("renders only the header for no lines", () => {
    assert.equal(renderHba([]), `${HBA_HEADER}\n\n# TYPE  DATABASE  USER  ADDRESS  METHOD\n`);
  });

  it("writes each line of a multi-line comment as a comment", () => {
    const text = renderHba([
      { type: "local", database: "all", user: "all", method: "reject", comment: "a\nb" },
    ]);
    assert.match(text, /^# a\n# b\nlocal /m);
  });

  it("rejects lines PostgreSQL would misparse", () => {
    const bad = [
      { type: "host", database: "all", user: "all", method: "reject" },
      { type: "local", database: "all", user: "all", address: "::1/128", method: "reject" },
      { type: "local", database: "my db", user: "all", method: "reject" },
      { type: "local", database: "all", user: "a#b", method: "reject" },
      { type: "local", database: '"open', user: "all", method: "reject" },
      { type: "local", database: "all", user: "x\nhost", method: "reject" },
      { type: "local", database: "", user: "all", method: "reject" },
    ] as const;
    for (const line of bad) {
      assert.throws(
        () => renderHba([line]),
        (e: unknown) => isClusterError(e) && e.kind === "config-invalid",
        JSON.stringify(line),
      );
    }
  });

  it("accepts quoted tokens with spaces and comma lists", () => {
    const text = renderHba([
      { type: "local", database: '"my db",other', user: '"a b"', method: "reject" },
    ]);
    assert.match(text, /^local {3}"my db",other {2}"a b" {11}reject$/m);
  });
});

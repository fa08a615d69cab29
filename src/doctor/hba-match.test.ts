import * as assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type Connection, firstMatch, type HbaRule } from "./hba-match.js";

let line = 0;
/** A pg_hba_file_rules row; lines are numbered in the order rules are made. */
function rule(
  type: string,
  database: string[] | null,
  user: string[] | null,
  address: string | null,
  netmask: string | null,
  auth = "scram-sha-256",
  error: string | null = null,
): HbaRule {
  line++;
  return {
    line_number: line,
    type,
    database,
    user_name: user,
    address,
    netmask,
    auth_method: auth,
    error,
  };
}

const conn: Connection = {
  database: "db_postgre1",
  user: "pablo1",
  address: "127.0.0.1",
  ssl: false,
};

describe("firstMatch", () => {
  test("the first matching rule wins, even when a later one also matches", () => {
    const reject = rule(
      "host",
      ["db_postgre1"],
      ["pablo1"],
      "127.0.0.1",
      "255.255.255.255",
      "reject",
    );
    const allow = rule("host", ["all"], ["all"], "127.0.0.1", "255.255.255.255");
    assert.equal(firstMatch([reject, allow], conn), reject);
    assert.equal(firstMatch([allow, reject], conn), allow);
  });

  test("no rule matching means undefined", () => {
    assert.equal(firstMatch([], conn), undefined);
    const other = rule("host", ["other"], ["all"], "127.0.0.1", "255.255.255.255");
    assert.equal(firstMatch([other], conn), undefined);
  });

  test("all matches any database and any user", () => {
    const r = rule("host", ["all"], ["all"], "0.0.0.0", "0.0.0.0");
    assert.equal(firstMatch([r], conn), r);
    assert.equal(firstMatch([r], { ...conn, database: "x", user: "y" }), r);
  });

  test("exact names match only themselves, case-sensitively, and any name in a list", () => {
    const r = rule("host", ["a", "db_postgre1"], ["pablo1"], "127.0.0.1", "255.255.255.255");
    assert.equal(firstMatch([r], conn), r);
    assert.equal(firstMatch([r], { ...conn, user: "pablo2" }), undefined);
    assert.equal(firstMatch([r], { ...conn, database: "DB_POSTGRE1" }), undefined);
  });

  test("sameuser matches a database named after the connecting user only", () => {
    const r = rule("host", ["sameuser"], ["all"], "127.0.0.1", "255.255.255.255");
    assert.equal(firstMatch([r], { ...conn, database: "pablo1" }), r);
    assert.equal(firstMatch([r], conn), undefined);
  });

  test("IPv4 addresses match through the netmask", () => {
    const net = rule("host", ["all"], ["all"], "10.1.2.0", "255.255.255.0");
    assert.equal(firstMatch([net], { ...conn, address: "10.1.2.77" }), net);
    assert.equal(firstMatch([net], { ...conn, address: "10.1.3.77" }), undefined);
    const single = rule("host", ["all"], ["all"], "10.1.2.3", "255.255.255.255");
    assert.equal(firstMatch([single], { ...conn, address: "10.1.2.3" }), single);
    assert.equal(firstMatch([single], { ...conn, address: "10.1.2.4" }), undefined);
    const high = rule("host", ["all"], ["all"], "192.168.0.0", "255.255.0.0");
    assert.equal(firstMatch([high], { ...conn, address: "192.168.200.1" }), high);
    assert.equal(firstMatch([high], { ...conn, address: "192.169.0.1" }), undefined);
  });

  test("address all matches every client; a missing netmask matches none", () => {
    const any = rule("host", ["all"], ["all"], "all", null);
    assert.equal(firstMatch([any], { ...conn, address: "203.0.113.9" }), any);
    const noMask = rule("host", ["all"], ["all"], "127.0.0.1", null);
    assert.equal(firstMatch([noMask], conn), undefined);
  });

  test("local lines never match a TCP connection", () => {
    const local = rule("local", ["all"], ["all"], null, null, "trust");
    const tcp = rule("host", ["all"], ["all"], "127.0.0.1", "255.255.255.255");
    assert.equal(firstMatch([local, tcp], conn), tcp);
    assert.equal(firstMatch([local], conn), undefined);
  });

  test("hostssl matches only SSL connections and hostnossl only plain ones", () => {
    const ssl = rule("hostssl", ["all"], ["all"], "127.0.0.1", "255.255.255.255");
    const nossl = rule("hostnossl", ["all"], ["all"], "127.0.0.1", "255.255.255.255");
    assert.equal(firstMatch([ssl, nossl], conn), nossl);
    assert.equal(firstMatch([nossl, ssl], { ...conn, ssl: true }), ssl);
  });

  test("hostgssenc lines never match, since dbmesh never uses GSSAPI encryption", {}, () => {
    const gss = rule("hostgssenc", ["all"], ["all"], "127.0.0.1", "255.255.255.255", "reject");
    const tcp = rule("host", ["all"], ["all"], "127.0.0.1", "255.255.255.255");
    assert.equal(firstMatch([gss, tcp], conn), tcp);
  });

  test("rules with an error are skipped", () => {
    const broken = rule("host", ["all"], ["all"], "127.0.0.1", "255.255.255.255", "reject", "bad");
    const ok = rule("host", ["all"], ["all"], "127.0.0.1", "255.255.255.255");
    assert.equal(firstMatch([broken, ok], conn), ok);
    assert.equal(firstMatch([broken], conn), undefined);
  });

  test("host names (and samehost/samenet) never match, even when they would resolve to the client", () => {
    const named = rule("host", ["all"], ["all"], "localhost", null);
    const samehost = rule("host", ["all"], ["all"], "samehost", null);
    const named2 = rule("host", ["all"], ["all"], ".example.com", null);
    assert.equal(firstMatch([named, samehost, named2], conn), undefined);
  });

  test("rules with null database or user lists never match", () => {
    const r = rule("host", null, null, "127.0.0.1", "255.255.255.255");
    assert.equal(firstMatch([r], conn), undefined);
  });
});

import * as assert from "node:assert/strict";
import { describe, test } from "node:test";
import { oracleFromRows, unknownVolatility } from "./index.js";

describe("oracleFromRows", () => {
  const rows = [
    { schema: "pg_catalog", name: "now", volatility: "s" },
    { schema: "pg_catalog", name: "lower", volatility: "i" },
    { schema: "pg_catalog", name: "random", volatility: "v" },
    { schema: "public", name: "f", volatility: "s" },
    // overloads, not aggregated: the worst wins, in any order
    { schema: "public", name: "g", volatility: "v" },
    { schema: "public", name: "g", volatility: "i" },
    { schema: "public", name: "h", volatility: "i" },
    { schema: "public", name: "h", volatility: "s" },
    // the same name in two schemas of the search path: the worst wins unqualified
    { schema: "pg_catalog", name: "both", volatility: "i" },
    { schema: "public", name: "both", volatility: "v" },
    { schema: "app", name: "only_app", volatility: "i" },
    { schema: "app", name: "Quoted Name", volatility: "s" },
    { schema: "odd", name: "x", volatility: "?" },
  ];
  const oracle = oracleFromRows(rows);

  test("unqualified names resolve in pg_catalog then public", () => {
    assert.equal(oracle(undefined, "now"), "stable");
    assert.equal(oracle(undefined, "lower"), "immutable");
    assert.equal(oracle(undefined, "random"), "volatile");
    assert.equal(oracle(undefined, "f"), "stable");
    assert.equal(oracle(undefined, "both"), "volatile");
  });

  test("a name is only as safe as its worst overload", () => {
    assert.equal(oracle(undefined, "g"), "volatile");
    assert.equal(oracle("public", "g"), "volatile");
    assert.equal(oracle(undefined, "h"), "stable");
  });

  test("qualified names look in their schema only", () => {
    assert.equal(oracle("pg_catalog", "now"), "stable");
    assert.equal(oracle("public", "now"), "unknown");
    assert.equal(oracle("pg_catalog", "both"), "immutable");
    assert.equal(oracle("app", "only_app"), "immutable");
    assert.equal(oracle("app", "Quoted Name"), "stable");
  });

  test("names outside the search path, missing names and odd letters are unknown", () => {
    assert.equal(oracle(undefined, "only_app"), "unknown");
    assert.equal(oracle(undefined, "nope"), "unknown");
    assert.equal(oracle("nope", "now"), "unknown");
    assert.equal(oracle("odd", "x"), "unknown");
    // a schema and name that concatenate alike stay apart
    assert.equal(oracle("pg_catalog.n", "ow"), "unknown");
  });

  test("the search path is an option", () => {
    const o = oracleFromRows(rows, { searchPath: ["app", "pg_catalog"] });
    assert.equal(o(undefined, "only_app"), "immutable");
    assert.equal(o(undefined, "f"), "unknown");
    assert.equal(o(undefined, "both"), "immutable");
  });

  test("no rows, and the default oracle, know nothing", () => {
    assert.equal(oracleFromRows([])(undefined, "now"), "unknown");
    assert.equal(unknownVolatility("pg_catalog", "now"), "unknown");
  });
});

import * as assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { type CorpusEntry, corpus, corpusProcRows, type ExpectedRoute } from "./corpus.js";
import {
  type Classification,
  type Classifier,
  createClassifier,
  describeEffect,
  oracleFromRows,
} from "./index.js";

function routeOf(c: Classification): ExpectedRoute | "hardWrite without write" {
  if (c.hardWrite) return c.write ? "write" : "hardWrite without write";
  return c.write ? "primary" : "standby";
}

function label(e: CorpusEntry, i: number): string {
  const sql = JSON.stringify(e.sql);
  return `#${i} ${e.route}: ${sql.length > 70 ? `${sql.slice(0, 67)}...` : sql}`;
}

describe("classifier corpus", () => {
  let classifier: Classifier;
  before(async () => {
    classifier = await createClassifier({ oracle: oracleFromRows(corpusProcRows) });
  });

  test("has at least 200 distinct statements of every route", () => {
    assert.ok(corpus.length >= 200, `${corpus.length} entries`);
    assert.equal(new Set(corpus.map((e) => e.sql)).size, corpus.length, "duplicate statement");
    for (const route of ["write", "primary", "standby"] as const) {
      assert.ok(corpus.filter((e) => e.route === route).length >= 30, route);
    }
  });

  for (const [i, e] of corpus.entries()) {
    test(label(e, i), () => {
      const c = classifier.classify(e.sql);
      assert.deepEqual(
        { route: routeOf(c), reason: c.reason, effects: c.effects.map(describeEffect) },
        { route: e.route, reason: e.reason, effects: e.effects },
      );
    });
  }
});

#!/usr/bin/env node
// Runs every compiled test file (dist/**/*.test.js) with node's test runner.
// Integration tests start real PostgreSQL servers; two files at a time suits a 2-core machine.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? find(p) : e.name.endsWith(".test.js") ? [p] : [];
  });
}

const only = process.argv.slice(2);
const files = find("dist/src")
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
process.env.DBMESH_FAST_INIT = "1";
const r = spawnSync(
  process.execPath,
  ["--test", "--test-concurrency=2", "--test-timeout=300000", ...files],
  { stdio: "inherit" },
);
process.exit(r.status ?? 1);

import assert from "node:assert/strict";
import { test } from "node:test";
import { divergence, lsnBytes, parseHistory } from "./timeline.js";

const history = "1\t0/3000158\tno recovery target specified\n\n2\t0/5000000\tbefore 2000-01-01\n";

test("a history file lists where each earlier timeline ended", () => {
  assert.deepEqual(parseHistory(history), [
    { timeline: 1, switchpoint: "0/3000158" },
    { timeline: 2, switchpoint: "0/5000000" },
  ]);
  assert.deepEqual(parseHistory(null), []);
  assert.equal(lsnBytes("1/0"), 4294967296n);
  assert.equal(lsnBytes("16/B374D848"), (0x16n << 32n) + 0xb374d848n);
});

test("a standby that stopped before its timeline ended can follow; one that went past cannot", () => {
  const upstream = { timeline: 3, position: "0/7000000", history };
  const at = (timeline: number, position: string) => ({ timeline, position, history: null });
  assert.equal(divergence(at(3, "0/6000000"), upstream, "p"), undefined);
  assert.equal(divergence(at(1, "0/3000158"), upstream, "p"), undefined);
  assert.equal(divergence(at(2, "0/4000000"), upstream, "p"), undefined);
  assert.equal(
    divergence(at(1, "0/3000160"), upstream, "p"),
    "it has WAL up to 0/3000160 on timeline 1, but p left that timeline at 0/3000158",
  );
  assert.equal(
    divergence(at(4, "0/1000000"), upstream, "p"),
    "it is on timeline 4, newer than p's timeline 3",
  );
  assert.equal(
    divergence(at(3, "0/8000000"), upstream, "p"),
    "it has WAL up to 0/8000000 on timeline 3, beyond p's 0/7000000",
  );
  assert.equal(
    divergence(
      at(2, "0/1000000"),
      { timeline: 3, position: null, history: "1\t0/3000158\tx\n" },
      "p",
    ),
    "its timeline 2 is not in the history of p's timeline 3",
  );
});

import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { startNodes } from "../src/cli/commands/up-down.js";
import { meshAccess } from "../src/cli/mesh.js";
import { findBinaries } from "../src/cluster/index.js";
import {
  type ApplyResult,
  applyMesh,
  type MeshAccess,
  makePlan,
  observeMesh,
  type Plan,
  type StepEvent,
  stepCount,
} from "../src/provision/index.js";
import { planFromState } from "../src/provision/plan.js";
import { freePorts, removeDir } from "../src/testing/index.js";
import { loadTopology, type Topology } from "../src/topology/index.js";
import {
  BenchFailure,
  checkConverged,
  checkInterrupt,
  median,
  ms,
  out,
  purgeNodes,
  quietOutput,
  round,
  runBenchmark,
  table,
  timed,
  uninterrupted,
  writeResults,
} from "./harness.js";
import { type BenchMesh, ringMesh, scottMesh } from "./topologies.js";

// initdb --no-sync: the new clusters' files are not fsynced. Benchmark data only.
process.env.DBMESH_FAST_INIT = "1";

const ROUNDS = 10;
const resultsFile = fileURLToPath(new URL("../../bench/results/apply.json", import.meta.url));

interface Running {
  readonly mesh: BenchMesh;
  topology: Topology | undefined;
  /** Accesses not closed yet (closed at cleanup if a round threw). */
  readonly open: Set<MeshAccess>;
}

interface Up {
  startMs: number;
  applyMs: number;
  steps: number;
  roundTrips: number;
  slowest: { summary: string; node: string; ms: number }[];
  byPhase: Record<string, { steps: number; ms: number }>;
  startLines: string[];
}

interface Series {
  ms: number[];
  roundTrips: number[];
}

interface Figures {
  up: Up | undefined;
  applyCold: Series;
  applyWarm: Series;
  planCold: Series;
  planWarm: Series;
  observeWarm: Series;
  diffWarm: Series;
}

const series = (): Series => ({ ms: [], roundTrips: [] });

// ---------------------------------------------------------------- cleanup (finally and SIGINT)

const running: Running[] = [];
let cleanup: Promise<void> | undefined;

function cleanUp(): Promise<void> {
  cleanup ??= (async () => {
    for (const r of running) {
      await Promise.all([...r.open].map((a) => a.connections.closeAll()));
      r.open.clear();
    }
    await Promise.all(
      running.map(async (r) => {
        const t = r.topology;
        if (t) await purgeNodes(t);
        await removeDir(r.mesh.dir);
      }),
    );
  })();
  return cleanup;
}

// ---------------------------------------------------------------- measuring

async function withAccess<T>(r: Running, f: (a: MeshAccess) => Promise<T>): Promise<T> {
  const access = meshAccess(r.topology!, false);
  r.open.add(access);
  try {
    return await f(access);
  } finally {
    await access.connections.closeAll();
    r.open.delete(access);
  }
}

function describeSteps(plan: Plan): string[] {
  return plan.nodes.flatMap((n) => [
    ...n.steps.map((s) => `  ${s.node}/${s.database} phase ${s.phase}: ${s.summary}`),
    ...n.problems.map((p) => `  problem on ${p.node}: ${p.message} (${p.hint})`),
  ]);
}

/** A no-change apply must change nothing, fail nothing and report no problem. */
function checkNoChange(r: Running, what: string, res: ApplyResult, events: StepEvent[]): void {
  if (res.changed === 0 && res.failures.length === 0 && res.problems.length === 0) return;
  const lines = [
    `${r.mesh.label}: ${what} was expected to change nothing, but: ${res.changed} changed, ${res.failures.length} failed, ${res.problems.length} problems`,
    ...events
      .filter((e) => e.kind !== "start")
      .map((e) => `  ${e.kind}: ${e.step.node}/${e.step.database} ${e.step.summary}`),
    ...res.failures.map((f) => `  failure on ${f.node}: ${f.error}${f.hint ? ` (${f.hint})` : ""}`),
    ...res.problems.map((p) => `  problem on ${p.node}: ${p.message} (${p.hint})`),
  ];
  throw new BenchFailure(lines.join("\n"));
}

function checkPlanEmpty(r: Running, what: string, plan: Plan): void {
  const problems = plan.nodes.reduce((n, p) => n + p.problems.length, 0);
  if (stepCount(plan) === 0 && problems === 0) return;
  throw new BenchFailure(
    [
      `${r.mesh.label}: ${what} was expected to be empty, but has ${stepCount(plan)} steps and ${problems} problems:`,
      ...describeSteps(plan),
    ].join("\n"),
  );
}

/** initdb + start every node, then the first apply, which builds everything. */
async function upFromNothing(r: Running): Promise<Up> {
  const t = r.topology!;
  const startLines: string[] = [];
  const start = await timed(() =>
    uninterrupted(startNodes(t, [...t.nodes.values()], quietOutput(startLines))),
  );
  if (start.value !== 0)
    throw new BenchFailure(`${r.mesh.label}: nodes did not start:\n${startLines.join("\n")}`);
  checkInterrupt();
  const done: { summary: string; node: string; phase: number; ms: number }[] = [];
  const events: StepEvent[] = [];
  const apply = await withAccess(r, (a) =>
    timed(() =>
      applyMesh(a, (e) => {
        events.push(e);
        if (e.kind === "done")
          done.push({ summary: e.step.summary, node: e.step.node, phase: e.step.phase, ms: e.ms });
      }),
    ),
  );
  const res = apply.value;
  checkConverged(`${r.mesh.label}: the first apply`, res);
  const byPhase: Up["byPhase"] = {};
  for (const d of done) {
    const key = `phase ${d.phase}`;
    const p = byPhase[key] ?? { steps: 0, ms: 0 };
    byPhase[key] = p;
    p.steps++;
    p.ms += d.ms;
  }
  return {
    startMs: start.ms,
    applyMs: apply.ms,
    steps: res.changed,
    roundTrips: res.roundTrips,
    slowest: [...done]
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 5)
      .map(({ summary, node, ms }) => ({ summary, node, ms })),
    byPhase,
    startLines,
  };
}

/** A CLI run: new access, new connections, apply, close. */
async function applyCold(r: Running, f: Figures, record: boolean): Promise<void> {
  const events: StepEvent[] = [];
  const { ms, value } = await withAccess(r, (a) =>
    timed(() => applyMesh(a, (e) => events.push(e))),
  );
  checkNoChange(r, "a no-change apply (new connections)", value, events);
  if (record) {
    f.applyCold.ms.push(ms);
    f.applyCold.roundTrips.push(value.roundTrips);
  }
}

async function planCold(r: Running, f: Figures): Promise<void> {
  const { ms, value } = await withAccess(r, (a) => timed(() => makePlan(a)));
  checkPlanEmpty(r, "a no-change plan (new connections)", value);
  f.planCold.ms.push(ms);
  f.planCold.roundTrips.push(value.roundTrips);
}

/** Apply, plan, and plan split into observe + diff, on one access whose connections are open. */
async function warmRound(r: Running, f: Figures, a: MeshAccess): Promise<void> {
  const events: StepEvent[] = [];
  const apply = await timed(() => applyMesh(a, (e) => events.push(e)));
  checkNoChange(r, "a no-change apply (warm connections)", apply.value, events);
  f.applyWarm.ms.push(apply.ms);
  f.applyWarm.roundTrips.push(apply.value.roundTrips);

  const plan = await timed(() => makePlan(a));
  checkPlanEmpty(r, "a no-change plan (warm connections)", plan.value);
  f.planWarm.ms.push(plan.ms);
  f.planWarm.roundTrips.push(plan.value.roundTrips);

  const before = a.connections.roundTrips;
  const observe = await timed(() => observeMesh(a));
  f.observeWarm.ms.push(observe.ms);
  const observed = a.connections.roundTrips;
  f.observeWarm.roundTrips.push(observed - before);
  const diff = await timed(() => planFromState(a, observe.value, 1));
  checkPlanEmpty(r, "planFromState (warm)", diff.value);
  f.diffWarm.ms.push(diff.ms);
  f.diffWarm.roundTrips.push(a.connections.roundTrips - observed);
}

// ---------------------------------------------------------------- reporting

function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? Number.NaN;
}
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
/** The round trips of a series; they should not vary between rounds. */
const trips = (s: Series) => {
  const lo = Math.min(...s.roundTrips);
  const hi = Math.max(...s.roundTrips);
  return lo === hi ? String(lo) : `${lo}-${hi}`;
};

function summary(s: Series) {
  return {
    medianMs: round(median(s.ms)),
    p90Ms: round(quantile(s.ms, 0.9)),
    minMs: round(Math.min(...s.ms)),
    roundTrips: Math.max(...s.roundTrips),
    samplesMs: s.ms.map(round),
  };
}

// ---------------------------------------------------------------- main

async function main(): Promise<number> {
  const bins = await findBinaries("embedded");
  const ports = await freePorts(8);
  // Registered as soon as each directory exists, so cleanup removes it whatever fails next.
  const add = (mesh: BenchMesh) => running.push({ mesh, topology: undefined, open: new Set() });
  add(await scottMesh([ports[0]!, ports[1]!]));
  add(await ringMesh(ports.slice(2, 8)));
  for (const r of running) r.topology = loadTopology(r.mesh.file);

  out("dbmesh apply benchmark");
  out(
    `DBMESH_FAST_INIT=1: initdb runs with --no-sync (the new clusters are not fsynced; never for real data)`,
  );
  out(
    `PostgreSQL ${bins.version} (${bins.source}), Node ${process.version}, ${cpus().length} CPUs; ${ROUNDS} rounds per figure, both meshes up at once, rounds alternating between them`,
  );
  for (const r of running) out(`  ${r.mesh.label}: ${r.mesh.file}`);
  const loadBefore = loadavg()[0]!;
  out(`load average (1 min) at start: ${loadBefore.toFixed(2)}`);

  const figures = new Map<Running, Figures>(
    running.map((r) => [
      r,
      {
        up: undefined,
        applyCold: series(),
        applyWarm: series(),
        planCold: series(),
        planWarm: series(),
        observeWarm: series(),
        diffWarm: series(),
      },
    ]),
  );
  const fig = (r: Running) => figures.get(r)!;

  out("\nup from nothing (initdb + start, then the first apply)…");
  for (const r of running) {
    const up = await upFromNothing(r);
    fig(r).up = up;
    out(`  ${r.mesh.label}: ${up.startLines.join("; ")}`);
  }

  // One unrecorded cold apply each: checks the mesh converged and warms up the JIT.
  for (const r of running) await applyCold(r, fig(r), false);

  out(`no-change rounds (${ROUNDS})…`);
  const warm = new Map<Running, MeshAccess>();
  for (const r of running) {
    const a = meshAccess(r.topology!, false);
    r.open.add(a);
    warm.set(r, a);
    await makePlan(a); // opens every connection the warm rounds use
  }
  for (let i = 0; i < ROUNDS; i++) {
    checkInterrupt();
    for (const r of running) await applyCold(r, fig(r), true);
    for (const r of running) await planCold(r, fig(r));
    for (const r of running) await warmRound(r, fig(r), warm.get(r)!);
  }
  for (const [r, a] of warm) {
    await a.connections.closeAll();
    r.open.delete(a);
  }

  // ---- report
  const [small, big] = running as [Running, Running];
  const s = fig(small);
  const b = fig(big);
  const su = s.up!;
  const bu = b.up!;
  out("\nUp from nothing");
  out(
    table([
      ["", small.mesh.label, big.mesh.label, "6/2"],
      [
        "init + start ms (startNodes)",
        ms(su.startMs),
        ms(bu.startMs),
        ratio(bu.startMs, su.startMs),
      ],
      ["first apply ms", ms(su.applyMs), ms(bu.applyMs), ratio(bu.applyMs, su.applyMs)],
      ["  steps run", String(su.steps), String(bu.steps), ""],
      ["  SQL round trips", String(su.roundTrips), String(bu.roundTrips), ""],
      ...["phase 1", "phase 2", "phase 3"].map((p) => [
        `  ${p}: steps / summed step ms`,
        `${su.byPhase[p]?.steps ?? 0} / ${ms(su.byPhase[p]?.ms ?? 0)}`,
        `${bu.byPhase[p]?.steps ?? 0} / ${ms(bu.byPhase[p]?.ms ?? 0)}`,
        "",
      ]),
    ]),
  );
  out(`  slowest steps (${big.mesh.label}):`);
  for (const x of bu.slowest) out(`    ${ms(x.ms).padStart(6)} ms  ${x.node}: ${x.summary}`);

  const row = (label: string, pick: (f: Figures) => Series) => {
    const a = pick(s);
    const c = pick(b);
    return [
      label,
      `${ms(median(a.ms))} / ${ms(quantile(a.ms, 0.9))}`,
      trips(a),
      `${ms(median(c.ms))} / ${ms(quantile(c.ms, 0.9))}`,
      trips(c),
      ratio(median(c.ms), median(a.ms)),
    ];
  };
  out(`\nNo change (median / p90 ms over ${ROUNDS} rounds; round trips include connection opens)`);
  out(
    table([
      ["", `${small.mesh.label} ms`, "trips", `${big.mesh.label} ms`, "trips", "6/2"],
      row("apply, new connections (as a CLI run)", (f) => f.applyCold),
      row("apply, warm connections", (f) => f.applyWarm),
      row("plan, new connections", (f) => f.planCold),
      row("plan, warm connections", (f) => f.planWarm),
      row("  observeMesh (catalog reads), warm", (f) => f.observeWarm),
      row("  planFromState (diff, no SQL), warm", (f) => f.diffWarm),
    ]),
  );
  const opens = (f: Figures) =>
    Math.max(...f.applyCold.roundTrips) - Math.max(...f.applyWarm.roundTrips);
  out(
    `  connections opened per cold apply: ${opens(s)} (${small.mesh.label}), ${opens(b)} (${big.mesh.label})`,
  );

  const med = (f: Figures, k: keyof Omit<Figures, "up">) => median(f[k].ms);
  const ratios = {
    noChangeApplyCold6vs2: med(b, "applyCold") / med(s, "applyCold"),
    noChangeApplyWarm6vs2: med(b, "applyWarm") / med(s, "applyWarm"),
    coldVsWarm2: med(s, "applyCold") / med(s, "applyWarm"),
    coldVsWarm6: med(b, "applyCold") / med(b, "applyWarm"),
    connectionShare2: 1 - med(s, "applyWarm") / med(s, "applyCold"),
    connectionShare6: 1 - med(b, "applyWarm") / med(b, "applyCold"),
    up6vs2: (bu.startMs + bu.applyMs) / (su.startMs + su.applyMs),
  };
  out("\nRatios (same run, same data)");
  out(
    table([
      [
        "no-change apply, new connections: 6 nodes / 2 nodes",
        ratio(ratios.noChangeApplyCold6vs2, 1),
      ],
      [
        "no-change apply, warm connections: 6 nodes / 2 nodes",
        ratio(ratios.noChangeApplyWarm6vs2, 1),
      ],
      [`cold / warm apply, ${small.mesh.label}`, ratio(ratios.coldVsWarm2, 1)],
      [`cold / warm apply, ${big.mesh.label}`, ratio(ratios.coldVsWarm6, 1)],
      [
        `share of a cold apply spent on connection setup, ${small.mesh.label} / ${big.mesh.label}`,
        `${(100 * ratios.connectionShare2).toFixed(0)}% / ${(100 * ratios.connectionShare6).toFixed(0)}%`,
      ],
      ["up from nothing (init+start+apply): 6 nodes / 2 nodes", ratio(ratios.up6vs2, 1)],
    ]),
  );
  out(
    `\nAim: a no-change apply on ${big.mesh.nodes} nodes in well under a second — median ${ms(med(b, "applyCold"))} ms with new connections (figures only; no threshold is enforced)`,
  );

  const results = {
    benchmark: "apply",
    date: new Date().toISOString(),
    fastInit: true,
    postgres: bins.version,
    node: process.version,
    cpus: cpus().length,
    loadAverage: { start: round(loadBefore), end: round(loadavg()[0]!) },
    rounds: ROUNDS,
    meshes: running.map((r) => {
      const f = fig(r);
      const { startLines: _, ...up } = f.up!;
      return {
        label: r.mesh.label,
        nodes: r.mesh.nodes,
        databases: r.topology!.databases.length,
        links: r.topology!.links.length,
        up: {
          ...up,
          startMs: round(up.startMs),
          applyMs: round(up.applyMs),
          slowest: up.slowest.map((x) => ({ ...x, ms: round(x.ms) })),
          byPhase: Object.fromEntries(
            Object.entries(up.byPhase).map(([k, v]) => [k, { steps: v.steps, ms: round(v.ms) }]),
          ),
        },
        noChange: {
          applyCold: summary(f.applyCold),
          applyWarm: summary(f.applyWarm),
          planCold: summary(f.planCold),
          planWarm: summary(f.planWarm),
          observeWarm: summary(f.observeWarm),
          diffWarm: summary(f.diffWarm),
          connectionsPerColdApply: opens(f),
        },
      };
    }),
    ratios: Object.fromEntries(Object.entries(ratios).map(([k, v]) => [k, round(v)])),
  };
  writeResults(resultsFile, results);
  return 0;
}

await runBenchmark({ main, cleanUp, cleaning: "stopping and purging the benchmark nodes…" });

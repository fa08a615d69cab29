import {
  type ApplyResult,
  applyMesh,
  formatPlan,
  type MeshAccess,
  makePlan,
  planJson,
  type StepEvent,
  stepCount,
} from "../../provision/index.js";
import type { Args } from "../args.js";
import { loadFromArgs, meshAccess } from "../mesh.js";
import type { Output } from "../output.js";

export async function planCommand(args: Args, out: Output): Promise<number> {
  const access = meshAccess(loadFromArgs(args), args.flags.has("--prune"));
  try {
    const plan = await makePlan(access);
    out.data(planJson(plan));
    out.line(formatPlan(plan));
    const changes = stepCount(plan);
    const problems = plan.nodes.reduce((n, p) => n + p.problems.length, 0);
    out.line("");
    out.line(
      changes
        ? `${changes} change${changes === 1 ? "" : "s"} to apply${problems ? `, ${problems} problem${problems === 1 ? "" : "s"}` : ""}`
        : problems
          ? `no changes, ${problems} problem${problems === 1 ? "" : "s"}`
          : "no changes",
    );
    return changes || problems ? 1 : 0;
  } finally {
    await access.connections.closeAll();
  }
}

export async function applyCommand(args: Args, out: Output): Promise<number> {
  const access = meshAccess(loadFromArgs(args), args.flags.has("--prune"));
  try {
    return await runApply(access, out);
  } finally {
    await access.connections.closeAll();
  }
}

/** Applies with progress lines; returns 0 when everything converged, else 1. */
export async function runApply(access: MeshAccess, out: Output): Promise<number> {
  const result = await applyMesh(access, (e) => out.line(progressLine(e)));
  out.data(applyJson(result));
  out.line(applySummary(result));
  return result.failures.length || result.problems.length ? 1 : 0;
}

function progressLine(e: StepEvent): string | undefined {
  const where = `${e.step.node}/${e.step.database}`;
  switch (e.kind) {
    case "start":
      return undefined;
    case "done":
      return `  ok    ${where}  ${e.step.summary}  (${Math.round(e.ms)} ms)`;
    case "failed":
      return `  FAIL  ${where}  ${e.step.summary}\n        ${e.error.message}\n        hint: ${e.error.hint}`;
    case "skipped":
      return `  skip  ${where}  ${e.step.summary}  (${e.reason})`;
  }
}

export function applySummary(r: ApplyResult): string {
  const lines: string[] = [];
  for (const p of r.problems)
    lines.push(`  !     ${p.node}: ${p.message}${p.hint ? `\n        hint: ${p.hint}` : ""}`);
  const failedNodes = [
    ...new Set([...r.failures.map((f) => f.node), ...r.problems.map((p) => p.node)]),
  ];
  if (!r.changed && !failedNodes.length) lines.push("no changes: every node matches the file");
  else
    lines.push(
      `${r.changed} change${r.changed === 1 ? "" : "s"} applied${failedNodes.length ? `; not converged: ${failedNodes.join(", ")} (fix the cause and run apply again)` : ""}`,
    );
  return lines.join("\n");
}

function applyJson(r: ApplyResult): unknown {
  return {
    changed: r.changed,
    failures: r.failures.map((f) => ({
      node: f.node,
      step: f.step?.summary,
      error: f.error,
      hint: f.hint,
    })),
    problems: r.problems,
    roundTrips: r.roundTrips,
  };
}

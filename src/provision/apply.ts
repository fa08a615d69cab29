import { setTimeout as sleep } from "node:timers/promises";
import { isPgAdminError, PgAdminError, statementError } from "../pgadmin/index.js";
import type { MeshAccess } from "./mesh-access.js";
import { makePlan } from "./plan.js";
import { type Phase, type Plan, type Problem, type Step, stepCount } from "./step.js";

export type StepEvent =
  | { readonly kind: "start"; readonly step: Step }
  | { readonly kind: "done"; readonly step: Step; readonly ms: number }
  | { readonly kind: "failed"; readonly step: Step; readonly error: PgAdminError }
  | { readonly kind: "skipped"; readonly step: Step; readonly reason: string };

export interface ApplyResult {
  readonly changed: number;
  readonly failures: {
    readonly node: string;
    readonly step: Step | undefined;
    readonly error: string;
    readonly hint: string;
  }[];
  readonly problems: Problem[];
  readonly roundTrips: number;
}

/**
 * Converges every node to the file. Phases run in order across all nodes, re-reading the
 * catalogs before a phase when the one before changed something. A failing node stops only
 * its own remaining steps; every step is a transaction, so running apply again completes it.
 */
export async function applyMesh(
  access: MeshAccess,
  onEvent: (e: StepEvent) => void = () => {},
): Promise<ApplyResult> {
  const start = access.connections.roundTrips;
  let plan: Plan = await makePlan(access, 1);
  const failures: ApplyResult["failures"] = [];
  const failedNodes = new Set<string>();
  let changed = 0;
  let dirty = false;
  for (const phase of [1, 2, 3] as Phase[]) {
    if (phase > 1 && dirty) plan = await makePlan(access, phase);
    dirty = false;
    await Promise.all(
      plan.nodes.map(async (np) => {
        for (const step of np.steps.filter((s) => s.phase === phase)) {
          if (failedNodes.has(np.node)) {
            onEvent({ kind: "skipped", step, reason: `an earlier step on ${np.node} failed` });
            continue;
          }
          onEvent({ kind: "start", step });
          const t0 = performance.now();
          try {
            await runStep(access, step);
            changed++;
            dirty = true;
            onEvent({ kind: "done", step, ms: performance.now() - t0 });
          } catch (e) {
            const error = isPgAdminError(e)
              ? e
              : statementError(e, step.node, step.database, step.sql.join(";\n"));
            failedNodes.add(np.node);
            failures.push({ node: np.node, step, error: error.message, hint: error.hint });
            onEvent({ kind: "failed", step, error });
            await access.connections.drop(step.node, step.database);
          }
        }
      }),
    );
  }
  const problems = plan.nodes.flatMap((n) => n.problems);
  return { changed, failures, problems, roundTrips: access.connections.roundTrips - start };
}

async function runStep(access: MeshAccess, step: Step): Promise<void> {
  if (step.deferred) {
    throw new PgAdminError(
      "sql",
      step.node,
      `${step.summary}: the remote end is not ready (an earlier step for it failed or it is unreachable)`,
      "fix the remote node, then run apply again",
    );
  }
  const s = await access.connections.session(step.node, step.database);
  if (step.hba) {
    if (!access.config) throw new Error("the configuration of this node is not managed here");
    await access.config.write(step.node, step.hba);
    await s.query("SELECT pg_reload_conf()");
    // The postmaster rereads its files on SIGHUP, asynchronously.
    await sleep(200);
    return;
  }
  if (!step.transaction) {
    for (const sql of step.sql) await s.query(sql);
    return;
  }
  // One round trip per step: the statements travel as one simple-query message.
  try {
    await s.query(`BEGIN;\n${step.sql.join(";\n")};\nCOMMIT`);
  } catch (e) {
    await s.query("ROLLBACK").catch(() => {});
    throw e;
  }
}

export { stepCount };

import { setTimeout as sleep } from "node:timers/promises";
import {
  isPgAdminError,
  PgAdminError,
  type Phase,
  type Plan,
  type Problem,
  quietLogging,
  type Step,
  statementError,
  stepCount,
} from "../pgadmin/index.js";
import type { MeshAccess } from "./mesh-access.js";
import { makePlan } from "./plan.js";
import { writeStepFiles } from "./plan-connect.js";
import { runMariadbStep } from "./plan-mariadb.js";

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
  const deferred: Step[] = [];
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
          if (step.deferred) {
            // Still unknown after the re-plan: the remote end did not get ready. That is the
            // remote node's failure, reported there; this node goes on.
            deferred.push(step);
            onEvent({ kind: "skipped", step, reason: "the remote end is not ready" });
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
  const problems = [
    ...plan.nodes.flatMap((n) => n.problems),
    ...deferred.map((s) => ({
      node: s.node,
      message: `not done: ${s.summary} (the remote end is not ready)`,
      hint: "fix the remote node's failure above, then run apply again",
    })),
  ];
  return { changed, failures, problems, roundTrips: access.connections.roundTrips - start };
}

async function runStep(access: MeshAccess, step: Step): Promise<void> {
  if (access.topology.nodes.get(step.node)?.engine === "mariadb") {
    await writeStepFiles(step);
    return runMariadbStep(access, step);
  }
  const s = await access.connections.session(step.node, step.database);
  if (step.hba) {
    if (!access.config) throw new Error("the configuration of this node is not managed here");
    await access.config.write(step.node, step.hba);
    // pg_hba_file_rules parses the file on disk: a line the server cannot load is caught here,
    // before a reload (which would keep the old rules) or a restart (which would fail).
    const bad = await s.query<{ line_number: number; error: string }>(
      "SELECT line_number, error FROM pg_hba_file_rules WHERE error IS NOT NULL",
    );
    if (bad.length) {
      throw new PgAdminError(
        "sql",
        step.node,
        `pg_hba.conf on ${step.node} has lines the server rejects: ${bad.map((b) => `line ${b.line_number}: ${b.error}`).join("; ")}`,
        "fix the addresses in the topology file (roles.*.from, nodes.*.host) and run apply again",
      );
    }
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
    if (step.secret) {
      // A separate round trip: log_statement is checked when a query string arrives, before
      // any SET in that same string runs.
      await s.query(`BEGIN;\n${quietLogging.join(";\n")}`);
      await s.query(`${step.sql.join(";\n")};\nCOMMIT`);
    } else {
      await s.query(`BEGIN;\n${step.sql.join(";\n")};\nCOMMIT`);
    }
  } catch (e) {
    await s.query("ROLLBACK").catch(() => {});
    throw e;
  }
}

export { stepCount };

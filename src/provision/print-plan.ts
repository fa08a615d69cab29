import type { Plan } from "../pgadmin/index.js";
import { maskSecrets } from "../pgadmin/index.js";

/** The plan as text: per node, each step's summary and its SQL with secrets masked. */
export function formatPlan(plan: Plan): string {
  const out: string[] = [];
  for (const n of plan.nodes) {
    if (!n.steps.length && !n.problems.length) {
      out.push(`${n.node}: no changes`);
      continue;
    }
    out.push(`${n.node}: ${n.steps.length} step${n.steps.length === 1 ? "" : "s"}`);
    for (const s of n.steps) {
      out.push(`  [${s.phase}] ${s.database}: ${s.summary}${s.deferred ? " (at apply time)" : ""}`);
      for (const sql of s.display ?? s.sql) out.push(indent(maskSecrets(sql), "      "));
    }
    for (const p of n.problems) {
      out.push(`  ! ${p.message}`);
      if (p.hint) out.push(`    hint: ${p.hint}`);
    }
  }
  return out.join("\n");
}

/** The plan as data for --json, secrets masked. */
export function planJson(plan: Plan): unknown {
  return {
    changes: plan.nodes.reduce((n, p) => n + p.steps.length, 0),
    roundTrips: plan.roundTrips,
    nodes: plan.nodes.map((n) => ({
      node: n.node,
      steps: n.steps.map((s) => ({
        phase: s.phase,
        database: s.database,
        summary: s.summary,
        deferred: s.deferred ?? false,
        sql: (s.display ?? s.sql).map(maskSecrets),
      })),
      problems: n.problems,
    })),
  };
}

function indent(text: string, pad: string): string {
  const t = text.trim();
  return pad + (t.endsWith(";") || t.startsWith("--") ? t : `${t};`).replace(/\n/g, `\n${pad}`);
}

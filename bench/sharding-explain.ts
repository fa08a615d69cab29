import type pg from "pg";

// What EXPLAIN (ANALYZE, VERBOSE, FORMAT JSON) says of a sharded query on the coordinator.

interface PlanJson {
  "Node Type": string;
  "Actual Rows"?: number;
  "Actual Loops"?: number;
  "Remote SQL"?: string;
  Relations?: string;
  "Partial Mode"?: string;
  "Async Capable"?: boolean;
  Plans?: PlanJson[];
}

export interface ForeignScans {
  scans: number;
  rows: number;
  remoteSql: string[];
  plan: string;
}

/** Foreign Scan nodes of an EXPLAIN (ANALYZE, VERBOSE): how many, rows they returned, their SQL. */
function foreignScans(plan: PlanJson): ForeignScans {
  const f: ForeignScans = { scans: 0, rows: 0, remoteSql: [], plan: "" };
  const walk = (p: PlanJson) => {
    if (p["Node Type"] === "Foreign Scan") {
      f.scans++;
      f.rows += (p["Actual Rows"] ?? 0) * (p["Actual Loops"] ?? 1);
      if (p["Remote SQL"]) f.remoteSql.push(p["Remote SQL"]);
    }
    for (const c of p.Plans ?? []) walk(c);
  };
  walk(plan);
  // The plan's first branch down to its scan: aggregates with their mode, async scans marked.
  const shape: string[] = [];
  for (let p: PlanJson | undefined = plan; p; p = p.Plans?.[0]) {
    const mode = p["Partial Mode"] && p["Partial Mode"] !== "Simple" ? `${p["Partial Mode"]} ` : "";
    shape.push(`${mode}${p["Node Type"]}${p["Async Capable"] ? " (async)" : ""}`);
  }
  f.plan = shape.join(" > ");
  return f;
}

export async function explain(c: pg.Client, sql: string): Promise<ForeignScans> {
  const r = await c.query(`EXPLAIN (ANALYZE, VERBOSE, FORMAT JSON) ${sql}`);
  const json = r.rows[0]["QUERY PLAN"] as { Plan: PlanJson }[];
  return foreignScans(json[0]!.Plan);
}

import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { purgeNode, stopNode } from "../../cluster/index.js";
import { observeReplication } from "../../pgadmin/index.js";
import { maintenanceDb } from "../../provision/index.js";
import type { Router } from "../../router/index.js";
import { loadTopology } from "../../topology/index.js";
import type { Args } from "../args.js";
import {
  effectiveTopology,
  forgetPromotions,
  localNode,
  meshAccess,
  readPrimaries,
} from "../mesh.js";
import type { Output } from "../output.js";
import { formatTable } from "../table.js";
import { demoPasswords, runQuery } from "./demo.js";
import { showRouting, writeAfterFailover } from "./demo-router.js";
import { promoteStandby, standbyNamed } from "./failover.js";
import { startRouter } from "./serve.js";
import { bringUp } from "./up-down.js";

const haFile = fileURLToPath(new URL("../../../../examples/ha/dbmesh.yaml", import.meta.url));

/**
 * Workflow 5: a primary with a sync and an async standby built by `up`; rows written on the
 * primary read back on both standbys; their lag; then a failover to the sync standby and a
 * write on the new primary.
 */
export async function haDemo(args: Args, out: Output): Promise<number> {
  const declared = loadTopology(haFile);
  // The demo starts from the declared roles: a previous run's promotion is wiped.
  if (Object.keys(readPrimaries(declared)).length) {
    for (const n of declared.nodes.values()) await purgeNode(localNode(declared, n));
    await forgetPromotions(declared);
  }
  let t = effectiveTopology(declared);
  demoPasswords(t);
  out.line(`\ntopology: ${t.file}`);
  out.line(
    "\n== up: the primary, then each standby from a base backup over the replication protocol",
  );
  let code = 0;
  let router: Router | undefined;
  const access = meshAccess(t, false);
  try {
    code = await bringUp(t, [...t.nodes.values()], access, out);
    const write =
      "INSERT INTO sales.orders (customer, amount) SELECT 'customer ' || g, g * 1.5 FROM generate_series(1, 1000) g";
    code = Math.max(
      code,
      await runQuery(
        t,
        {
          node: "primary",
          role: "shop",
          database: "shop",
          title: "Write on the primary",
          sql: write,
        },
        out,
      ),
    );
    await waitForReplay(access);
    for (const node of ["standby-sync", "standby-async"]) {
      const sql =
        "SELECT count(*) AS orders, sum(amount) AS total, pg_is_in_recovery() AS read_only FROM sales.orders";
      code = Math.max(
        code,
        await runQuery(
          t,
          { node, role: "shop", database: "shop", title: `Read it back on ${node}`, sql },
          out,
        ),
      );
    }
    const state = await observeReplication(
      await access.connections.session("primary", maintenanceDb),
    );
    out.line("\n== Replication as the primary sees it");
    out.line(
      formatTable(
        ["standby", "state", "sync", "replay lsn", "lag bytes", "lag s"],
        state.standbys.map((s) => [
          s.name,
          s.state,
          s.syncState,
          s.replayLsn,
          s.lagBytes,
          s.replayLagSeconds ?? 0,
        ]),
      ),
    );
    const routerLog: string[] = [];
    router = (await startRouter(t, (line) => routerLog.push(line))).router;
    await showRouting(t, out);
    out.line(
      "\n== Failover: promote standby-sync (the primary is stopped first, so it cannot take writes)",
    );
    await access.connections.closeAll();
    code = Math.max(code, await promoteStandby(t, standbyNamed(t, "standby-sync"), out));
    t = effectiveTopology(loadTopology(haFile));
    code = Math.max(code, await writeAfterFailover(t, router, out));
    const sql =
      "INSERT INTO sales.orders (customer, amount) VALUES ('after failover', 42) RETURNING id, customer, pg_is_in_recovery() AS read_only";
    code = Math.max(
      code,
      await runQuery(
        t,
        {
          node: "standby-sync",
          role: "shop",
          database: "shop",
          title: "Writes now go to standby-sync, the new primary",
          sql,
        },
        out,
      ),
    );
  } finally {
    await router?.stop();
    await access.connections.closeAll();
    if (!args.flags.has("--keep")) {
      for (const n of t.nodes.values()) await stopNode(localNode(t, n));
      out.line("\nnodes stopped (run `dbmesh demo ha --keep` to leave them running)");
    } else {
      out.line(`\nnodes left running; stop them with: dbmesh -f ${t.file} down`);
    }
  }
  return code;
}

/** Waits (up to 10 s) until both standbys have replayed what the primary has written. */
async function waitForReplay(access: ReturnType<typeof meshAccess>): Promise<void> {
  const primary = await access.connections.session("primary", maintenanceDb);
  for (let i = 0; i < 100; i++) {
    const standbys = (await observeReplication(primary)).standbys;
    if (standbys.length === 2 && standbys.every((s) => s.lagBytes === 0)) return;
    await sleep(100);
  }
}

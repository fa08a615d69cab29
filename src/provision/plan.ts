import {
  extensionOf,
  planCopies,
  planDblinkViews,
  planFdwImport,
  planLinkSetup,
  type RemoteCatalog,
} from "../links/index.js";
import { type MysqlRemote, mysqlFdwMissingHint, planMysqlImport } from "../links/mysql-fdw.js";
import type { NodePlan, Phase, Plan, Problem, Step } from "../pgadmin/index.js";
import { createExtension, type ObservedDatabaseContent } from "../pgadmin/index.js";
import {
  planCoordinator,
  planReferenceCopies,
  planReferenceSource,
  planShardTables,
  shardingExtensions,
  unsupportedSharding,
  withTableSources,
} from "../sharding/index.js";
import type { MeshAccess } from "./mesh-access.js";
import { type MeshState, observeMesh } from "./observe.js";
import { addConnectPlans, observeConnectMesh } from "./plan-connect.js";
import { emptyDatabase, planDatabase } from "./plan-database.js";
import { addMariadbPlans, observeMariadbMesh } from "./plan-mariadb.js";
import { readMysqlRemotes } from "./plan-mysql-fdw.js";
import { planPrune } from "./plan-prune.js";
import { planServer } from "./plan-server.js";

/**
 * Reads every node and diffs it against the file: per node, the ordered steps apply would run
 * and the problems that block some of them. Unreachable nodes get a problem and no steps.
 */
export async function makePlan(given: MeshAccess, fromPhase: Phase = 1): Promise<Plan> {
  const before = given.connections.roundTrips;
  // Sharded tables declared with table: take their columns from the coordinator's catalog.
  const access = { ...given, topology: await withTableSources(given.topology, given.connections) };
  const [state, mariadb, connect] = await Promise.all([
    observeMesh(access),
    observeMariadbMesh(access),
    observeConnectMesh(access),
  ]);
  const mysqlRemotes = await readMysqlRemotes(access, mariadb);
  const plan = await planFromState(access, state, fromPhase, mysqlRemotes);
  addMariadbPlans(access, plan, mariadb, fromPhase);
  addConnectPlans(access, plan, state, mariadb, connect, fromPhase);
  plan.roundTrips = access.connections.roundTrips - before;
  return plan;
}

export async function planFromState(
  access: MeshAccess,
  state: MeshState,
  fromPhase: Phase,
  mysqlRemotes: ReadonlyMap<number, MysqlRemote> = new Map(),
): Promise<Plan> {
  const t = access.topology;
  const byNode = new Map<string, NodePlan>(
    [...t.nodes.keys()].map((n) => [n, { node: n, steps: [], problems: [] }]),
  );
  const add = (r: { steps: Step[]; problems: Problem[] }) => {
    for (const s of r.steps) byNode.get(s.node)?.steps.push(s);
    for (const p of r.problems) byNode.get(p.node)?.problems.push(p);
  };
  const linksFrom = (node: string, db: string) =>
    t.links.filter((l) => l.from.node === node && l.from.database === db);

  // Server-level diffs check passwords against SCRAM verifiers (PBKDF2): all nodes at once.
  const serverSteps = new Map(
    await Promise.all(
      [...state]
        .filter(([, ns]) => ns.server && fromPhase <= 1)
        .map(
          async ([name, ns]) =>
            [name, await planServer(access, t.nodes.get(name)!, ns.server!)] as const,
        ),
    ),
  );
  add({ steps: [], problems: unsupportedSharding(t) });
  // Phases 1 and 2 first for every node: phase 3 defers when a remote database still changes.
  for (const [name, ns] of state) {
    if (!ns.server) {
      const e = ns.error;
      add({
        steps: [],
        problems: [
          {
            node: name,
            message: e?.message ?? `node ${name} could not be read`,
            hint: e?.hint ?? "",
          },
        ],
      });
      continue;
    }
    const server = ns.server;
    const serverPlan = serverSteps.get(name);
    if (serverPlan) add({ steps: serverPlan.steps, problems: serverPlan.problems });
    for (const db of t.databases.filter((d) => d.node === name)) {
      const have = ns.databases.get(db.name) ?? emptyDatabase;
      const links = linksFrom(name, db.name);
      if (fromPhase <= 2)
        add({ steps: planDatabase(access, db, server, ns.databases.get(db.name)), problems: [] });
      const extensions = [...links.map(extensionOf), ...shardingExtensions(t, name, db.name)];
      for (const ext of new Set(extensions)) {
        if (have.extensions.has(ext)) continue;
        if (!server.availableExtensions.has(ext)) {
          add({
            steps: [],
            problems: [
              {
                node: name,
                message: `extension ${ext} is not available on node ${name} (PostgreSQL ${server.version})`,
                hint:
                  ext === "mysql_fdw"
                    ? mysqlFdwMissingHint(server.version)
                    : "use binaries: embedded (it ships dblink and postgres_fdw) or install the server's contrib package",
              },
            ],
          });
        } else if (fromPhase <= 2) {
          add({
            steps: [
              {
                node: name,
                database: db.name,
                phase: 2,
                summary: `create extension ${ext}`,
                sql: [createExtension(ext)],
                transaction: true,
              },
            ],
            problems: [],
          });
        }
      }
      // Planned in every pass for their problems (apply reports the last pass's); their
      // steps only from the pass's phase on.
      const observed = ns.sharding?.get(db.name);
      for (const r of [
        ...links.map((link) => planLinkSetup(t, link, have, access.prune)),
        planShardTables(t, name, db.name, have, observed),
        planCoordinator(t, name, db.name, have, observed),
        planReferenceSource(t, name, db.name, have, observed, access.prune),
        planReferenceCopies(t, name, db.name, have, observed, access.prune),
      ])
        add({ steps: r.steps.filter((s) => s.phase >= fromPhase), problems: r.problems });
    }
  }
  for (const [name, ns] of state) {
    if (!ns.server) continue;
    for (const db of t.databases.filter((d) => d.node === name)) {
      const have = ns.databases.get(db.name) ?? emptyDatabase;
      if (access.prune) add({ steps: planPrune(t, db, have), problems: [] });
      for (const link of linksFrom(name, db.name)) {
        if (link.via === "mysql_fdw") {
          const remote = mysqlRemotes.get(link.index);
          if (remote) add(planMysqlImport(link, have, remote, access.prune));
          continue;
        }
        const remote = remoteCatalog(state, byNode, link.to.node, link.to.database);
        if ("error" in remote) {
          // One problem for the link, not one per table it exposes.
          const problem = {
            node: link.from.node,
            message: `links[${link.index}]: cannot read ${link.to.node}/${link.to.database}: ${remote.error}`,
            hint: `bring ${link.to.node} up, then run apply again`,
          };
          add({ steps: [], problems: [problem] });
          continue;
        }
        add(planDblinkViews(link, have, remote));
        add(planFdwImport(link, have, remote, access.prune));
        add(planCopies(link, have, remote));
      }
    }
    add({ steps: serverSteps.get(name)?.roleDrops ?? [], problems: [] });
  }
  return { nodes: [...byNode.values()], roundTrips: 0 };
}

/** What is known of a remote database, given the steps already planned for it. */
function remoteCatalog(
  state: MeshState,
  plans: Map<string, NodePlan>,
  node: string,
  database: string,
): RemoteCatalog | { error: string } {
  const ns = state.get(node);
  if (!ns?.server) return { error: ns?.error?.message ?? `node ${node} is not in this plan` };
  const content: ObservedDatabaseContent | undefined = ns.databases.get(database);
  const pending = (plans.get(node)?.steps ?? []).some(
    (s) => s.shapesTables && s.database === database,
  );
  return { content, pending };
}

import { primaryOf, secretValue, type Topology } from "../topology/index.js";
import { type CheckResult, fail, failWith, pass, timed } from "./check.js";
import { tcpConnect } from "./reachability.js";
import { connectRouter, httpGet } from "./router-console.js";

/**
 * The router of a file with a router section: it listens, its metrics endpoint answers (when
 * configured), and a SELECT 1 goes through it to each database it serves, as the owner.
 */
export async function checkRouter(t: Topology): Promise<CheckResult[]> {
  const r = t.router;
  if (!r) return [];
  const reachable = await checkRouterReachable(t);
  if (!reachable.ok) return [reachable];
  const results = [reachable];
  if (r.metrics) results.push(await checkRouterMetrics(t));
  // One database at a time: each opens a client and, on the router, a server connection.
  for (const d of routedDatabases(t)) results.push(await checkRouterRoundTrip(t, d));
  return results;
}

/** Databases the router serves: those on PostgreSQL nodes (the key clients name, the pool). */
function routedDatabases(
  t: Topology,
): { key: string; name: string; owner: string; pool: string }[] {
  return t.databases
    .filter((d) => t.nodes.get(d.node)?.engine === "postgres")
    .map((d) => {
      const group = t.nodes.get(d.node)!.group;
      // After promotions the group's primary is the member that streams from nobody.
      const primary =
        [...t.nodes.values()].find((n) => n.group === group && !n.standby)?.name ??
        primaryOf(t, d.node);
      return { key: d.key, name: d.name, owner: d.owner, pool: `${primary}/${d.name}/${d.owner}` };
    });
}

function subject(t: Topology): string {
  return `router ${t.router!.host}:${t.router!.port}`;
}

async function checkRouterReachable(t: Topology): Promise<CheckResult> {
  const { host, port } = t.router!;
  try {
    const [, ms] = await timed(() => tcpConnect(host, port));
    return pass("router", subject(t), `TCP ${host}:${port} accepts connections`, ms);
  } catch (e) {
    const code = (e as { code?: string }).code ?? (e as Error).message;
    return fail(
      "router",
      subject(t),
      `TCP ${host}:${port}: ${code}`,
      code === "ECONNREFUSED"
        ? `the router is not running (nothing listens on ${host}:${port})`
        : `the router is not running or not reachable (no answer from ${host}:${port})`,
      `start it: dbmesh serve -f ${t.file}`,
    );
  }
}

async function checkRouterMetrics(t: Topology): Promise<CheckResult> {
  const { host, port } = t.router!.metrics!;
  const at = `http://${host}:${port}/metrics`;
  try {
    const [res, ms] = await timed(() => httpGet(host, port, "/metrics"));
    if (res.status === 200 && /^# TYPE dbmesh_router_/m.test(res.body)) {
      return pass("metrics", subject(t), `${at} answers`, ms);
    }
    return fail(
      "metrics",
      subject(t),
      `${at}: HTTP ${res.status}`,
      `something other than the dbmesh router answers on ${host}:${port}`,
      `free ${host}:${port} or change router.metrics, then restart dbmesh serve -f ${t.file}`,
    );
  } catch (e) {
    const code = (e as { code?: string }).code ?? (e as Error).message;
    return fail(
      "metrics",
      subject(t),
      `${at}: ${code}`,
      `the metrics endpoint does not answer (the router listens, so it runs without router.metrics: started before it was added?)`,
      `restart the router: dbmesh serve -f ${t.file}`,
    );
  }
}

async function checkRouterRoundTrip(
  t: Topology,
  d: { key: string; name: string; owner: string; pool: string },
): Promise<CheckResult> {
  const what = `${subject(t)} → ${d.key} as ${d.owner}`;
  const role = t.roles.get(d.owner);
  if (!role) return pass("routed", what, "the owner is not a declared role; skipped");
  let password: string;
  try {
    password = secretValue(t, role.password);
  } catch (e) {
    return failWith("routed", what, "the owner's password cannot be read", e, "set it");
  }
  try {
    const [, ms] = await timed(async () => {
      const c = await connectRouter(t, d.key, { user: d.owner, password });
      try {
        await c.query("SELECT 1");
      } finally {
        await c.end().catch(() => {});
      }
    });
    return pass("routed", what, `SELECT 1 through pool ${d.pool}`, ms);
  } catch (e) {
    const err = e as { message?: string; code?: string; hint?: string };
    return fail(
      "routed",
      what,
      `SELECT 1 through pool ${d.pool} failed${err.code ? ` (${err.code})` : ""}`,
      err.message ?? String(e),
      err.hint ??
        `look at the pool in SHOW POOLS / SHOW SERVERS (psql -d dbmesh -p ${t.router!.port}) and run dbmesh doctor for node ${d.pool.split("/")[0]}`,
    );
  }
}

import { type Stats, unwatchFile, watchFile } from "node:fs";
import { classifierRouting, Router, routerConfig } from "../../router/index.js";
import type { Topology } from "../../topology/index.js";
import { type Args, UsageError } from "../args.js";
import { loadFromArgs, primariesFile } from "../mesh.js";
import type { Output } from "../output.js";

/** The router of a file with a router section, listening. */
export async function startRouter(
  t: Topology,
  log: (line: string) => void,
): Promise<{ router: Router; address: { host: string; port: number } }> {
  const config = routerConfig(t);
  // Reads to standbys, writes to the primary the health checks confirm; see classifier-routing.
  const routing = await classifierRouting(config, { log });
  const r = t.router!;
  const router = new Router(config, {
    log,
    routing,
    metrics: r.metrics,
    serverIdleTimeout: r.serverIdleTimeout,
    maxPreparedStatements: r.maxPreparedStatements,
    messageTimeout: r.messageTimeout,
  });
  return { router, address: await router.start() };
}

/**
 * `dbmesh serve`: the router on router.listen until SIGINT or SIGTERM. SIGHUP reloads the file,
 * and a promotion (a new .dbmesh/primaries.json) is followed, without dropping clients.
 */
export async function serveCommand(args: Args, out: Output): Promise<number> {
  const t = loadFromArgs(args);
  if (!t.router) {
    throw new UsageError(
      `${t.file} has no router section; add e.g. router: { listen: 127.0.0.1:6432 }`,
    );
  }
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const { router, address } = await startRouter(t, log);
  const databases = [...router.config.databases.values()]
    .map(
      (d) =>
        `${d.key} → ${d.primary.name}${d.standbys.length ? ` (+${d.standbys.length} standbys)` : ""}`,
    )
    .join(", ");
  const metrics = router.metricsBound();
  out.line(
    `dbmesh router listening on ${address.host}:${address.port} (${router.config.mode} mode, poolSize ${router.config.poolSize}); databases: ${databases || "none"}${metrics ? `; metrics on http://${metrics.host}:${metrics.port}/metrics` : ""}`,
  );
  out.data({
    listen: address,
    mode: router.config.mode,
    databases: [...router.config.databases.keys()],
  });

  const reload = (why: string) => {
    let next: Topology;
    try {
      next = loadFromArgs(args);
      if (!next.router) throw new Error("the router section was removed");
      router.reload(routerConfig(next, router.config));
    } catch (e) {
      log(`reload (${why}) failed, keeping the running configuration: ${(e as Error).message}`);
      return;
    }
    log(`reloaded (${why})`);
  };
  const primaries = primariesFile(t);
  const onPrimaries = (now: Stats, before: Stats) => {
    if (now.mtimeMs !== before.mtimeMs) reload("primaries changed");
  };
  watchFile(primaries, { interval: Math.max(100, t.router.healthInterval * 1000) }, onPrimaries);
  const onHup = () => reload("SIGHUP");
  process.on("SIGHUP", onHup);

  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      process.removeListener("SIGINT", onInt);
      process.removeListener("SIGTERM", onTerm);
      process.removeListener("SIGHUP", onHup);
      unwatchFile(primaries, onPrimaries);
      log(`${signal}: closing clients and server connections`);
      router.stop().then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    const onInt = () => stop("SIGINT");
    const onTerm = () => stop("SIGTERM");
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
  });
}

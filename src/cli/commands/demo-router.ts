import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { type Router, routerConfig } from "../../router/index.js";
import { secretValue, type Topology } from "../../topology/index.js";
import type { Output } from "../output.js";
import { formatTable } from "../table.js";

/** A client of the router as the application: role `shop`, database `shop`. */
async function appClient(t: Topology): Promise<pg.Client> {
  const client = new pg.Client({
    host: t.router!.host,
    port: t.router!.port,
    user: "shop",
    database: "shop",
    password: secretValue(t, t.roles.get("shop")!.password),
  });
  client.on("error", () => {});
  await client.connect();
  return client;
}

function nodeByPort(t: Topology): Map<number, string> {
  return new Map([...t.nodes.values()].map((n) => [n.port, n.name]));
}

/**
 * Reads through the router, counted by the node that answered; a write and the read right
 * after it (read-your-writes).
 */
export async function showRouting(t: Topology, out: Output): Promise<void> {
  const names = nodeByPort(t);
  const client = await appClient(t);
  try {
    const reads = new Map<string, number>();
    for (let i = 0; i < 40; i++) {
      const r = await client.query<{ port: number }>("SELECT inet_server_port() AS port");
      const node = names.get(r.rows[0]!.port) ?? String(r.rows[0]!.port);
      reads.set(node, (reads.get(node) ?? 0) + 1);
    }
    out.line(`\n== 40 reads through the router on ${t.router!.host}:${t.router!.port}`);
    out.line(
      formatTable(
        ["node", "capacity", "reads"],
        [...t.nodes.values()].map((n) => [n.name, n.capacity, reads.get(n.name) ?? 0]),
      ),
    );
    const w = await client.query<{ port: number }>(
      "INSERT INTO sales.orders (customer, amount) VALUES ('via the router', 7) RETURNING inet_server_port() AS port",
    );
    const seen = await client.query<{ port: number; n: string }>(
      "SELECT inet_server_port() AS port, count(*) AS n FROM sales.orders WHERE customer = 'via the router'",
    );
    out.line(
      `a write went to ${names.get(w.rows[0]!.port)}; the read right after it ran on ${names.get(seen.rows[0]!.port)} and saw ${seen.rows[0]!.n} such row(s)`,
    );
  } finally {
    await client.end();
  }
}

/** After a promotion: the router is told, and the next write goes to the new primary. */
export async function writeAfterFailover(
  t: Topology,
  router: Router,
  out: Output,
): Promise<number> {
  const names = nodeByPort(t);
  router.reload(routerConfig(t, router.config));
  let last = "";
  // The health checks confirm the new primary within a few intervals.
  for (let i = 0; i < 50; i++) {
    const client = await appClient(t);
    try {
      const r = await client.query<{ port: number }>(
        "INSERT INTO sales.orders (customer, amount) VALUES ('via the router, after failover', 8) RETURNING inet_server_port() AS port",
      );
      out.line(
        `\n== Through the same router address, the write now went to ${names.get(r.rows[0]!.port)}`,
      );
      return 0;
    } catch (e) {
      last = (e as Error).message;
    } finally {
      await client.end();
    }
    await sleep(200);
  }
  out.line(`\nthe router did not reach the new primary: ${last}`);
  return 1;
}

import { nodeProcess } from "../../cluster/index.js";
import { probeRouter, type RouterProbe } from "../../doctor/index.js";
import { observeReplication, observeServer, type ReplicationState } from "../../pgadmin/index.js";
import { maintenanceDb } from "../../provision/index.js";
import { type ShardStatus, shardStatus } from "../../sharding/index.js";
import type { Args } from "../args.js";
import { connectionsFor, loadFromArgs, localNode } from "../mesh.js";
import type { Output } from "../output.js";
import { formatTable } from "../table.js";
import { mariadbNodeStatus } from "./status-mariadb.js";

export interface NodeStatus {
  node: string;
  state: "up" | "down";
  managed: boolean;
  address: string;
  version: string | null;
  pid: number | null;
  databases: { name: string; present: boolean }[];
  replication: ReplicationState | null;
  error: string | null;
}

/**
 * Each node: up or down, version, address, declared databases; each link: its server; the
 * router (when the file has one): listening or not, and its pools as its admin console reports.
 */
export async function statusCommand(args: Args, out: Output): Promise<number> {
  const t = loadFromArgs(args);
  const conns = connectionsFor(t);
  try {
    const nodes = await Promise.all(
      [...t.nodes.values()].map(async (n): Promise<NodeStatus> => {
        if (n.engine === "mariadb") return mariadbNodeStatus(t, n, conns.mariadb);
        const proc = n.managed ? await nodeProcess(localNode(t, n)) : undefined;
        const declared = t.databases.filter((d) => d.node === n.name);
        try {
          const session = await conns.session(n.name, maintenanceDb);
          const server = await observeServer(session);
          const replication = await observeReplication(session);
          return {
            node: n.name,
            state: "up",
            managed: n.managed,
            address: `${n.host}:${n.port}`,
            version: server.version,
            pid: proc?.pid ?? null,
            databases: declared.map((d) => ({
              name: d.name,
              present: server.databases.has(d.name),
            })),
            replication,
            error: null,
          };
        } catch (e) {
          return {
            node: n.name,
            state: "down",
            managed: n.managed,
            address: `${n.host}:${n.port}`,
            version: null,
            pid: proc?.pid ?? null,
            databases: declared.map((d) => ({ name: d.name, present: false })),
            replication: null,
            error: (e as Error).message,
          };
        }
      }),
    );
    const links = await Promise.all(
      t.links.map(async (l) => {
        let server: "present" | "missing" | "unknown" = "unknown";
        let objects = 0;
        try {
          if (t.nodes.get(l.from.node)?.engine === "mariadb") {
            // A MariaDB link is its CONNECT or FederatedX tables in the import's database.
            const s = await conns.mariadb.session(l.from.node);
            const [row] = await s.query<{ n: number }>(
              "SELECT count(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND ENGINE IN ('CONNECT', 'FEDERATED')",
              [l.import?.into ?? l.from.database],
            );
            objects = Number(row?.n ?? 0);
            server = objects ? "present" : "missing";
          } else {
            const s = await conns.session(l.from.node, l.from.database);
            const [row] = await s.query<{ n: number }>(
              `SELECT
                    (SELECT count(*)::int FROM pg_foreign_table f WHERE f.ftserver = s.oid) AS n
             FROM pg_foreign_server s WHERE s.srvname = $1`,
              [l.server],
            );
            server = row ? "present" : "missing";
            objects = row?.n ?? 0;
          }
        } catch {
          server = "unknown";
        }
        return {
          link: l.index,
          from: `${l.from.node}/${l.from.database}`,
          to: `${l.to.node}/${l.to.database}`,
          via: l.via,
          server: l.server,
          state: server,
          foreignTables: objects,
        };
      }),
    );
    const router = t.router ? await probeRouter(t) : null;
    const shards = await shardStatus(t, conns);
    out.data({ nodes, links, shards, router });
    out.line(
      formatTable(
        [
          "node",
          "state",
          "role",
          "timeline",
          "system id",
          "address",
          "version",
          "managed",
          "databases",
        ],
        nodes.map((n) => [
          n.node,
          n.state,
          n.replication?.role ?? "",
          n.replication?.timeline ?? "",
          n.replication?.systemId ?? "",
          n.address,
          n.version ?? "",
          n.managed ? "yes" : "no",
          n.databases.map((d) => `${d.name}${d.present ? "" : " (missing)"}`).join(", "),
        ]),
      ),
    );
    for (const n of nodes) if (n.error) out.line(`${n.node}: ${n.error}`);
    const streams = nodes.flatMap((n) =>
      (n.replication?.standbys ?? []).map((sb) => ({ upstream: n.node, ...sb })),
    );
    if (streams.length) {
      out.line("");
      out.line(
        formatTable(
          [
            "upstream",
            "standby",
            "state",
            "sync",
            "sent",
            "write",
            "flush",
            "replay",
            "lag bytes",
            "lag s",
          ],
          streams.map((r) => [
            r.upstream,
            r.name,
            r.state,
            r.syncState,
            r.sentLsn,
            r.writeLsn,
            r.flushLsn,
            r.replayLsn,
            r.lagBytes,
            r.replayLagSeconds ?? 0,
          ]),
        ),
      );
    }
    const slots = nodes.flatMap((n) =>
      (n.replication?.slots ?? []).map((sl) => ({ node: n.node, ...sl })),
    );
    if (slots.length) {
      out.line("");
      out.line(
        formatTable(
          ["node", "slot", "active", "retained WAL bytes"],
          slots.map((sl) => [sl.node, sl.name, sl.active ? "yes" : "no", sl.retainedBytes]),
        ),
      );
    }
    if (links.length) {
      out.line("");
      out.line(
        formatTable(
          ["link", "from", "to", "via", "server", "state", "foreign tables"],
          links.map((l) => [l.link, l.from, l.to, l.via, l.server, l.state, l.foreignTables]),
        ),
      );
    }
    if (shards.length) printShards(out, shards);
    if (router) printRouter(out, router);
    return nodes.every((n) => n.state === "up") ? 0 : 1;
  } finally {
    await conns.closeAll();
  }
}

function printShards(out: Output, shards: readonly ShardStatus[]): void {
  out.line("");
  out.line(
    formatTable(
      ["sharded table", "shard", "holds", "node", "state", "rows", "size"],
      shards.map((s) => [
        s.table,
        s.shard,
        s.holds,
        `${s.node}/${s.database}`,
        s.state,
        s.rows ?? "",
        s.size ?? "",
      ]),
    ),
  );
  for (const s of shards) if (s.error) out.line(`${s.shard} on ${s.node}: ${s.error}`);
}

function printRouter(out: Output, r: RouterProbe): void {
  out.line("");
  const clients = r.clients
    ? Object.entries(r.clients)
        .map(([state, n]) => `${n} ${state}`)
        .join(", ") || "none"
    : "";
  const servers = r.servers
    ? Object.entries(r.servers)
        .map(([state, n]) => `${n} ${state}`)
        .join(", ") || "none"
    : "";
  out.line(
    formatTable(
      ["router", "state", "mode", "metrics", "clients", "server connections"],
      [[r.listen, r.state, r.mode, r.metrics ?? "", clients, servers]],
    ),
  );
  if (r.error) out.line(`router: ${r.error}`);
  if (r.pools?.length) {
    out.line("");
    out.line(
      formatTable(
        [
          "pool",
          "cl active",
          "cl waiting",
          "sv active",
          "sv idle",
          "sv total",
          "size",
          "lends",
          "waits",
          "wait ms",
          "timeouts",
          "connect failures",
        ],
        r.pools.map((p) => [
          `${p.node}/${p.database}/${p.user}`,
          p.clActive,
          p.clWaiting,
          p.svActive,
          p.svIdle,
          p.svTotal,
          p.poolSize,
          p.lends,
          p.waits,
          p.waitMs,
          p.timeouts,
          p.connectFailures,
        ]),
      ),
    );
  }
}

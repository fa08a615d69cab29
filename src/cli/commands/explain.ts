import type pg from "pg";
import { asPostgresFdwPlan, type MysqlForeignTable } from "../../links/mysql-fdw-explain.js";
import { connectAs, PgAdminError, setRole, statementError } from "../../pgadmin/index.js";
import { maintenanceDb } from "../../provision/index.js";
import {
  explainPlan,
  type ForeignTableRow,
  foreignTablesSql,
  type PartitionRow,
  type PlanReport,
  partitionsSql,
  shardServers,
} from "../../sharding/index.js";
import type { Topology } from "../../topology/index.js";
import { type Args, UsageError } from "../args.js";
import { adminCredentials, loadFromArgs } from "../mesh.js";
import type { Output } from "../output.js";

const usageText = 'usage: dbmesh explain [NODE[/DB]] "SQL" [--analyze] [--json]';

/**
 * `dbmesh explain [NODE[/DB]] SQL`: EXPLAIN (VERBOSE, FORMAT JSON) on a database that reads
 * other nodes through postgres_fdw or mysql_fdw, reported as which nodes the query touches,
 * what each remote query does and what is left to do here. Runs as the role that owns the
 * database's postgres_fdw or mysql_fdw link (its user mapping is what the query would use), in
 * a transaction that is rolled back — so `--analyze` (ANALYZE, BUFFERS) changes nothing.
 */
export async function explainCommand(args: Args, out: Output): Promise<number> {
  const t = loadFromArgs(args);
  const [first, ...rest] = args.positional;
  if (!first) throw new UsageError(usageText);
  // NODE/DB, or a known NODE, before the SQL; otherwise every word is SQL (unquoted on the shell).
  const named = rest.length > 0 && (/^[^\s/]+\/[^\s/]+$/.test(first) || t.nodes.has(first));
  const [target, text] = named ? [first, rest.join(" ")] : [undefined, args.positional.join(" ")];
  if (!text.trim()) throw new UsageError(usageText);
  const { node, database } = resolveTarget(t, target);
  // A sharding coordinator's user mappings are its database owner's.
  const role =
    t.links.find((l) => l.via !== "dblink" && l.from.node === node && l.from.database === database)
      ?.owner ??
    (t.sharded.some((s) => s.coordinator.node === node && s.coordinator.database === database)
      ? t.databases.find((d) => d.node === node && d.name === database)?.owner
      : undefined);
  const serverNodes = new Map([
    ...t.links
      .filter((l) => l.from.node === node && l.from.database === database)
      .map((l) => [l.server, l.to.node] as const),
    ...[...shardServers(t, node, database)].map(([name, e]) => [name, e.node] as const),
  ]);
  const analyze = args.flags.has("--analyze");
  const options = analyze ? "ANALYZE, BUFFERS, VERBOSE, FORMAT JSON" : "VERBOSE, FORMAT JSON";
  const explain = `EXPLAIN (${options}) ${text}`;

  const mesh = t.nodes.get(node)!;
  const { user, password } = await adminCredentials(t, mesh);
  const client = await connectAs({
    node,
    host: mesh.host,
    port: mesh.port,
    database,
    user,
    password,
  });
  let report: PlanReport;
  try {
    const run = async <R extends object>(sql: string) => {
      try {
        // The extended protocol takes exactly one statement: text after a `;` is refused,
        // never run (https://www.postgresql.org/docs/17/protocol-flow.html#PROTOCOL-FLOW-EXT-QUERY).
        return (await client.query<R>({ text: sql, queryMode: "extended" } as pg.QueryConfig)).rows;
      } catch (e) {
        const err = statementError(e, node, database, sql);
        throw new PgAdminError(
          err.kind,
          node,
          err.message,
          (e as { hint?: string }).hint ??
            "explain takes one statement that PostgreSQL can EXPLAIN",
          err.extra,
        );
      }
    };
    await run("BEGIN");
    try {
      if (role) await run(setRole(role));
      // mysql_fdw tables name their MariaDB database in dbname, not schema_name.
      const rows = await run<ForeignTableRow & { mysql_dbname: string | null }>(foreignTablesSql);
      const mysqlTables: MysqlForeignTable[] = [];
      const foreignTables = rows.map(({ mysql_dbname: dbname, ...f }): ForeignTableRow => {
        if (dbname === null) return f;
        mysqlTables.push({ ...f, dbname });
        return { ...f, remote_schema: dbname };
      });
      const partitions = await run<PartitionRow>(partitionsSql);
      const [row] = await run<{ "QUERY PLAN": unknown }>(explain);
      report = explainPlan(asPostgresFdwPlan(row?.["QUERY PLAN"], mysqlTables), {
        foreignTables,
        partitions,
        serverNodes,
      });
    } finally {
      await client.query("ROLLBACK").catch(() => {});
    }
  } finally {
    await client.end().catch(() => {});
  }

  out.data({ node, database, role: role ?? user, analyze, sql: text, ...report });
  out.line(
    `EXPLAIN (${analyze ? "ANALYZE, " : ""}VERBOSE) on ${node}/${database} as ${role ?? user}${analyze ? ", rolled back" : ""}`,
  );
  for (const s of report.says) out.line(s);
  report.remote.forEach((r, i) => {
    out.line(`remote query ${i + 1}: ${r.says[0]}`);
    out.line(`  Remote SQL: ${r.remoteSql}`);
    for (const s of r.says.slice(1)) if (!report.says.includes(s)) out.line(`  ${s}`);
    if (r.actualRows !== undefined) out.line(`  actual rows: ${r.actualRows}`);
  });
  return 0;
}

/**
 * NODE[/DB] as given, or the one database that reads others through postgres_fdw: a link's
 * local end or a sharded table's coordinator.
 */
function resolveTarget(
  t: Topology,
  target: string | undefined,
): { node: string; database: string } {
  const fdwFrom = [
    ...new Set([
      ...t.links.filter((l) => l.via !== "dblink").map((l) => `${l.from.node}/${l.from.database}`),
      ...t.sharded.map((s) => `${s.coordinator.node}/${s.coordinator.database}`),
    ]),
  ];
  if (target === undefined) {
    if (fdwFrom.length === 1) {
      const [node = "", database = ""] = fdwFrom[0]!.split("/");
      return { node, database };
    }
    throw new UsageError(
      fdwFrom.length === 0
        ? `no postgres_fdw link or sharded table in the file: name the database, ${usageText}`
        : `more than one database reads others through postgres_fdw: name one of ${fdwFrom.join(", ")}\n${usageText}`,
    );
  }
  const [node = "", db] = target.split("/");
  if (!t.nodes.has(node))
    throw new UsageError(
      `unknown node ${node}; nodes: ${[...t.nodes.keys()].join(", ")}\n${usageText}`,
    );
  const database =
    db ??
    fdwFrom.find((f) => f.startsWith(`${node}/`))?.slice(node.length + 1) ??
    t.databases.find((d) => d.node === node)?.name ??
    maintenanceDb;
  return { node, database };
}

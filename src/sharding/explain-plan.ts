import type { ForeignTableRow, PartitionRow } from "./plan-catalog.js";

// Reads the output of EXPLAIN (VERBOSE, FORMAT JSON) for what crosses a postgres_fdw link.
// postgres_fdw shows what it ships in "Remote SQL" and, for a pushed-down join or aggregate,
// "Relations" (https://www.postgresql.org/docs/17/postgres-fdw.html#POSTGRES-FDW-REMOTE-QUERY-OPTIMIZATION);
// whatever the remote server does not do is a local plan node above the Foreign Scan, or the
// scan's own "Filter".

/** What the plan alone does not name: foreign tables' servers, partitions' parents, servers' nodes. */
export interface PlanContext {
  readonly foreignTables: readonly ForeignTableRow[];
  readonly partitions: readonly PartitionRow[];
  /** Foreign server name → dbmesh node (from the topology's links: `server` → `to.node`). */
  readonly serverNodes: ReadonlyMap<string, string>;
}

/** One table a remote part reads: as named here and on the remote server. */
export interface RemoteRelation {
  /** `schema.table` of the foreign table on this database. */
  readonly local: string;
  /** `schema.table` on the remote server, or undefined when the table is not a known foreign table. */
  readonly remote: string | undefined;
}

/** SQL clauses the remote server runs for this part. */
export interface Pushed {
  readonly where: boolean;
  readonly join: boolean;
  readonly aggregate: boolean;
  readonly orderBy: boolean;
  readonly limit: boolean;
}

/** Work done on this database on the rows of one remote part. */
export interface DoneLocally {
  /** The scan's own Filter: conditions PostgreSQL could not send. */
  readonly filter: string | undefined;
  /** Local joins above the part ("Hash Join", …). */
  readonly joins: readonly string[];
  readonly aggregate: boolean;
  readonly sort: boolean;
  readonly limit: boolean;
}

/** One Foreign Scan (or a non-direct foreign modify): one remote query per execution. */
export interface RemotePart {
  /** Foreign server, or undefined when no relation of the part is a known foreign table. */
  readonly server: string | undefined;
  /** dbmesh node behind the server, when a link of the topology creates it. */
  readonly node: string | undefined;
  readonly kind: "scan" | "join" | "aggregate" | "update" | "delete" | "insert";
  readonly relations: readonly RemoteRelation[];
  readonly remoteSql: string;
  readonly pushed: Pushed;
  readonly local: DoneLocally;
  /** The part reads every row of a remote table: no condition, join, aggregate or limit was sent. */
  readonly pullsWholeTable: boolean;
  /** Rows it returned (EXPLAIN ANALYZE only). */
  readonly actualRows: number | undefined;
  /** Plain-words sentences about this part. */
  readonly says: readonly string[];
}

/** Partitions of one partitioned table that the plan scans. */
export interface PartitionScan {
  /** `schema.table` of the partitioned parent. */
  readonly table: string;
  readonly total: number;
  readonly scanned: readonly { readonly partition: string; readonly node: string | undefined }[];
  /** Partitions removed when the executor started ("Subplans Removed"), not at planning. */
  readonly removedAtStart: number;
  readonly says: string;
}

export interface PlanReport {
  /** Nodes reached through foreign servers, in plan order (undefined node names skipped). */
  readonly nodes: readonly string[];
  readonly servers: readonly string[];
  readonly remote: readonly RemotePart[];
  readonly partitions: readonly PartitionScan[];
  readonly says: readonly string[];
}

/** A node of EXPLAIN's JSON; only the keys this reads. */
interface PlanNode {
  readonly "Node Type": string;
  readonly Operation?: string;
  readonly "Parent Relationship"?: string;
  readonly "Relation Name"?: string;
  readonly Schema?: string;
  readonly Relations?: string;
  readonly "Remote SQL"?: string;
  readonly Filter?: string;
  readonly "Join Filter"?: string;
  readonly "Subplans Removed"?: number;
  readonly "Async Capable"?: boolean;
  readonly "Actual Rows"?: number;
  readonly "Actual Loops"?: number;
  readonly Plans?: readonly PlanNode[];
}

const localJoins = new Set(["Hash Join", "Merge Join", "Nested Loop"]);
const localAggregates = new Set(["Aggregate", "Group", "WindowAgg"]);
const localSorts = new Set(["Sort", "Incremental Sort"]);

/** The report of one EXPLAIN (… FORMAT JSON) result: the array PostgreSQL returns. */
export function explainPlan(explainJson: unknown, ctx: PlanContext): PlanReport {
  const top = (Array.isArray(explainJson) ? explainJson[0] : explainJson) as
    | { Plan?: PlanNode }
    | undefined;
  if (!top?.Plan) throw new Error("not the output of EXPLAIN (FORMAT JSON): no Plan");
  const foreign = new Map(ctx.foreignTables.map((f) => [`${f.schema}.${f.table}`, f]));
  const parents = new Map(ctx.partitions.map((p) => [`${p.schema}.${p.table}`, p]));
  const nodeOf = (server: string | undefined) => server && ctx.serverNodes.get(server);

  const remote: RemotePart[] = [];
  const scanned: string[] = [];
  const removed = new Map<string, number>();

  const walk = (n: PlanNode, above: readonly PlanNode[]): void => {
    const rel = n.Schema && n["Relation Name"] ? `${n.Schema}.${n["Relation Name"]}` : undefined;
    if (rel && n["Node Type"] !== "ModifyTable") scanned.push(rel);
    if (n["Node Type"] === "Foreign Scan" && n["Remote SQL"] !== undefined) {
      remote.push(remotePart(n, above, foreign, nodeOf));
      if (!rel) scanned.push(...relationsOf(n.Relations ?? "").map((r) => r.name));
    } else if (n["Node Type"] === "ModifyTable" && n["Remote SQL"] !== undefined && rel) {
      // Not a direct modify: rows are fetched by the scan below, then changed one by one.
      const f = foreign.get(rel);
      const kind = (n.Operation ?? "update").toLowerCase() as RemotePart["kind"];
      remote.push({
        server: f?.server,
        node: nodeOf(f?.server) || undefined,
        kind,
        relations: [{ local: rel, remote: f && `${f.remote_schema}.${f.remote_table}` }],
        remoteSql: n["Remote SQL"],
        pushed: { where: false, join: false, aggregate: false, orderBy: false, limit: false },
        local: { filter: undefined, joins: [], aggregate: false, sort: false, limit: false },
        pullsWholeTable: false,
        actualRows: undefined,
        says: [
          `${kind === "insert" ? "inserts" : `${kind}s`} ${f ? `${f.remote_schema}.${f.remote_table}` : rel} on ${nodeOf(f?.server) || f?.server || "a foreign server"} one row per statement, for each row chosen here`,
        ],
      });
    }
    const removedHere = n["Subplans Removed"];
    if (removedHere) {
      const members = (n.Plans ?? []).flatMap((c) => scansUnder(c));
      const parent = members.map((m) => parents.get(m)).find(Boolean);
      if (parent) {
        const key = `${parent.parent_schema}.${parent.parent_table}`;
        removed.set(key, (removed.get(key) ?? 0) + removedHere);
      }
    }
    for (const child of n.Plans ?? []) {
      // An InitPlan or SubPlan is a query of its own: the nodes above it do not process its rows.
      const sub =
        child["Parent Relationship"] === "InitPlan" || child["Parent Relationship"] === "SubPlan";
      walk(child, sub ? [] : [n, ...above]);
    }
  };
  walk(top.Plan, []);

  const partitions = partitionScans(scanned, parents, removed, foreign, nodeOf);
  const servers = unique(remote.flatMap((r) => (r.server ? [r.server] : [])));
  const nodes = unique(remote.flatMap((r) => (r.node ? [r.node] : [])));
  const says: string[] = [];
  if (remote.length === 0) says.push("runs here only: no foreign table is read");
  else
    says.push(
      `touches ${servers.map((s) => (ctx.serverNodes.get(s) ? `${ctx.serverNodes.get(s)} (server ${s})` : `server ${s}`)).join(", ") || "foreign servers"} in ${remote.length} remote ${remote.length === 1 ? "query" : "queries"}`,
    );
  for (const r of remote) if (r.pullsWholeTable) says.push(r.says[r.says.length - 1]!);
  for (const p of partitions) says.push(p.says);
  return { nodes, servers, remote, partitions, says };
}

function remotePart(
  n: PlanNode,
  above: readonly PlanNode[],
  foreign: ReadonlyMap<string, ForeignTableRow>,
  nodeOf: (server: string | undefined) => string | undefined,
): RemotePart {
  const sql = n["Remote SQL"] ?? "";
  const clauses = withoutQuoted(sql);
  const rels: RemoteRelation[] =
    n.Schema && n["Relation Name"]
      ? [{ local: `${n.Schema}.${n["Relation Name"]}`, remote: undefined }]
      : relationsOf(n.Relations ?? "").map((r) => ({ local: r.name, remote: undefined }));
  const relations = rels.map((r) => {
    const f = foreign.get(r.local);
    return { local: r.local, remote: f && `${f.remote_schema}.${f.remote_table}` };
  });
  const server = relations.map((r) => foreign.get(r.local)?.server).find(Boolean);
  const node = nodeOf(server) || undefined;
  const operation = (n.Operation ?? "Select").toLowerCase();
  const isJoin = /\bJOIN\b/.test(n.Relations ?? "");
  const isAggregate = /^Aggregate on\b/.test(n.Relations ?? "");
  const kind: RemotePart["kind"] =
    operation !== "select"
      ? (operation as RemotePart["kind"])
      : isAggregate
        ? "aggregate"
        : isJoin
          ? "join"
          : "scan";
  const pushed: Pushed = {
    where: /\bWHERE\b/.test(clauses),
    join: isJoin,
    aggregate: isAggregate,
    orderBy: /\bORDER BY\b/.test(clauses),
    limit: /\bLIMIT\b/.test(clauses),
  };
  // Local work on these rows: every node above the scan, up to the statement's ModifyTable.
  const joins: string[] = [];
  let aggregate = false;
  let sort = false;
  let limit = false;
  for (const a of above) {
    const t = a["Node Type"];
    if (localJoins.has(t)) joins.push(t);
    else if (localAggregates.has(t)) aggregate = true;
    else if (localSorts.has(t)) sort = true;
    else if (t === "Limit") limit = true;
    else if (t === "ModifyTable") break;
  }
  const local: DoneLocally = { filter: n.Filter, joins, aggregate, sort, limit };
  const where = server ? (node ?? `server ${server}`) : "a foreign server";
  const names = relations.map((r) => r.remote ?? r.local);
  const what = names.join(" and ");
  const pullsWholeTable =
    operation === "select" && !pushed.where && !pushed.join && !pushed.aggregate && !pushed.limit;
  const sent = [
    pushed.join && "the join",
    pushed.where && "WHERE",
    pushed.aggregate && (/\bGROUP BY\b/.test(clauses) ? "GROUP BY and aggregates" : "aggregates"),
    pushed.orderBy && "ORDER BY",
    pushed.limit && "LIMIT",
  ].filter((x): x is string => Boolean(x));
  const here = [
    local.filter && `the condition ${local.filter}`,
    joins.length > 0 && `a join (${unique(joins).join(", ")})`,
    aggregate && !pushed.aggregate && "the aggregate",
    sort && !pushed.orderBy && "the sort",
    limit && !pushed.limit && "the LIMIT",
  ].filter((x): x is string => Boolean(x));
  const says: string[] = [];
  if (operation !== "select")
    says.push(
      `${operation}s ${what} on ${where} in one remote statement${pushed.where ? " with its WHERE" : ""}`,
    );
  else if (kind === "join") says.push(`joins ${what} on ${where}`);
  else if (kind === "aggregate") says.push(`aggregates ${what} on ${where}`);
  else says.push(`reads ${what} from ${where}`);
  says.push(`pushed down: ${sent.length ? sent.join(", ") : "nothing"}`);
  if (here.length) says.push(`done here: ${here.join("; ")}`);
  // async_capable: an Append starts this scan's remote query without waiting for the others
  // (https://www.postgresql.org/docs/17/postgres-fdw.html#POSTGRES-FDW-OPTIONS-ASYNCHRONOUS-EXECUTION).
  if (n["Async Capable"])
    says.push("runs concurrently with the other remote queries of its Append");
  if (pullsWholeTable)
    says.push(
      `pulls all rows of ${what} from ${where}: no condition was pushed down${local.filter ? ` (${local.filter} is evaluated here, on every row)` : ""}`,
    );
  const rows = n["Actual Rows"];
  return {
    server,
    node,
    kind,
    relations,
    remoteSql: sql,
    pushed,
    local,
    pullsWholeTable,
    actualRows: rows === undefined ? undefined : rows * (n["Actual Loops"] ?? 1),
    says,
  };
}

function partitionScans(
  scanned: readonly string[],
  parents: ReadonlyMap<string, PartitionRow>,
  removed: ReadonlyMap<string, number>,
  foreign: ReadonlyMap<string, ForeignTableRow>,
  nodeOf: (server: string | undefined) => string | undefined,
): PartitionScan[] {
  const byParent = new Map<string, { total: number; parts: string[] }>();
  for (const rel of scanned) {
    const p = parents.get(rel);
    if (!p) continue;
    const key = `${p.parent_schema}.${p.parent_table}`;
    const entry = byParent.get(key) ?? { total: p.partitions, parts: [] };
    if (!entry.parts.includes(rel)) entry.parts.push(rel);
    byParent.set(key, entry);
  }
  return [...byParent].map(([table, { total, parts }]) => {
    const scannedParts = parts.map((partition) => ({
      partition,
      node: nodeOf(foreign.get(partition)?.server) || undefined,
    }));
    const removedAtStart = removed.get(table) ?? 0;
    const list = scannedParts
      .map(
        (s) =>
          `${s.partition} (${s.node ?? (foreign.has(s.partition) ? `server ${foreign.get(s.partition)?.server}` : "local")})`,
      )
      .join(", ");
    const pruned = total - parts.length;
    return {
      table,
      total,
      scanned: scannedParts,
      removedAtStart,
      says:
        `scans ${parts.length} of ${total} partitions of ${table}: ${list}` +
        (pruned > 0
          ? removedAtStart > 0
            ? `; ${removedAtStart} removed when execution starts (Subplans Removed)${pruned > removedAtStart ? `, ${pruned - removedAtStart} at planning` : ""}`
            : `; ${pruned} pruned at planning`
          : "; no partition was pruned"),
    };
  });
}

/** Relations in a "Relations" text: `(s.t a) INNER JOIN (s.u b)`, `Aggregate on (s.t a)`. */
export function relationsOf(text: string): { name: string; alias: string | undefined }[] {
  return [...text.matchAll(/\(((?:"(?:[^"]|"")*"|[^()"])+)\)/g)].map((m) => {
    const [name = "", alias] = splitIdents(m[1]!.trim());
    return { name, alias };
  });
}

/** `"My Schema".tbl alias` → [`My Schema.tbl`, `alias`]: quoted identifiers unquoted. */
function splitIdents(s: string): string[] {
  const words: string[] = [];
  let cur = "";
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === '"') {
      const end = s.indexOf('"', i + 1) === -1 ? s.length : nextQuote(s, i + 1);
      cur += s.slice(i + 1, end).replaceAll('""', '"');
      i = end;
    } else if (ch === " ") {
      if (cur) words.push(cur);
      cur = "";
    } else cur += ch;
  }
  if (cur) words.push(cur);
  return words;
}

function nextQuote(s: string, from: number): number {
  for (let i = from; i < s.length; i++) {
    if (s[i] === '"') {
      if (s[i + 1] === '"') i++;
      else return i;
    }
  }
  return s.length;
}

/** The SQL with string literals and quoted identifiers blanked, so keywords inside them do not count. */
function withoutQuoted(sql: string): string {
  return sql.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"/g, "''");
}

function scansUnder(n: PlanNode): string[] {
  const here = n.Schema && n["Relation Name"] ? [`${n.Schema}.${n["Relation Name"]}`] : [];
  return [
    ...here,
    ...relationsOf(n.Relations ?? "").map((r) => r.name),
    ...(n.Plans ?? []).flatMap(scansUnder),
  ];
}

function unique<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}

import { databaseOn } from "./build-sharding.js";
import { parseColumnList } from "./column-list.js";
import type { Endpoint, MeshShardedTable, RangeBound, Topology } from "./model.js";
import type { TopologyFile } from "./schema.js";
import type { ShardedTableFile } from "./sharding-schema.js";
import type { TopologyIssue } from "./topology-error.js";
import { primaryOf } from "./validate-replication.js";
import { closest } from "./zod-issues.js";

type Path = (string | number)[];
type Issue = (path: Path, message: string, expected: string, hint: string) => void;

// Keys that mean nothing for a kind of table; reported at the key so the user removes it.
const NOT_FOR: Record<MeshShardedTable["kind"], readonly (keyof ShardedTableFile)[]> = {
  distributed: ["through", "replicateAs"],
  // A following table lives where its parent's rows live: placement and coordinator are the parent's.
  follows: [
    "coordinator",
    "key",
    "list",
    "hash",
    "range",
    "default",
    "database",
    "reference",
    "replicateAs",
  ],
  reference: ["key", "list", "hash", "range", "default", "database", "id", "through"],
};

/**
 * `sharded:` against the rest of the file: coordinators and shard nodes that exist and are
 * primaries (shards take writes), one placement per distributed table with ordered bounds,
 * key, id and through columns among the declared columns, follows: pointing at a
 * distributed table, and every table name used once per database.
 */
export function checkSharding(t: Topology, f: TopologyFile): TopologyIssue[] {
  const issues: TopologyIssue[] = [];
  const issue: Issue = (path, message, expected, hint) =>
    issues.push({ at: t.positionOf(path), message, expected, hint });
  const nodeNames = [...t.nodes.keys()];
  const byName = new Map(t.sharded.map((m) => [m.name, m]));

  /** A node that takes writes: declared and not a standby. */
  const writableNode = (path: Path, node: string, what: string): boolean => {
    const n = t.nodes.get(node);
    if (!n) {
      issue(
        path,
        `unknown ${what} node "${node}"`,
        `one of ${nodeNames.join(", ")}`,
        suggest(node, nodeNames, "declare it under nodes:"),
      );
      return false;
    }
    if (n.standby) {
      const primary = primaryOf(t, node);
      issue(
        path,
        `${what} node "${node}" is a standby of "${primary}"; writes must go to a primary`,
        `the primary "${primary}"`,
        `use ${primary}; its standbys replicate what it holds`,
      );
      return false;
    }
    return true;
  };

  const databaseExists = (path: Path, node: string, db: string, what: string, fix: string) => {
    if (databaseOn(t.databases, node, db) !== undefined) return;
    const known = t.databases.filter((d) => d.node === node);
    const close = closest(db, [...new Set(known.flatMap((d) => [d.name, d.key]))]);
    issue(
      path,
      `no database "${db}" on ${what} node "${node}"`,
      known.length
        ? `one of ${known.map((d) => `${node}/${d.name}`).join(", ")}`
        : `a database on ${node} under databases:`,
      close ? `did you mean "${close}"?` : fix,
    );
  };

  const checkCoordinator = (at: Path, name: string, raw: string | undefined, e: Endpoint) => {
    if (raw === undefined) {
      issue(
        at,
        `${name} has no coordinator`,
        "coordinator: node/database",
        "name the node and database that hold the table clients query",
      );
      return;
    }
    if (!writableNode([...at, "coordinator"], e.node, "coordinator")) return;
    databaseExists(
      [...at, "coordinator"],
      e.node,
      e.database,
      "coordinator",
      "declare it under databases:",
    );
  };

  for (const [name, s] of Object.entries(f.sharded)) {
    const m = byName.get(name)!;
    const at: Path = ["sharded", name];
    for (const k of NOT_FOR[m.kind]) {
      if (s[k] === undefined || (k === "reference" && s.reference === false)) continue;
      const kind = m.kind === "follows" ? "following" : m.kind;
      issue(
        [...at, k],
        `${k}: does not apply to ${kind} table ${name}`,
        m.kind === "follows"
          ? `follows:, through:, columns: or table:, id: (placement and coordinator are ${s.follows}'s)`
          : m.kind === "reference"
            ? "coordinator:, reference: true, columns: or table:"
            : "a following table's through:",
        `remove ${k}:`,
      );
    }
    const columns = checkSource(issue, at, name, s, m.kind);

    if (m.kind === "distributed") {
      checkCoordinator(at, name, s.coordinator, m.coordinator);
      checkColumn(issue, [...at, "key"], s.key, columns, name, "key", "key: COLUMN");
      checkPlacement(issue, t, at, name, s, m, writableNode, databaseExists);
      if (s.id) checkColumn(issue, [...at, "id", "column"], s.id.column, columns, name, "id", "");
    } else if (m.kind === "follows") {
      checkFollows(issue, at, name, m, byName);
      checkColumn(
        issue,
        [...at, "through"],
        s.through,
        columns,
        name,
        "through",
        "through: COLUMN",
      );
      if (s.id) checkColumn(issue, [...at, "id", "column"], s.id.column, columns, name, "id", "");
    } else {
      checkCoordinator(at, name, s.coordinator, m.coordinator);
      const joined = t.sharded.some(
        (d) =>
          d.kind === "distributed" &&
          d.coordinator.node === m.coordinator.node &&
          d.coordinator.database === m.coordinator.database,
      );
      if (!joined && s.coordinator !== undefined) {
        issue(
          [...at, "coordinator"],
          `reference table ${name} joins no distributed table: none has coordinator ${s.coordinator}`,
          `a distributed table with coordinator: ${s.coordinator}`,
          "give the reference table the coordinator of the tables it joins",
        );
      }
      if (m.kind === "reference" && s.coordinator !== undefined)
        checkReplicateAs(issue, t, at, name, s.replicateAs, m.coordinator.node);
    }
  }
  checkNames(issue, t);
  return issues;
}

/** Exactly one of columns: and table: (a reference table may omit both); the columns if given. */
function checkSource(
  issue: Issue,
  at: Path,
  name: string,
  s: ShardedTableFile,
  kind: MeshShardedTable["kind"],
): string[] | undefined {
  if (s.columns !== undefined && s.table !== undefined) {
    issue(
      [...at, "table"],
      `${name} has both columns: and table:`,
      "one of columns: or table:",
      "keep columns: to define the table here, or table: to copy an existing table's columns",
    );
  } else if (s.columns === undefined && s.table === undefined && kind !== "reference") {
    issue(
      at,
      `${name} has no columns`,
      'columns: "id bigint, …" or table: schema.table',
      "write its columns, or name an existing table on the coordinator with table:",
    );
  }
  if (s.columns === undefined) return undefined;
  const parsed = parseColumnList(s.columns);
  if (parsed.ok) return parsed.columns.map((c) => c.name);
  issue(
    [...at, "columns"],
    `cannot read the columns of ${name}: ${parsed.error}`,
    "column definitions as in CREATE TABLE, separated by commas",
    'e.g. "id bigint, location text, price numeric(10,2)"',
  );
  return undefined;
}

/** A column the table must have; checked only when columns: lists them. */
function checkColumn(
  issue: Issue,
  path: Path,
  column: string | undefined,
  columns: string[] | undefined,
  table: string,
  what: string,
  missing: string,
) {
  if (column === undefined) {
    if (missing) {
      issue(
        path.slice(0, -1),
        `${table} has no ${what}: column`,
        missing,
        what === "key"
          ? "name the column whose value chooses the shard"
          : "name the column that holds the followed row's id",
      );
    }
    return;
  }
  if (!columns || columns.includes(column)) return;
  const close = closest(column, columns);
  issue(
    path,
    `${what} "${column}" is not a column of ${table}`,
    `one of ${columns.join(", ")}`,
    close
      ? `did you mean "${close}"? (unquoted names in columns: are lower-cased)`
      : "add it to columns:",
  );
}

function checkPlacement(
  issue: Issue,
  t: Topology,
  at: Path,
  name: string,
  s: ShardedTableFile,
  m: MeshShardedTable & { kind: "distributed" },
  writableNode: (path: Path, node: string, what: string) => boolean,
  databaseExists: (path: Path, node: string, db: string, what: string, fix: string) => void,
) {
  const declared = (["list", "hash", "range"] as const).filter((k) => s[k] !== undefined);
  if (declared.length === 0) {
    issue(
      at,
      `${name} has no placement`,
      "one of list:, hash:, range:",
      "e.g. list: { paris: postgre2, lagos: postgre3 }",
    );
  }
  for (const extra of declared.slice(1)) {
    issue(
      [...at, extra],
      `${name} has more than one placement: ${declared[0]}: and ${extra}:`,
      "exactly one of list:, hash:, range:",
      `keep ${declared[0]}: or ${extra}:`,
    );
  }
  if (s.default !== undefined && s.list === undefined) {
    issue(
      [...at, "default"],
      "default: is for list placement",
      "list: { VALUE: NODE, … }",
      s.hash
        ? "remove default:; hash placement has a shard for every key"
        : "remove default:; a first range without from: or a last one without to: takes the rest",
    );
  }

  // Shard nodes, each at the place it is written.
  const nodes: [Path, string][] = [];
  if (s.list)
    for (const [v, node] of Object.entries(s.list)) nodes.push([[...at, "list", v], node]);
  if (s.list && s.default !== undefined) nodes.push([[...at, "default"], s.default]);
  s.hash?.nodes.forEach((node, i) => {
    nodes.push([[...at, "hash", "nodes", i], node]);
  });
  s.range?.forEach((r, i) => {
    nodes.push([[...at, "range", i, "node"], r.node]);
  });
  const checked = new Set<string>();
  for (const [path, node] of nodes) {
    if (checked.has(node)) continue;
    checked.add(node);
    if (!writableNode(path, node, "shard")) continue;
    const shard = m.shards.find((x) => x.node === node);
    // Shard databases default to the coordinator's name: check them once that one is right.
    const coordinatorOk =
      t.nodes.has(m.coordinator.node) &&
      databaseOn(t.databases, m.coordinator.node, m.coordinator.database) !== undefined;
    if (!shard || shard.local || !coordinatorOk) continue;
    databaseExists(
      path,
      node,
      s.database ?? shard.database,
      "shard",
      s.database === undefined
        ? `declare ${shard.database} on ${node} under databases: (the coordinator's database name), or set database:`
        : "declare it under databases:",
    );
  }

  if (s.hash) {
    const seen = new Set<string>();
    s.hash.nodes.forEach((node, i) => {
      if (seen.has(node)) {
        issue(
          [...at, "hash", "nodes", i],
          `node "${node}" is listed twice in hash.nodes`,
          "each node once",
          "shards are placed round-robin over the list; list each node once",
        );
      }
      seen.add(node);
    });
    if (s.hash.shards < seen.size) {
      issue(
        [...at, "hash", "shards"],
        `${s.hash.shards} shards on ${seen.size} nodes leave ${[...seen].slice(s.hash.shards).join(", ")} without a shard`,
        `at least ${seen.size} shards`,
        "raise shards or remove nodes",
      );
    }
  }

  if (s.range && m.placement.kind === "range") checkRanges(issue, at, s, m.placement.ranges);
}

function checkRanges(
  issue: Issue,
  at: Path,
  s: ShardedTableFile,
  ranges: readonly { from: RangeBound; to: RangeBound }[],
) {
  const raw = s.range!;
  const bounds = ranges.flatMap((r) => [r.from, r.to]).filter((b) => b !== null);
  if (new Set(bounds.map((b) => typeof b)).size > 1) {
    issue(
      [...at, "range"],
      "range bounds mix numbers and strings",
      "numbers, or strings of the key's type (dates, text)",
      "write every bound the same way; quote numbers only when the key is text",
    );
    return;
  }
  const show = (b: RangeBound, unbounded: string) => (b === null ? unbounded : JSON.stringify(b));
  const span = (i: number) =>
    `[${show(ranges[i]!.from, "MINVALUE")}, ${show(ranges[i]!.to, "MAXVALUE")})`;
  ranges.forEach((r, i) => {
    const here: Path = [...at, "range", i];
    if (r.to === null && i < ranges.length - 1) {
      issue(
        here,
        `range ${i} has no to: but is not the last range`,
        "to: BOUND",
        "only the last range runs to MAXVALUE",
      );
      return;
    }
    if (r.from !== null && r.to !== null && !less(r.from, r.to)) {
      issue(
        raw[i]!.from !== undefined ? [...here, "from"] : here,
        `range ${i} ${span(i)} is empty: from must be below to`,
        "from < to (from inclusive, to exclusive)",
        "swap the bounds, or list ranges in ascending order",
      );
      return;
    }
    const prev = ranges[i - 1];
    if (!prev || prev.to === null || r.from === null) {
      if (prev && r.from === null) {
        issue(
          here,
          `range ${i} starts at MINVALUE but is not the first range`,
          "from: BOUND",
          "only the first range may start at MINVALUE",
        );
      }
      return;
    }
    if (!less(r.from, prev.to) || r.from === prev.to) return;
    const before = prev.from !== null && r.to !== null && !less(prev.from, r.to);
    issue(
      [...here, "from"],
      before
        ? `range ${i} ${span(i)} comes before range ${i - 1} ${span(i - 1)}`
        : `range ${i} ${span(i)} overlaps range ${i - 1} ${span(i - 1)}`,
      "ranges in ascending order without overlap: each from at or above the previous to",
      before ? "list the ranges in ascending order" : `start it at ${JSON.stringify(prev.to)}`,
    );
  });
}

/**
 * Numbers compare as numbers; strings by code point, which orders ISO dates and timestamps
 * as PostgreSQL does. For text keys under a non-C collation the server has the last word:
 * CREATE TABLE … PARTITION OF refuses overlapping bounds.
 */
function less(a: string | number, b: string | number): boolean {
  return a < b;
}

function checkFollows(
  issue: Issue,
  at: Path,
  name: string,
  m: MeshShardedTable & { kind: "follows" },
  byName: ReadonlyMap<string, MeshShardedTable>,
) {
  const path = [...at, "follows"];
  const parent = byName.get(m.follows);
  const distributed = [...byName.values()].filter((x) => x.kind === "distributed");
  if (m.follows === name) {
    issue(path, `${name} follows itself`, "a distributed table", "follow the table it references");
  } else if (!parent) {
    issue(
      path,
      `${name} follows unknown table "${m.follows}"`,
      distributed.length
        ? `one of ${distributed.map((d) => d.name).join(", ")}`
        : "a distributed table under sharded:",
      suggest(
        m.follows,
        distributed.map((d) => d.name),
        "declare it under sharded:",
      ),
    );
  } else if (parent.kind === "follows") {
    const root = byName.get(parent.follows);
    const direct = root?.kind === "distributed" ? root.name : undefined;
    issue(
      path,
      `${name} follows "${parent.name}", which follows "${parent.follows}"`,
      "a distributed table (follows do not chain)",
      direct
        ? `follow "${direct}" directly: follows: ${direct}, through a column that holds its id`
        : "follow a distributed table directly",
    );
  } else if (parent.kind === "reference") {
    issue(
      path,
      `${name} follows reference table "${parent.name}", which has no key`,
      "a distributed table",
      "reference tables are copied whole to every shard node; join them instead",
    );
  } else {
    // through holds the parent's id: the parent must have that column (when its columns parse).
    const parentColumns =
      parent.source.kind === "columns" ? parent.source.columns.map((c) => c.name) : undefined;
    if (parentColumns?.length && !parentColumns.includes(m.references)) {
      issue(
        path,
        `${parent.name} has no column "${m.references}" for ${name}.through to reference`,
        `id: { column: … } on ${parent.name}, one of ${parentColumns.join(", ")}`,
        `set sharded.${parent.name}.id.column to its id column`,
      );
    }
  }
}

/**
 * A reference table's copies subscribe to the coordinator's publication as a role with
 * REPLICATION that exists there; its password is in the file, like every login.
 */
function checkReplicateAs(
  issue: Issue,
  t: Topology,
  at: Path,
  name: string,
  declared: string | undefined,
  coordinator: string,
) {
  const fit = [...t.roles.values()].filter((r) => r.replication && r.nodes.includes(coordinator));
  if (declared === undefined) {
    if (fit.length === 1) return;
    issue(
      at,
      fit.length
        ? `reference table ${name}: roles ${fit.map((r) => r.name).join(", ")} can all replicate from ${coordinator}`
        : `reference table ${name} is copied by logical replication from ${coordinator}, which has no role with replication: true`,
      fit.length ? "replicateAs: ROLE" : "a role with replication: true on the coordinator",
      fit.length
        ? `name one: sharded.${name}.replicateAs: ${fit[0]!.name}`
        : `declare one, e.g. roles: { ${name}_sync: { password: env:…, nodes: [${coordinator}], replication: true } }`,
    );
    return;
  }
  const role = t.roles.get(declared);
  if (!role?.replication || !role.nodes.includes(coordinator))
    issue(
      [...at, "replicateAs"],
      role
        ? `role ${declared} cannot replicate from ${coordinator}: ${role.replication ? `it is not on ${coordinator}` : "it has no replication: true"}`
        : `unknown role "${declared}"`,
      "a role with replication: true on the coordinator",
      role
        ? `set roles.${declared}.replication: true and list ${coordinator} in its nodes`
        : suggest(declared, [...t.roles.keys()], "declare it under roles:"),
    );
}

/** Every relation dbmesh creates or uses, per node/database: each name once. */
function checkNames(issue: Issue, t: Topology) {
  const owners = new Map<string, string>();
  for (const m of t.sharded) {
    const claims = new Map<string, string>();
    const claim = (node: string, db: string, table: string, what: string) => {
      if (!node) return;
      const k = `${node}/${db}\u0000${m.table.schema}.${table}`;
      if (!claims.has(k)) claims.set(k, what);
    };
    claim(m.coordinator.node, m.coordinator.database, m.table.table, `the table of ${m.name}`);
    for (const x of m.shards) {
      const what =
        m.kind === "reference" ? `the copy of ${m.name}` : `shard ${x.name} of ${m.name}`;
      claim(x.node, x.database, x.name, what);
      if (m.kind !== "reference" && !x.local) {
        claim(
          m.coordinator.node,
          m.coordinator.database,
          x.name,
          `partition ${x.name} of ${m.name}`,
        );
      }
    }
    for (const [k, what] of claims) {
      const other = owners.get(k);
      if (other === undefined) {
        owners.set(k, what);
        continue;
      }
      const [where = "", table = ""] = k.split("\u0000");
      issue(
        ["sharded", m.name],
        `table ${table} on ${where} would be both ${other} and ${what}`,
        "each table name once per database",
        `rename one with name: (sharded.${m.name}.name: another_name)`,
      );
    }
  }
}

function suggest(word: string, known: readonly string[], otherwise: string): string {
  const c = closest(word, known);
  return c ? `did you mean "${c}"?` : otherwise;
}

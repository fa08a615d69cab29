// Reference tables: a table on the coordinator copied to every shard database of its
// distributed tables by logical replication, so shard-local joins find it there.
import { createHash } from "node:crypto";
import {
  conninfoValue,
  createSchema,
  dropTable,
  grantSchemaUsage,
  grantSelect,
  isManaged,
  type ObservedDatabaseContent,
  type Problem,
  qualified,
  type Step,
} from "../pgadmin/index.js";
import {
  type MeshShardedTable,
  type ReferenceTable,
  secretValue,
  type Topology,
} from "../topology/index.js";
import { ownerOf } from "./database-owner.js";
import type { ObservedSharding } from "./observe-sharding.js";
import {
  addToPublication,
  alterOwner,
  commentOn,
  createLogicalSlot,
  createPublication,
  createShardTable,
  createSubscription,
  dropFromPublication,
  dropSubscription,
  refreshSubscription,
  replicaIdentityFull,
} from "./sharding-sql.js";

type Result = { steps: Step[]; problems: Problem[] };
type Buildable = ReferenceTable & { source: { kind: "columns" } };

/** The one publication of a coordinator database: every reference table it holds. */
export const REFERENCE_PUBLICATION = "dbmesh_reference";

export function isBuildableReference(s: MeshShardedTable): s is Buildable {
  return s.kind === "reference" && s.source.kind === "columns";
}

function references(t: Topology): Buildable[] {
  return t.sharded.filter(isBuildableReference);
}

/**
 * The subscription of one shard database to one coordinator, and its slot on the coordinator
 * (same name). Slot names allow only [a-z0-9_] and must be unique on the publisher; node and
 * database names allow more, so they are simplified and a hash of the exact pair is added.
 */
export function subscriptionName(
  coordinator: { node: string; database: string },
  copy: { node: string; database: string },
): string {
  const exact = `${coordinator.node}/${coordinator.database}>${copy.node}/${copy.database}`;
  const hash = createHash("sha256").update(exact).digest("hex").slice(0, 8);
  const slug = `${copy.node}_${copy.database}`.toLowerCase().replace(/[^a-z0-9_]+/g, "_");
  return `dbmesh_ref_${slug.slice(0, 40)}_${hash}`;
}

/** Nodes that publish reference tables: they need wal_level = logical. */
export function publishesReferences(t: Topology, node: string): boolean {
  // Any reference table, its table: source read or not: the setting is written before that.
  return t.sharded.some(
    (r) => r.kind === "reference" && r.coordinator.node === node && r.shards.length > 0,
  );
}

/** Schemas apply reads for reference tables, per "node/db": the coordinator's and each copy's. */
export function referenceSchemas(t: Topology): [string, string][] {
  return references(t).flatMap((r) => [
    [`${r.coordinator.node}/${r.coordinator.database}`, r.table.schema] as [string, string],
    ...r.shards.map((c) => [`${c.node}/${c.database}`, r.table.schema] as [string, string]),
  ]);
}

/** Whether this database holds a reference table or a copy of one. */
export function hasReferences(t: Topology, node: string, db: string): boolean {
  return references(t).some(
    (r) =>
      (r.coordinator.node === node && r.coordinator.database === db) ||
      r.shards.some((c) => c.node === node && c.database === db),
  );
}

/** The table as the file declares it, on the coordinator or as a copy, marked and owned. */
function createStep(
  r: Buildable,
  node: string,
  db: string,
  have: ObservedDatabaseContent,
  owner: string | undefined,
  extra: string[],
): Result {
  const { schema, table } = r.table;
  const found = have.relations.get(`${schema}.${table}`);
  if (found) {
    const problems =
      isManaged(found.comment) && found.kind === "r"
        ? []
        : [
            {
              node,
              message: `sharded.${r.name}: ${schema}.${table} exists in ${node}/${db} and was not made by dbmesh as a reference table`,
              hint: "rename or drop it so apply can create it (converting an existing table is not yet supported)",
            },
          ];
    return { steps: [], problems };
  }
  const sql: string[] = [];
  if (!have.schemas.has(schema) && owner) sql.push(createSchema(schema, owner));
  sql.push(
    ...createShardTable(schema, table, r.source.columns, r.source.constraints, undefined),
    commentOn("TABLE", schema, table),
  );
  if (owner) sql.push(alterOwner("TABLE", schema, table, owner));
  sql.push(...extra);
  return {
    steps: [
      {
        node,
        database: db,
        phase: 2,
        summary: `create reference table ${schema}.${table}${extra.length ? "" : ` (copy of ${r.coordinator.node}/${r.coordinator.database})`}`,
        sql,
        transaction: true,
        shapesTables: true,
      },
    ],
    problems: [],
  };
}

/** A reference table whose source is the coordinator's existing table of its own name. */
function isOwnTable(r: Buildable): boolean {
  const from = r.source.from;
  return from?.schema === r.table.schema && from.table === r.table.table;
}

/**
 * The user's own table as the source: used as it is, readable by the replication role. It needs
 * a primary key, the replica identity that lets its copies apply updates and deletes (dbmesh
 * does not change the replica identity of a table it did not make).
 */
function planExistingSource(
  r: Buildable,
  node: string,
  db: string,
  have: ObservedDatabaseContent,
  grants: string[],
): Result {
  const { schema, table } = r.table;
  if (!hasPrimaryKey(r))
    return {
      steps: [],
      problems: [
        {
          node,
          message: `sharded.${r.name}: ${schema}.${table} has no primary key, so its copies could not apply updates and deletes`,
          hint: `add one (ALTER TABLE ${schema}.${table} ADD PRIMARY KEY (…)), or set its REPLICA IDENTITY FULL and declare columns: for a table dbmesh makes`,
        },
      ],
    };
  const granted = have.relations
    .get(`${schema}.${table}`)
    ?.grants.some((g) => g.grantee === r.replicateAs && g.privilege === "SELECT");
  if (granted) return { steps: [], problems: [] };
  return {
    steps: [
      {
        node,
        database: db,
        phase: 2,
        summary: `let ${r.replicateAs} read ${schema}.${table} for its copies`,
        sql: grants,
        transaction: true,
      },
    ],
    problems: [],
  };
}

/** Whether the declared columns give the table a primary key (its replica identity). */
function hasPrimaryKey(r: Buildable): boolean {
  return [...r.source.columns.map((c) => c.type), ...r.source.constraints].some((x) =>
    /\bprimary\s+key\b/i.test(x),
  );
}

/**
 * Phase 2 on a coordinator database: each reference table, readable by the role the copies
 * replicate as; the publication of them all; one slot per copy database. Without wal_level =
 * logical none of it can stream: that is reported, with the restart it takes.
 */
export function planReferenceSource(
  t: Topology,
  node: string,
  db: string,
  have: ObservedDatabaseContent,
  observed: ObservedSharding | undefined,
  prune = false,
): Result {
  const refs = references(t).filter(
    (r) => r.coordinator.node === node && r.coordinator.database === db && r.shards.length,
  );
  const out: Result = { steps: [], problems: [] };
  // --prune: tables no longer declared leave the publication (the tables themselves stay).
  const published = observed?.publications.get(REFERENCE_PUBLICATION);
  const wanted = new Set(refs.map((r) => `${r.table.schema}.${r.table.table}`));
  const gone = [...(published ?? [])].filter((x) => !wanted.has(x));
  if (prune && gone.length)
    out.steps.push({
      node,
      database: db,
      phase: 2,
      summary: `remove ${gone.join(", ")} from publication ${REFERENCE_PUBLICATION} (--prune)`,
      sql: [dropFromPublication(REFERENCE_PUBLICATION, gone.map(splitName))],
      transaction: true,
    });
  if (!refs.length) return out;
  const owner = ownerOf(t, node, db);
  const add = (r: Result) => {
    out.steps.push(...r.steps);
    out.problems.push(...r.problems);
  };
  const step = (summary: string, sql: string[]) =>
    out.steps.push({ node, database: db, phase: 2, summary, sql, transaction: true });
  for (const r of refs) {
    const { schema, table } = r.table;
    const extra = [grantSelect(schema, table, r.replicateAs)];
    if (schema !== "public") extra.unshift(grantSchemaUsage(schema, r.replicateAs));
    if (isOwnTable(r)) add(planExistingSource(r, node, db, have, extra));
    else {
      if (!hasPrimaryKey(r)) extra.push(replicaIdentityFull(schema, table));
      add(createStep(r, node, db, have, owner, extra));
    }
  }
  const missing = refs
    .filter((r) => !published?.has(`${r.table.schema}.${r.table.table}`))
    .map((r) => qualified(r.table.schema, r.table.table));
  if (missing.length)
    step(
      `${published ? "add to" : "create"} publication ${REFERENCE_PUBLICATION}: ${missing.join(", ")}`,
      [
        published
          ? addToPublication(REFERENCE_PUBLICATION, missing)
          : createPublication(REFERENCE_PUBLICATION, missing),
      ],
    );
  if (observed && observed.walLevel !== "logical") {
    const n = t.nodes.get(node);
    out.problems.push({
      node,
      message: `reference tables of ${node}/${db} are copied by logical replication, which needs wal_level = logical; ${node} runs with ${observed.walLevel}`,
      hint: n?.managed
        ? `dbmesh has written the setting; restart the node to use it: dbmesh down --node ${node} && dbmesh up --node ${node}`
        : "set wal_level = logical in its postgresql.conf and restart it",
    });
    return out;
  }
  const copies = new Map(
    refs.flatMap((r) => r.shards.map((c) => [`${c.node}/${c.database}`, c] as const)),
  );
  for (const c of copies.values()) {
    const slot = subscriptionName({ node, database: db }, c);
    if (!observed?.slots.has(slot))
      step(`create replication slot ${slot} for reference copies on ${c.node}/${c.database}`, [
        createLogicalSlot(slot),
      ]);
  }
  return out;
}

/**
 * On a shard database: each reference table copied there (phase 2), then one subscription per
 * coordinator (phase 3, after the publication and slot exist): created, or refreshed when a
 * table was added to the publication since.
 */
export function planReferenceCopies(
  t: Topology,
  node: string,
  db: string,
  have: ObservedDatabaseContent,
  observed: ObservedSharding | undefined,
  prune = false,
): Result {
  const out: Result = { steps: [], problems: [] };
  const here = references(t).filter((r) =>
    r.shards.some((c) => c.node === node && c.database === db),
  );
  const owner = ownerOf(t, node, db);
  const byCoordinator = new Map<string, Buildable[]>();
  for (const r of here) {
    const created = createStep(r, node, db, have, owner, []);
    out.steps.push(...created.steps);
    out.problems.push(...created.problems);
    const k = `${r.coordinator.node}/${r.coordinator.database}`;
    byCoordinator.set(k, [...(byCoordinator.get(k) ?? []), r]);
  }
  for (const refs of byCoordinator.values()) {
    const c = refs[0]!.coordinator;
    const name = subscriptionName(c, { node, database: db });
    const subscribed = observed?.subscriptions.get(name);
    if (!subscribed) {
      const from = t.nodes.get(c.node);
      const roleName = refs[0]!.replicateAs;
      const role = t.roles.get(roleName);
      if (!from || !role) continue;
      const conninfo = (password: string) =>
        [
          ["host", from.host],
          ["port", String(from.port)],
          ["dbname", c.database],
          ["user", roleName],
          ["password", password],
          ["application_name", name],
        ]
          .map(([k, v]) => `${k}=${conninfoValue(v!)}`)
          .join(" ");
      out.steps.push({
        node,
        database: db,
        phase: 3,
        summary: `subscribe to ${c.node}/${c.database} (publication ${REFERENCE_PUBLICATION}) as ${roleName}: ${refs.map((r) => r.name).join(", ")}`,
        sql: [
          createSubscription(
            name,
            conninfo(secretValue(t, role.password)),
            REFERENCE_PUBLICATION,
            name,
          ),
        ],
        // The password is inside the connection string, where maskSecrets does not look.
        display: [createSubscription(name, conninfo("********"), REFERENCE_PUBLICATION, name)],
        transaction: true,
        secret: true,
      });
    } else if (refs.some((r) => !subscribed.has(`${r.table.schema}.${r.table.table}`))) {
      out.steps.push({
        node,
        database: db,
        phase: 3,
        summary: `refresh subscription ${name}: start copying ${refs
          .filter((r) => !subscribed.has(`${r.table.schema}.${r.table.table}`))
          .map((r) => r.name)
          .join(", ")}`,
        sql: [refreshSubscription(name)],
        transaction: false,
      });
    }
  }
  if (prune) out.steps.push(...pruneCopies(node, db, have, observed, [...byCoordinator.values()]));
  return out;
}

/**
 * --prune on a shard database: a dbmesh subscription whose coordinator has no reference table
 * for it any more is dropped (with its slot there); one that still replicates tables the file
 * no longer declares is refreshed (after the coordinator removed them from its publication).
 * Then the copies of those tables that dbmesh made are dropped.
 */
function pruneCopies(
  node: string,
  db: string,
  have: ObservedDatabaseContent,
  observed: ObservedSharding | undefined,
  groups: Buildable[][],
): Step[] {
  const steps: Step[] = [];
  const step = (summary: string, sql: string, transaction: boolean) =>
    steps.push({
      node,
      database: db,
      phase: 3,
      summary: `${summary} (--prune)`,
      sql: [sql],
      transaction,
    });
  const wanted = new Map(
    groups.map((refs) => [
      subscriptionName(refs[0]!.coordinator, { node, database: db }),
      new Set(refs.map((r) => `${r.table.schema}.${r.table.table}`)),
    ]),
  );
  const stale: string[] = [];
  for (const [name, tables] of observed?.subscriptions ?? []) {
    if (!name.startsWith("dbmesh_ref_")) continue;
    const keep = wanted.get(name);
    const gone = [...tables].filter((x) => !keep?.has(x));
    if (!keep) step(`drop subscription ${name}`, dropSubscription(name), false);
    else if (gone.length)
      step(
        `refresh subscription ${name}: stop copying ${gone.join(", ")}`,
        refreshSubscription(name),
        false,
      );
    stale.push(...gone);
  }
  for (const x of stale) {
    const rel = have.relations.get(x);
    if (rel && isManaged(rel.comment)) {
      const [schema, table] = splitName(x);
      step(`drop reference copy ${x}`, dropTable(schema, table), true);
    }
  }
  return steps;
}

function splitName(x: string): [string, string] {
  const i = x.indexOf(".");
  return [x.slice(0, i), x.slice(i + 1)];
}

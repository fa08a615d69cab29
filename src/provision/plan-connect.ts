import { readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { ensureServerUser, writeFileAtomic } from "../cluster/index.js";
import {
  maskedPassfile,
  ODBC_DRIVER,
  ODBC_PACKAGES,
  odbcDriverInstalled,
  odbcFiles,
  odbcIniSection,
  remoteLogin,
} from "../links/connect-odbc.js";
import { planConnectTables, type RemoteTable } from "../links/connect-tables.js";
import {
  DEFAULT_TEXT_LENGTH,
  type MappedType,
  mariadbTypeOf,
  plainIdentifier,
} from "../links/connect-types.js";
import {
  accountHost,
  accountHostAdmits,
  accountKey,
  CONNECT_PACKAGE,
  CONNECT_SONAME,
  createDatabase,
  createServer,
  FEDERATEDX_SONAME,
  grantOn,
  grantSelectOnTable,
  installSoname,
  mariadbPaths,
  type ObservedConnect,
  observeConnect,
  SYSTEM_DATABASE,
} from "../mariadb/index.js";
import {
  grantSchemaUsage,
  grantSelect,
  holds,
  type Phase,
  type Plan,
  type Problem,
  passfileEntry,
  type Step,
} from "../pgadmin/index.js";
import { type MeshLink, type Topology, TopologyError } from "../topology/index.js";
import { clientAddress } from "./hba-rules.js";
import type { MeshAccess } from "./mesh-access.js";
import type { MeshState } from "./observe.js";
import type { MariadbNodeState } from "./plan-mariadb.js";

// Links from MariaDB: connect_odbc (to PostgreSQL, CONNECT ODBC tables) and federatedx (to
// MariaDB, FederatedX tables). Phase 1 on the MariaDB node: the plugin, the ODBC data source or server definition,
// the receiving database. Phase 3: the tables (they need the remote catalog) and grants on
// both ends.

export interface ConnectState {
  /** What CONNECT links manage on each MariaDB node they start from, or why it was not read. */
  readonly local: ReadonlyMap<string, ObservedConnect | { readonly error: string }>;
  /**
   * Tables and grants of each MariaDB database a federatedx link reads, by "node/db": the
   * node's one read, so its tables include those of the other databases links use there.
   */
  readonly remote: ReadonlyMap<string, ObservedConnect | { readonly error: string }>;
  /** A managed node's odbc.ini and password file as they are (null: absent). */
  readonly files: ReadonlyMap<string, { odbcIni: string | null; pgpass: string | null }>;
}

const isConnect = (l: MeshLink) => l.via === "connect_odbc" || l.via === "federatedx";

function stateDirOf(t: Topology, node: string): string {
  return join(t.stateDir, node);
}

/** Reads every node CONNECT links touch; nothing when the file has none. */
export async function observeConnectMesh(access: MeshAccess): Promise<ConnectState> {
  const t = access.topology;
  const links = t.links.filter(isConnect).filter((l) => !access.skip?.has(l.from.node));
  const local = new Map<string, ObservedConnect | { error: string }>();
  const remote = new Map<string, ObservedConnect | { error: string }>();
  const files = new Map<string, { odbcIni: string | null; pgpass: string | null }>();
  if (!links.length || !access.mariadb) return { local, remote, files };
  const mariadb = access.mariadb;
  const read = async (node: string, dbs: string[]) => {
    try {
      return await observeConnect(await mariadb.session(node, SYSTEM_DATABASE), dbs);
    } catch (e) {
      if (e instanceof TopologyError) throw e;
      return { error: (e as Error).message };
    }
  };
  // One read per node, of every database the links use there: a node can be both ends.
  const databases = new Map<string, Set<string>>();
  const use = (node: string, db: string) =>
    databases.set(node, (databases.get(node) ?? new Set<string>()).add(db));
  for (const l of links) use(l.from.node, l.import?.into ?? "");
  const federatedx = links.filter((l) => l.via === "federatedx");
  for (const l of federatedx) use(l.to.node, l.to.database);
  const observed = new Map(
    await Promise.all(
      [...databases].map(async ([node, dbs]) => [node, await read(node, [...dbs])] as const),
    ),
  );
  for (const l of links) local.set(l.from.node, observed.get(l.from.node)!);
  for (const l of federatedx) remote.set(`${l.to.node}/${l.to.database}`, observed.get(l.to.node)!);
  await Promise.all(
    [...new Set(links.map((l) => l.from.node))].map(async (node) => {
      if (!t.nodes.get(node)?.managed) return;
      const paths = mariadbPaths({ name: node, stateDir: stateDirOf(t, node) });
      const text = (f: string) => readFile(f, "utf8").catch(() => null);
      files.set(node, { odbcIni: await text(paths.odbcIni), pgpass: await text(paths.pgpassFile) });
    }),
  );
  return { local, remote, files };
}

/** Adds the steps and problems of every CONNECT link to the plan (both ends). */
export function addConnectPlans(
  access: MeshAccess,
  plan: Plan,
  pg: MeshState,
  mariadb: ReadonlyMap<string, MariadbNodeState>,
  connect: ConnectState,
  fromPhase: Phase,
): void {
  const t = access.topology;
  const entry = (node: string) => plan.nodes.find((n) => n.node === node);
  const problem = (p: Problem) => entry(p.node)?.problems.push(p);
  const step = (s: Step) => {
    if (s.phase >= fromPhase) entry(s.node)?.steps.push(s);
  };
  const mariadbStep = (
    node: string,
    phase: Phase,
    summary: string,
    sql: string[],
    more: Partial<Step> = {},
  ) => step({ node, database: SYSTEM_DATABASE, phase, summary, sql, transaction: false, ...more });
  const pending = (node: string, database: string) =>
    (entry(node)?.steps ?? []).some((s) => s.shapesTables && s.database === database);

  const links = t.links.filter(isConnect);
  const blocked = new Set<string>();
  for (const node of new Set(links.map((l) => l.from.node))) {
    const have = connect.local.get(node);
    if (!have || "error" in have || !mariadb.get(node)?.observed) {
      blocked.add(node);
      continue;
    }
    const engines = [
      {
        via: "connect_odbc",
        state: have.connect,
        what: "the CONNECT storage engine",
        soname: CONNECT_SONAME,
        hint: `install the Debian package ${CONNECT_PACKAGE} on ${node}'s host (apt-get install ${CONNECT_PACKAGE}), then run apply again`,
      },
      {
        via: "federatedx",
        state: have.federatedx,
        what: "the FederatedX storage engine",
        soname: FEDERATEDX_SONAME,
        hint: `FederatedX ships with mariadb-server; reinstall it on ${node}'s host (apt-get install --reinstall mariadb-server)`,
      },
    ] as const;
    for (const e of engines) {
      const uses = links.filter((l) => l.from.node === node && l.via === e.via);
      if (!uses.length) continue;
      if (e.state === "missing") {
        blocked.add(node);
        problem({
          node,
          message: `${e.what} is not installed on MariaDB node ${node} (${uses.map((l) => `links[${l.index}]`).join(", ")} need it)`,
          hint: e.hint,
        });
      } else if (e.state === "installable") {
        mariadbStep(node, 1, `install ${e.what} (plugin ${e.soname})`, [installSoname(e.soname)]);
      }
    }
    if (blocked.has(node)) continue;
    const odbc = links.filter((l) => l.from.node === node && l.via === "connect_odbc");
    if (odbc.length) planDataSources(access, node, odbc, connect, problem, mariadbStep);
  }

  for (const l of links) {
    const node = l.from.node;
    if (blocked.has(node) || !l.import) continue;
    const have = connect.local.get(node) as ObservedConnect;
    const observed = mariadb.get(node)!.observed!;
    const into = l.import.into;
    if (!observed.databases.has(into))
      mariadbStep(node, 1, `create database ${into} for the CONNECT tables of links[${l.index}]`, [
        createDatabase(into),
      ]);
    if (l.via === "federatedx") {
      const want = remoteLogin(t, l);
      const s = have.servers.get(l.server);
      const drift = !s
        ? undefined
        : (["host", "port", "database", "user", "password"] as const).filter(
            (k) => s[k] !== want[k],
          );
      if (!s || drift?.length)
        mariadbStep(
          node,
          1,
          s
            ? `update server ${l.server} (${drift!.join(", ")})`
            : `create server ${l.server} → ${l.to.node}/${l.to.database} as ${want.user}`,
          [createServer(want)],
          { secret: true },
        );
    }

    // Phase 3: the remote tables, mapped; unknown until the remote database has its tables.
    const remote = remoteTables(l, pg, connect, pending);
    for (const p of remote.problems) problem(p);
    if (remote.deferred) {
      mariadbStep(
        node,
        3,
        `create CONNECT tables in ${into} over ${l.to.node}/${l.to.database}`,
        [`-- columns are read from ${l.to.node}/${l.to.database} when apply reaches this step`],
        { deferred: true },
      );
      continue;
    }
    const accounts = l.as.flatMap((m) => {
      const r = t.roles.get(m.local);
      if (!r?.nodes.includes(node)) return [];
      return [...new Set(r.from.map(accountHost))].map((host) => ({ user: r.name, host }));
    });
    const tables = planConnectTables(l, remote.tables, have, accounts, access.prune);
    for (const p of tables.problems) problem(p);
    for (const s of tables.steps) mariadbStep(node, 3, s.summary, s.sql);
    if (
      l.via === "connect_odbc" &&
      !t.nodes.get(node)!.managed &&
      remote.tables.some((r) => !have.tables.has(`${into}.${r.name}`))
    ) {
      const ds = remoteLogin(t, l);
      problem({
        node,
        message: `links[${l.index}]: MariaDB node ${node} is not managed here, so dbmesh cannot write its ODBC data source ${ds.name}`,
        hint: `on ${node}'s host, add to the odbc.ini the server reads (ODBCINI in its environment, owned by the server's user):\n${odbcIniSection(ds)}and to its libpq password file (PGPASSFILE, mode 0600):\n${maskedPassfile(passfileEntry(ds.host, ds.port, ds.database, ds.user, "x"))}(with the password of ${ds.user}); install ${ODBC_PACKAGES} there too`,
      });
    }
    // The remote end: what the remote role needs to read each table, and nothing more.
    for (const s of remoteGrants(t, l, remote.tables, pg, mariadb, connect)) step(s);
  }
}

/** The odbc.ini and password file of a managed node, rewritten when they differ from the file. */
function planDataSources(
  access: MeshAccess,
  node: string,
  links: readonly MeshLink[],
  connect: ConnectState,
  problem: (p: Problem) => void,
  mariadbStep: (
    node: string,
    phase: Phase,
    summary: string,
    sql: string[],
    more?: Partial<Step>,
  ) => void,
) {
  const t = access.topology;
  if (!t.nodes.get(node)!.managed) return;
  if (!odbcDriverInstalled()) {
    problem({
      node,
      message: `the PostgreSQL ODBC driver "${ODBC_DRIVER}" is not installed on this host (links[${links.map((l) => l.index).join(", ")}] read PostgreSQL through it)`,
      hint: `install the Debian packages ${ODBC_PACKAGES} (apt-get install odbc-postgresql unixodbc), then run apply again`,
    });
  }
  const want = odbcFiles(t, node);
  const have = connect.files.get(node);
  if (have?.odbcIni === want.odbcIni && have.pgpass === want.pgpass) return;
  const paths = mariadbPaths({ name: node, stateDir: stateDirOf(t, node) });
  const shown = (p: string) => relative(join(t.stateDir, ".."), p);
  const names = links.map((l) => l.server).join(", ");
  mariadbStep(
    node,
    1,
    `write ODBC data source${links.length > 1 ? "s" : ""} ${names} to ${shown(paths.odbcIni)} and ${shown(paths.pgpassFile)}`,
    [],
    {
      secret: true,
      files: [
        { path: paths.odbcIni, content: want.odbcIni, mode: 0o644 },
        { path: paths.pgpassFile, content: want.pgpass, mode: 0o600 },
      ],
      display: [
        `-- ${shown(paths.odbcIni)}:`,
        ...want.odbcIni.trimEnd().split("\n"),
        `-- ${shown(paths.pgpassFile)} (mode 0600):`,
        ...maskedPassfile(want.pgpass).trimEnd().split("\n"),
      ],
    },
  );
}

interface Remote {
  readonly tables: RemoteTable[];
  readonly problems: Problem[];
  readonly deferred: boolean;
}

/** The link's remote tables with their columns mapped, or problems naming what cannot be. */
function remoteTables(
  l: MeshLink,
  pg: MeshState,
  connect: ConnectState,
  pending: (node: string, database: string) => boolean,
): Remote {
  const imp = l.import!;
  const where = `${l.to.node}/${l.to.database}`;
  const problems: Problem[] = [];
  const tables: RemoteTable[] = [];
  const textLength = Number(l.options.text_length ?? DEFAULT_TEXT_LENGTH);
  const busy = pending(l.to.node, l.to.database);
  const unreadable = (why: string): Remote => ({
    tables,
    deferred: false,
    problems: [
      {
        node: l.from.node,
        message: `links[${l.index}]: cannot read ${where}: ${why}`,
        hint: `bring ${l.to.node} up, then run apply again`,
      },
    ],
  });
  let found: { name: string; columns: { name: string; type: string; notNull: boolean }[] }[];
  if (l.via === "connect_odbc") {
    const ns = pg.get(l.to.node);
    if (!ns?.server) return unreadable(ns?.error?.message ?? "not read");
    const content = ns.databases.get(l.to.database);
    if (!content) return { tables, problems, deferred: true };
    found = [...content.relations.values()]
      .filter((r) => r.schema === imp.schema && r.kind !== "f")
      .map((r) => ({ name: r.name, columns: r.columns }));
  } else {
    const have = connect.remote.get(where);
    if (!have) return { tables, problems, deferred: true };
    if ("error" in have) return unreadable(have.error);
    found = [...have.tables.values()]
      .filter((r) => r.database === l.to.database)
      .map((r) => ({ name: r.name, columns: [...r.columns] }));
  }
  const names = imp.tables ?? found.map((r) => r.name).sort();
  if (!imp.tables && !found.length) {
    if (busy) return { tables, problems, deferred: true };
    problems.push({
      node: l.from.node,
      message: `links[${l.index}]: ${imp.schema} in ${where} has no tables to expose`,
      hint: "create the tables there first, or fix import.schema",
    });
  }
  for (const name of names) {
    const r = found.find((x) => x.name === name);
    if (!r) {
      if (busy) return { tables: [], problems, deferred: true };
      const others = found.map((x) => x.name).sort();
      problems.push({
        node: l.from.node,
        message: `links[${l.index}] import: remote table ${imp.schema}.${name} does not exist in ${where}`,
        hint: others.length
          ? `tables in ${imp.schema} there: ${others.join(", ")}`
          : `${imp.schema} has no tables there; create the table or fix the name`,
      });
      continue;
    }
    const mapped = mapColumns(l, imp.schema, r, textLength);
    if ("refused" in mapped) {
      problems.push(...mapped.refused);
      continue;
    }
    tables.push({
      name,
      source:
        l.via === "connect_odbc"
          ? { kind: "odbc", dsn: l.server, table: `${imp.schema}.${name}` }
          : { kind: "federatedx", server: l.server, table: name },
      columns: mapped.columns,
      notes: mapped.notes,
    });
  }
  return { tables, problems, deferred: false };
}

function mapColumns(
  l: MeshLink,
  schema: string,
  r: { name: string; columns: { name: string; type: string; notNull: boolean }[] },
  textLength: number,
): { columns: RemoteTable["columns"]; notes: string[] } | { refused: Problem[] } {
  const refused: Problem[] = [];
  const notes: string[] = [];
  const refuse = (column: string, type: string, reason: string, hint: string) =>
    refused.push({
      node: l.from.node,
      message: `links[${l.index}]: column ${schema}.${r.name}.${column} (${type}) cannot be exposed through ${l.via}: ${reason}`,
      hint,
    });
  const leaveOut = `leave ${r.name} out of import.tables, or expose a view over it instead`;
  if (l.via === "connect_odbc" && (!plainIdentifier(schema) || !plainIdentifier(r.name))) {
    refuse(
      "*",
      "table",
      `CONNECT sends the name ${schema}.${r.name} to PostgreSQL unquoted, which folds it to lower case`,
      "rename it, or expose it through a view with a lower-case name",
    );
    return { refused };
  }
  const columns = r.columns.map((c) => {
    if (l.via === "connect_odbc" && !plainIdentifier(c.name))
      refuse(
        c.name,
        c.type,
        "CONNECT sends column names to PostgreSQL unquoted, so only lower-case names without spaces or quotes work",
        "rename the column, or expose a view that renames it",
      );
    // FederatedX tables take the remote MariaDB columns as they are.
    const m: MappedType =
      l.via === "connect_odbc" ? mariadbTypeOf(c.type, textLength) : { ok: true, type: c.type };
    if (!m.ok) {
      refuse(c.name, c.type, m.reason, leaveOut);
      return { name: c.name, type: "", notNull: c.notNull, remoteType: c.type };
    }
    if (m.note) notes.push(`${c.name}: ${m.note}`);
    return { name: c.name, type: m.type, notNull: c.notNull, remoteType: c.type };
  });
  return refused.length ? { refused } : { columns, notes };
}

/**
 * What the remote role needs on the remote end, least privilege: on PostgreSQL USAGE on the
 * schema and SELECT on each exposed table; on MariaDB SELECT on each table for the accounts the
 * local node logs in from (unless a database grant already covers it).
 */
function remoteGrants(
  t: Topology,
  l: MeshLink,
  tables: readonly RemoteTable[],
  pg: MeshState,
  mariadb: ReadonlyMap<string, MariadbNodeState>,
  connect: ConnectState,
): Step[] {
  const role = l.as[0]!.remote;
  const why = `links[${l.index}] ${l.via} from ${l.from.node}`;
  if (l.via === "connect_odbc") {
    const content = pg.get(l.to.node)?.databases.get(l.to.database);
    if (!content) return [];
    const sql: string[] = [];
    const schema = content.schemas.get(l.import!.schema);
    if (schema && !holds(schema.grants, schema.owner, role, "USAGE"))
      sql.push(grantSchemaUsage(l.import!.schema, role));
    for (const r of tables) {
      const rel = content.relations.get(`${l.import!.schema}.${r.name}`);
      if (rel && !holds(rel.grants, rel.owner, role, "SELECT"))
        sql.push(grantSelect(l.import!.schema, r.name, role));
    }
    if (!sql.length) return [];
    return [
      {
        node: l.to.node,
        database: l.to.database,
        phase: 3,
        summary: `grant ${role} what ${why} reads (${tables.map((r) => `${l.import!.schema}.${r.name}`).join(", ")})`,
        sql,
        transaction: true,
      },
    ];
  }
  const observed = mariadb.get(l.to.node)?.observed;
  const have = connect.remote.get(`${l.to.node}/${l.to.database}`);
  const r = t.roles.get(role);
  if (!observed || !have || "error" in have || !r) return [];
  const address = clientAddress(t.nodes.get(l.from.node)!.host);
  const hosts = [...new Set(r.from.map(accountHost))].filter((h) => accountHostAdmits(h, address));
  const sql: string[] = [];
  for (const host of hosts) {
    const db = grantOn(observed, l.to.database, role, host);
    if (db?.privileges.includes("Select")) continue;
    for (const tb of tables) {
      if (!have.selectGrants.get(`${l.to.database}.${tb.name}`)?.has(accountKey(role, host)))
        sql.push(grantSelectOnTable(l.to.database, tb.name, role, host));
    }
  }
  if (!sql.length) return [];
  return [
    {
      node: l.to.node,
      database: SYSTEM_DATABASE,
      phase: 3,
      summary: `grant ${role} select on what ${why} reads`,
      sql,
      transaction: false,
    },
  ];
}

/** Writes a step's files on this machine, owned by the user the servers run as. */
export async function writeStepFiles(step: Step): Promise<void> {
  if (!step.files?.length) return;
  const owner = await ensureServerUser();
  for (const f of step.files) await writeFileAtomic(f.path, f.content, { mode: f.mode, owner });
}

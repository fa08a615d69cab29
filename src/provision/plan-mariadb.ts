import { readFileSync } from "node:fs";
import { relative } from "node:path";
import {
  accountHost,
  accountKey,
  alterDatabaseCharset,
  alterUser,
  connectMariadb,
  createBookkeeping,
  createDatabase,
  createUser,
  DEFAULT_CHARSET,
  dropDatabase,
  dropUser,
  forgetCreated,
  grantAll,
  grantOn,
  isMariadbError,
  nativePasswordHash,
  type ObservedMariadb,
  observeMariadb,
  recordCreated,
  recordSeed,
  revokeAll,
  SYSTEM_DATABASE,
} from "../mariadb/index.js";
import { PgAdminError, type Phase, type Plan, type Problem, type Step } from "../pgadmin/index.js";
import { type MeshNode, secretValue, TopologyError } from "../topology/index.js";
import type { MeshAccess } from "./mesh-access.js";
import { linkAccountHosts, planLinkGrants } from "./plan-mysql-fdw.js";

export interface MariadbNodeState {
  readonly observed: ObservedMariadb | undefined;
  readonly error: { readonly message: string; readonly hint: string } | undefined;
}

/** Reads every MariaDB node of the file, in parallel. */
export async function observeMariadbMesh(
  access: MeshAccess,
): Promise<Map<string, MariadbNodeState>> {
  const t = access.topology;
  const nodes = [...t.nodes.values()].filter(
    (n) => n.engine === "mariadb" && !access.skip?.has(n.name),
  );
  const entries = await Promise.all(
    nodes.map(async (n): Promise<[string, MariadbNodeState]> => {
      if (!access.mariadb) {
        return [
          n.name,
          {
            observed: undefined,
            error: { message: `MariaDB node ${n.name} cannot be reached from here`, hint: "" },
          },
        ];
      }
      try {
        const s = await access.mariadb.session(n.name, SYSTEM_DATABASE);
        return [n.name, { observed: await observeMariadb(s), error: undefined }];
      } catch (e) {
        if (e instanceof TopologyError) throw e;
        await access.mariadb.drop(n.name, SYSTEM_DATABASE);
        const err = e as { message?: string; hint?: string };
        return [
          n.name,
          {
            observed: undefined,
            error: { message: err.message ?? String(e), hint: err.hint ?? "" },
          },
        ];
      }
    }),
  );
  return new Map(entries);
}

/** Adds each MariaDB node's steps and problems to its entry of the plan. */
export function addMariadbPlans(
  access: MeshAccess,
  plan: Plan,
  states: ReadonlyMap<string, MariadbNodeState>,
  fromPhase: Phase,
): void {
  for (const [name, st] of states) {
    const entry = plan.nodes.find((n) => n.node === name);
    if (!entry) continue;
    if (!st.observed) {
      entry.problems.push({
        node: name,
        message: st.error?.message ?? `MariaDB node ${name} could not be read`,
        hint: st.error?.hint ?? "",
      });
      continue;
    }
    const r = planMariadbNode(access, access.topology.nodes.get(name)!, st.observed, fromPhase);
    entry.steps.push(...r.steps);
    entry.problems.push(...r.problems);
  }
}

/**
 * Phase 1: bookkeeping, accounts (one per role and `from:` address, like pg_hba lines),
 * databases, the owner's grants. Phase 2: seed files. Phase 3 (--prune): what dbmesh created
 * and the file no longer declares.
 */
function planMariadbNode(
  access: MeshAccess,
  node: MeshNode,
  o: ObservedMariadb,
  fromPhase: Phase,
): { steps: Step[]; problems: Problem[] } {
  const t = access.topology;
  const steps: Step[] = [];
  const problems: Problem[] = [];
  const step = (phase: Phase, summary: string, sql: string[], more: Partial<Step> = {}) => {
    if (phase >= fromPhase)
      steps.push({
        node: node.name,
        database: SYSTEM_DATABASE,
        phase,
        summary,
        sql,
        transaction: false,
        ...more,
      });
  };

  if (!o.bookkeeping) step(1, "create dbmesh's bookkeeping database dbmesh", createBookkeeping());

  const roles = [...t.roles.values()].filter((r) => r.nodes.includes(node.name));
  const declared = new Set<string>();
  const hostsOf = new Map<string, string[]>();
  for (const r of roles) {
    const password = secretValue(t, r.password);
    const hosts = [
      ...new Set([...r.from.map(accountHost), ...linkAccountHosts(t, node.name, r.name)]),
    ];
    hostsOf.set(r.name, hosts);
    for (const host of hosts) {
      const key = accountKey(r.name, host);
      declared.add(key);
      const spec = { user: r.name, host, password, connectionLimit: r.connectionLimit };
      const have = o.accounts.get(key);
      if (!have) {
        step(1, `create user ${key}`, [createUser(spec), recordCreated("account", r.name, host)], {
          secret: true,
        });
        continue;
      }
      const passwordDrift =
        have.plugin !== "mysql_native_password" || have.hash !== nativePasswordHash(password);
      const limitDrift = have.maxUserConnections !== Math.max(0, r.connectionLimit);
      if (passwordDrift || limitDrift) {
        const what = [limitDrift && "connection limit", passwordDrift && "password"]
          .filter(Boolean)
          .join(" and ");
        step(1, `update user ${key} (${what})`, [alterUser(spec, passwordDrift)], {
          secret: true,
        });
      }
    }
    // An address dropped from `from:` loses its account, as its pg_hba line goes on PostgreSQL.
    for (const a of o.accounts.values()) {
      const key = accountKey(a.user, a.host);
      if (a.user === r.name && !declared.has(key) && o.createdAccounts.has(key)) {
        step(1, `drop user ${key}: ${a.host} is no longer in roles.${r.name}.from`, [
          dropUser(a.user, a.host),
          forgetCreated("account", a.user, a.host),
        ]);
      }
    }
  }

  const databases = t.databases.filter((d) => d.node === node.name);
  for (const d of databases) {
    const have = o.databases.get(d.name);
    if (!have) {
      step(1, `create database ${d.name}`, [
        createDatabase(d.name),
        recordCreated("database", d.name),
      ]);
    } else if (have.charset !== DEFAULT_CHARSET) {
      step(1, `set the default character set of database ${d.name} to ${DEFAULT_CHARSET}`, [
        alterDatabaseCharset(d.name),
      ]);
    }
    for (const host of hostsOf.get(d.owner) ?? []) {
      if (!grantOn(o, d.name, d.owner, host)?.all)
        step(1, `grant all on database ${d.name} to its owner ${accountKey(d.owner, host)}`, [
          grantAll(d.name, d.owner, host),
        ]);
    }
    // Ownership moved: an account dbmesh made keeps no full grant on a database it does not own.
    for (const g of o.dbGrants) {
      const key = accountKey(g.user, g.host);
      if (!g.all || !o.createdAccounts.has(key)) continue;
      if (g.user === d.owner || grantOn(o, d.name, g.user, g.host) !== g) continue;
      step(1, `revoke all on database ${d.name} from ${key}: not its owner`, [
        revokeAll(d.name, g.user, g.host),
      ]);
    }
  }

  steps.push(...planLinkGrants(t, node.name, o, fromPhase));

  const base = t.file.replace(/[^/]+$/, "");
  for (const d of databases) {
    const done = o.seeds.get(d.name) ?? [];
    const role = t.roles.get(d.owner);
    for (const file of d.seed) {
      const name = relative(base, file);
      if (done.includes(name) || !role) continue;
      const record = recordSeed(d.name, name);
      step(2, `run seed ${name} as ${d.owner}`, [record], {
        database: d.name,
        shapesTables: true,
        runAs: { role: d.owner, sql: [readFileSync(file, "utf8")] },
        display: [`-- the statements of ${name}, logged in as ${d.owner}`, record],
      });
    }
  }

  if (access.prune) {
    const keepDbs = new Set(databases.map((d) => d.name));
    for (const name of o.createdDatabases) {
      if (!keepDbs.has(name) && o.databases.has(name))
        step(3, `drop database ${name} (--prune)`, [
          dropDatabase(name),
          forgetCreated("database", name),
        ]);
    }
    const keepRoles = new Set(roles.map((r) => r.name));
    for (const a of o.accounts.values()) {
      const key = accountKey(a.user, a.host);
      if (!keepRoles.has(a.user) && o.createdAccounts.has(key))
        step(3, `drop user ${key} (--prune)`, [
          dropUser(a.user, a.host),
          forgetCreated("account", a.user, a.host),
        ]);
    }
  }
  return { steps, problems };
}

/**
 * Runs one step on a MariaDB node. MariaDB commits DDL as it goes, so a step is its statements
 * in order, each idempotent (IF NOT EXISTS, INSERT IGNORE): a rerun finishes an interrupted one.
 */
export async function runMariadbStep(access: MeshAccess, step: Step): Promise<void> {
  const t = access.topology;
  if (!access.mariadb) throw new Error(`MariaDB node ${step.node} cannot be reached from here`);
  try {
    if (step.runAs) {
      const node = t.nodes.get(step.node)!;
      const role = t.roles.get(step.runAs.role)!;
      const s = await connectMariadb({
        node: node.name,
        host: node.host,
        port: node.port,
        user: role.name,
        password: secretValue(t, role.password),
        database: step.database,
      }).catch((e: unknown) => {
        const err = e as { message?: string; hint?: string };
        throw new PgAdminError(
          "auth-failed",
          step.node,
          `seeds run as the database's owner ${role.name}, who cannot log in from this host: ${err.message}`,
          `add this host's address to roles.${role.name}.from and run \`dbmesh apply\``,
          { database: step.database, cause: e },
        );
      });
      try {
        for (const sql of step.runAs.sql) await s.raw(sql);
      } finally {
        await s.end();
      }
    }
    const s = await access.mariadb.session(step.node, SYSTEM_DATABASE);
    // Statements that carry a password hash stay out of the general log.
    // https://mariadb.com/kb/en/server-system-variables/#sql_log_off
    if (step.secret) await s.query("SET SESSION sql_log_off = 1");
    try {
      for (const sql of step.sql) await s.query(sql);
    } finally {
      if (step.secret) await s.query("SET SESSION sql_log_off = 0");
    }
  } catch (e) {
    await access.mariadb.drop(step.node, SYSTEM_DATABASE);
    if (isMariadbError(e)) {
      throw new PgAdminError("sql", e.node, e.message, e.hint, {
        database: e.extra.database,
        sql: e.extra.sql,
        cause: e,
      });
    }
    throw e;
  }
}

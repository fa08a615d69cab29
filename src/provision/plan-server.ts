import {
  alterDatabaseOwner,
  alterRole,
  commentOnDatabase,
  commentOnRole,
  createDatabase,
  createRole,
  dropDatabase,
  dropRole,
  isManaged,
  type ObservedServer,
  scramMatches,
  seedsRun,
} from "../pgadmin/index.js";
import type { MeshNode } from "../topology/index.js";
import { hbaRules } from "./hba-rules.js";
import { type MeshAccess, maintenanceDb, secret } from "./mesh-access.js";
import type { Step } from "./step.js";

/** Phase 1 for one node: roles, databases and (managed nodes) configuration files. */
export async function planServer(
  access: MeshAccess,
  node: MeshNode,
  observed: ObservedServer,
): Promise<Step[]> {
  const t = access.topology;
  const steps: Step[] = [];
  const step = (summary: string, sql: string[], transaction = true) =>
    steps.push({ node: node.name, database: maintenanceDb, phase: 1, summary, sql, transaction });

  const declaredRoles = [...t.roles.values()].filter((r) => r.nodes.includes(node.name));
  const passwordOk = await Promise.all(
    declaredRoles.map((r) =>
      scramMatches(observed.roles.get(r.name)?.password ?? null, secret(t, r.password)),
    ),
  );
  for (const [i, r] of declaredRoles.entries()) {
    const spec = {
      name: r.name,
      password: secret(t, r.password),
      createdb: r.createdb,
      connectionLimit: r.connectionLimit,
    };
    const have = observed.roles.get(r.name);
    if (!have) {
      step(`create role ${r.name}`, [createRole(spec), commentOnRole(r.name)]);
      continue;
    }
    const passwordDrift = !passwordOk[i];
    const attrDrift =
      !have.login || have.createdb !== r.createdb || have.connlimit !== r.connectionLimit;
    if (passwordDrift || attrDrift) {
      const what = [attrDrift && "attributes", passwordDrift && "password"]
        .filter(Boolean)
        .join(" and ");
      step(`update role ${r.name} (${what})`, [alterRole(spec, passwordDrift)]);
    }
    if (!isManaged(have.comment) && !have.superuser)
      step(`mark role ${r.name} as managed`, [commentOnRole(r.name)]);
  }

  const declaredDbs = t.databases.filter((d) => d.node === node.name);
  for (const d of declaredDbs) {
    const have = observed.databases.get(d.name);
    if (!have) {
      step(`create database ${d.name}`, [createDatabase(d.name, d.owner)], false);
      step(`mark database ${d.name} as managed`, [commentOnDatabase(d.name, [])]);
      continue;
    }
    if (have.owner !== d.owner)
      step(`set owner of database ${d.name} to ${d.owner}`, [alterDatabaseOwner(d.name, d.owner)]);
    if (!isManaged(have.comment))
      step(`mark database ${d.name} as managed`, [
        commentOnDatabase(d.name, seedsRun(have.comment)),
      ]);
  }

  if (access.prune) {
    const keepDbs = new Set(declaredDbs.map((d) => d.name));
    for (const db of observed.databases.values()) {
      if (isManaged(db.comment) && !keepDbs.has(db.name))
        step(`drop database ${db.name} (--prune)`, [dropDatabase(db.name)], false);
    }
    const keepRoles = new Set(declaredRoles.map((r) => r.name));
    for (const role of observed.roles.values()) {
      if (isManaged(role.comment) && !keepRoles.has(role.name))
        step(`drop role ${role.name} (--prune)`, [dropRole(role.name)]);
    }
  }

  if (node.managed && access.config) {
    const lines = hbaRules(t, node.name);
    const changes = (await access.config.compare(node.name, lines)).flatMap((f) =>
      f.have === null || f.have === f.want ? [] : lineDiff(f.file, f.have, f.want),
    );
    if (changes.length) {
      steps.push({
        node: node.name,
        database: maintenanceDb,
        phase: 1,
        summary: "rewrite configuration files and reload",
        sql: changes,
        transaction: false,
        hba: lines,
      });
    }
  }
  return steps;
}

/** The changed lines of a configuration file, as SQL comments for the plan. */
function lineDiff(file: string, have: string, want: string): string[] {
  const rules = (s: string) =>
    s.split("\n").filter((l) => l.trim() && !l.trimStart().startsWith("#"));
  const a = new Set(rules(have));
  const b = new Set(rules(want));
  return [
    ...[...a].filter((l) => !b.has(l)).map((l) => `-- ${file} - ${l}`),
    ...[...b].filter((l) => !a.has(l)).map((l) => `-- ${file} + ${l}`),
  ];
}

import type { Problem, Step } from "../pgadmin/index.js";
import {
  alterDatabaseOwner,
  alterRole,
  commentOnDatabase,
  commentOnRole,
  createDatabase,
  createPhysicalSlot,
  createRole,
  dropDatabase,
  dropInactiveSlot,
  dropRole,
  isManaged,
  type ObservedServer,
  scramMatches,
} from "../pgadmin/index.js";
import { type MeshNode, secretValue } from "../topology/index.js";
import { hbaRules } from "./hba-rules.js";
import { type MeshAccess, maintenanceDb } from "./mesh-access.js";
import { standbysOf } from "./replication-config.js";

/**
 * Phase 1 for one node: roles, databases and (managed nodes) configuration files. Roles to drop
 * with --prune come back separately: they go last, after the grants and mappings that
 * reference them are gone.
 */
export async function planServer(
  access: MeshAccess,
  node: MeshNode,
  observed: ObservedServer,
): Promise<{ steps: Step[]; problems: Problem[]; roleDrops: Step[] }> {
  const t = access.topology;
  const steps: Step[] = [];
  const problems: Problem[] = [];
  const step = (summary: string, sql: string[], transaction = true, secret = false) =>
    steps.push({
      node: node.name,
      database: maintenanceDb,
      phase: 1,
      summary,
      sql,
      transaction,
      secret,
    });

  const declaredRoles = [...t.roles.values()].filter((r) => r.nodes.includes(node.name));
  const passwords = declaredRoles.map((r) => secretValue(t, r.password));
  const passwordOk = await Promise.all(
    declaredRoles.map((r, i) =>
      scramMatches(observed.roles.get(r.name)?.password ?? null, passwords[i]!),
    ),
  );
  for (const [i, r] of declaredRoles.entries()) {
    const spec = {
      name: r.name,
      password: passwords[i]!,
      createdb: r.createdb,
      connectionLimit: r.connectionLimit,
      replication: r.replication,
    };
    const have = observed.roles.get(r.name);
    if (!have) {
      step(`create role ${r.name}`, [createRole(spec), commentOnRole(r.name)], true, true);
      continue;
    }
    if (have.superuser) {
      problems.push({
        node: node.name,
        message: `role ${r.name} is a superuser on ${node.name}; dbmesh manages login roles only and leaves it alone`,
        hint: `remove roles.${r.name} from the file, or declare a separate login role`,
      });
      continue;
    }
    const passwordDrift = !passwordOk[i];
    const attrDrift =
      !have.login ||
      have.createdb !== r.createdb ||
      have.replication !== r.replication ||
      have.connlimit !== r.connectionLimit;
    if (passwordDrift || attrDrift) {
      const what = [attrDrift && "attributes", passwordDrift && "password"]
        .filter(Boolean)
        .join(" and ");
      step(`update role ${r.name} (${what})`, [alterRole(spec, passwordDrift)], true, true);
    }
  }

  const declaredDbs = t.databases.filter((d) => d.node === node.name);
  for (const d of declaredDbs) {
    const have = observed.databases.get(d.name);
    if (!have) {
      // CREATE DATABASE cannot run in a transaction block; if apply stops between the two
      // steps, the database is kept as one dbmesh did not create (never pruned).
      step(`create database ${d.name}`, [createDatabase(d.name, d.owner)], false);
      step(`mark database ${d.name} as created by dbmesh`, [commentOnDatabase(d.name)]);
      continue;
    }
    if (have.owner !== d.owner)
      step(`set owner of database ${d.name} to ${d.owner}`, [alterDatabaseOwner(d.name, d.owner)]);
  }

  // Slots first exist on the upstream, so WAL a standby still needs is kept from its first
  // connection on (the base backup creates it too, when it runs first).
  for (const sb of standbysOf(t, node.name)) {
    const slot = sb.standby?.slot;
    if (slot && !observed.slots.has(slot)) {
      step(`create replication slot ${slot} for ${sb.name}`, [createPhysicalSlot(slot)]);
    }
  }

  // Slots follow the standbys: one of this group's slot names that no standby of this node
  // uses any more (after a promotion or switchover) would hold WAL here for nobody.
  const wanted = new Set(standbysOf(t, node.name).map((sb) => sb.standby?.slot));
  const groupSlots = new Set(
    [...t.nodes.values()].filter((x) => x.group === node.group).map((x) => x.standby?.slot),
  );
  for (const slot of observed.slots) {
    if (groupSlots.has(slot) && !wanted.has(slot)) {
      step(`drop replication slot ${slot}: no standby of ${node.name} uses it`, [
        dropInactiveSlot(slot),
      ]);
    }
  }

  const roleDrops: Step[] = [];
  // A standby's roles and databases are its primary's: nothing to prune there.
  if (access.prune && !node.standby) {
    const keepDbs = new Set(declaredDbs.map((d) => d.name));
    for (const db of observed.databases.values()) {
      if (isManaged(db.comment) && !keepDbs.has(db.name))
        step(`drop database ${db.name} (--prune)`, [dropDatabase(db.name)], false);
    }
    const keepRoles = new Set(declaredRoles.map((r) => r.name));
    for (const role of observed.roles.values()) {
      if (isManaged(role.comment) && !keepRoles.has(role.name)) {
        roleDrops.push({
          node: node.name,
          database: maintenanceDb,
          phase: 3,
          summary: `drop role ${role.name} (--prune)`,
          sql: [dropRole(role.name)],
          transaction: true,
        });
      }
    }
  }

  if (node.managed && access.config) {
    const lines = hbaRules(t, node.name);
    const changes = (await access.config.compare(node.name, lines)).flatMap((f) =>
      f.have === f.want || (f.have === null && !f.secret)
        ? []
        : f.secret
          ? [`-- ${f.file} changed (holds a password, not shown)`]
          : lineDiff(f.file, f.have ?? "", f.want),
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
  return { steps, problems, roleDrops };
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

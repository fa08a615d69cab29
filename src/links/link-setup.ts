import type { Problem, Step } from "../pgadmin/index.js";
import {
  createSchema,
  dropUserMapping,
  grantSchemaUsage,
  grantServerUsage,
  holds,
  ident,
  mappingChange,
  type ObservedDatabaseContent,
  serverChanges,
} from "../pgadmin/index.js";
import { type MeshLink, secretValue, type Topology } from "../topology/index.js";
import { mappingOptions, serverOptions, wrapperOf } from "./server-options.js";

/** Phase 2 of a link on its local database: foreign server, user mappings, grants, schemas. */
export function planLinkSetup(
  t: Topology,
  link: MeshLink,
  have: ObservedDatabaseContent,
  prune: boolean,
): { steps: Step[]; problems: Problem[] } {
  const steps: Step[] = [];
  const problems: Problem[] = [];
  const node = link.from.node;
  const step = (summary: string, sql: string[], secret = false) =>
    steps.push({
      node,
      database: link.from.database,
      phase: 2,
      summary,
      sql,
      transaction: true,
      secret,
    });
  const where = `${link.from.node}/${link.from.database}`;
  const options = serverOptions(t, link);
  const server = have.servers.get(link.server);
  const { change, otherFdw } = serverChanges(
    server,
    link.server,
    wrapperOf(link),
    options,
    `create ${link.via} server ${link.server} → ${link.to.node}/${link.to.database}`,
  );
  if (otherFdw) {
    problems.push({
      node,
      message: `foreign server ${link.server} in ${where} uses ${otherFdw}, but links[${link.index}] needs ${wrapperOf(link)}`,
      hint: `drop that server, or set name: on the link to use another server name`,
    });
    return { steps, problems };
  }
  if (change) step(change.summary, change.sql);

  const mapped = new Set<string>();
  for (const m of link.as) {
    mapped.add(m.local);
    const remote = t.roles.get(m.remote);
    if (!remote) continue;
    const want = mappingOptions(link, m.remote, secretValue(t, remote.password));
    const mapping = mappingChange(
      server,
      link.server,
      m.local,
      want,
      `${m.remote}@${link.to.node}`,
    );
    if (mapping) step(mapping.summary, mapping.sql, mapping.secret);
    if (!server || !(server.owner === m.local || server.usage.includes(m.local))) {
      step(`grant usage on server ${link.server} to ${m.local}`, [
        grantServerUsage(link.server, m.local),
      ]);
    }
  }
  if (prune && server) {
    for (const user of server.mappings.keys()) {
      if (!mapped.has(user))
        step(`drop mapping of ${user} on ${link.server} (--prune)`, [
          dropUserMapping(user, link.server),
        ]);
    }
  }

  const into = new Set(
    [link.import?.into, link.views?.into, link.copies?.into].filter((s): s is string => !!s),
  );
  for (const schema of into) {
    const s = have.schemas.get(schema);
    const sql: string[] = [];
    if (!s) sql.push(createSchema(schema, link.owner));
    else {
      for (const priv of ["USAGE", "CREATE"]) {
        if (!holds(s.grants, s.owner, link.owner, priv))
          sql.push(`GRANT ${priv} ON SCHEMA ${ident(schema)} TO ${ident(link.owner)}`);
      }
    }
    for (const m of link.as) {
      if (m.local === link.owner) continue;
      if (!s || !holds(s.grants, s.owner, m.local, "USAGE"))
        sql.push(grantSchemaUsage(schema, m.local));
    }
    if (sql.length)
      step(
        s ? `grant access to schema ${schema}` : `create schema ${schema} owned by ${link.owner}`,
        sql,
      );
  }
  return { steps, problems };
}

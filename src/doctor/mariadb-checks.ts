import {
  accountHost,
  accountHostAdmits,
  accountKey,
  connectMariadb,
  grantOn,
  type MariadbConnections,
  type ObservedMariadb,
  observeMariadb,
  SYSTEM_DATABASE,
} from "../mariadb/index.js";
import { type MeshNode, secretValue, type Topology } from "../topology/index.js";
import { type CheckResult, fail, failWith, pass, timed } from "./check.js";

/**
 * A MariaDB node: the admin logs in; each declared database exists and its owner's accounts
 * hold every privilege on it; each role has an account per `from:` address, and logs in from
 * here when one of them admits this host.
 */
export async function checkMariadbNode(
  t: Topology,
  node: MeshNode,
  conns: MariadbConnections | undefined,
): Promise<CheckResult[]> {
  const apply = `run \`dbmesh apply\` (it creates what ${node.name} lacks)`;
  let o: ObservedMariadb;
  try {
    if (!conns) throw new Error("no MariaDB connections");
    const [observed, ms] = await timed(async () =>
      observeMariadb(await conns.session(node.name, SYSTEM_DATABASE)),
    );
    o = observed;
    const results = [pass("admin", node.name, `logged in as ${node.admin.user}: ${o.version}`, ms)];
    return [...results, ...(await declared(t, node, o, apply))];
  } catch (e) {
    return [failWith("admin", node.name, `cannot log in as ${node.admin.user}`, e, apply)];
  }
}

async function declared(
  t: Topology,
  node: MeshNode,
  o: ObservedMariadb,
  apply: string,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const roles = [...t.roles.values()].filter((r) => r.nodes.includes(node.name));
  for (const d of t.databases.filter((x) => x.node === node.name)) {
    const subject = `${node.name}/${d.name}`;
    if (!o.databases.has(d.name)) {
      results.push(
        fail(
          "database",
          subject,
          "missing",
          `database ${d.name} does not exist on ${node.name}`,
          apply,
        ),
      );
      continue;
    }
    results.push(pass("database", subject, `exists (${o.databases.get(d.name)!.charset})`));
    const owner = t.roles.get(d.owner);
    for (const host of new Set(owner?.from.map(accountHost) ?? [])) {
      const g = grantOn(o, d.name, d.owner, host);
      const who = accountKey(d.owner, host);
      results.push(
        g?.all
          ? pass("grant", `${subject}: ${who}`, "ALL PRIVILEGES (owner)")
          : fail(
              "grant",
              `${subject}: ${who}`,
              g ? `only ${g.privileges.join(", ")}` : "no grant",
              `the owner lacks ALL PRIVILEGES ON \`${d.name}\`.* on ${node.name}`,
              apply,
            ),
      );
    }
  }
  // Loopback nodes see this host as 127.0.0.1; a remote node's view of it is unknown, so
  // every role is tried there.
  const here = /^127\./.test(node.host) || node.host === "localhost" ? "127.0.0.1" : undefined;
  for (const r of roles) {
    const hosts = [...new Set(r.from.map(accountHost))];
    const missing = hosts.filter((h) => !o.accounts.has(accountKey(r.name, h)));
    const subject = `${r.name}@${node.name}`;
    if (missing.length) {
      results.push(
        fail(
          "account",
          subject,
          `no account for ${missing.map((h) => accountKey(r.name, h)).join(", ")}`,
          `roles.${r.name}.from declares these hosts, but ${node.name} has no account for them`,
          apply,
        ),
      );
    } else {
      results.push(pass("account", subject, hosts.map((h) => accountKey(r.name, h)).join(", ")));
    }
    if (here && !hosts.some((h) => accountHostAdmits(h, here))) {
      results.push(
        pass("login", subject, `not tried: roles.${r.name}.from does not include ${here}`),
      );
      continue;
    }
    const database = t.databases.find((d) => d.node === node.name && d.owner === r.name)?.name;
    try {
      const [s, ms] = await timed(() =>
        connectMariadb({
          node: node.name,
          host: node.host,
          port: node.port,
          user: r.name,
          password: secretValue(t, r.password),
          database,
        }),
      );
      await s.end();
      results.push(pass("login", subject, `logged in${database ? ` to ${database}` : ""}`, ms));
    } catch (e) {
      results.push(
        failWith("login", subject, `login${database ? ` to ${database}` : ""} failed`, e, apply),
      );
    }
  }
  return results;
}

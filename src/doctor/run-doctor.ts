import type { MariadbConnections } from "../mariadb/index.js";
import type { Connections } from "../pgadmin/index.js";
import type { Topology } from "../topology/index.js";
import type { CheckResult } from "./check.js";
import { checkConnectLink } from "./connect-checks.js";
import { checkMariadbNode } from "./mariadb-checks.js";
import {
  checkExtension,
  checkHbaCoverage,
  checkLinkRoundTrip,
  checkListening,
  checkLogin,
  checkPendingRestart,
} from "./mesh-checks.js";
import { checkMysqlFdwLink } from "./mysql-fdw-checks.js";
import { checkReachable } from "./reachability.js";
import { checkReplication } from "./replication-checks.js";
import { checkRouter } from "./router-checks.js";
import { checkSharding } from "./sharding-checks.js";

/**
 * Every check, nodes in parallel. Checks that need a node that is not reachable are not run;
 * the reachability failure names it.
 */
export async function runDoctor(
  t: Topology,
  conns: Connections,
  mariadb?: MariadbConnections,
): Promise<CheckResult[]> {
  const nodes = [...t.nodes.values()];
  const reach = await Promise.all(nodes.map((n) => checkReachable(n)));
  const up = new Set(nodes.filter((_, i) => reach[i]!.ok).map((n) => n.name));
  const mariadbNodes = await Promise.all(
    nodes
      .filter((n) => up.has(n.name) && n.engine === "mariadb")
      .map((n) => checkMariadbNode(t, n, mariadb)),
  );
  const perNode = await Promise.all(
    nodes
      .filter((n) => up.has(n.name) && n.engine === "postgres")
      .map(async (n) => {
        const roles = [...t.roles.values()].filter((r) => r.nodes.includes(n.name));
        return [
          await checkListening(conns, n),
          await checkPendingRestart(conns, n),
          ...(await Promise.all(roles.map((r) => checkLogin(t, r, n)))),
        ];
      }),
  );
  // One link at a time: round trips open transactions on the shared admin session.
  const perLink: CheckResult[] = [];
  for (const l of t.links) {
    if (!up.has(l.from.node) || !up.has(l.to.node)) continue;
    if (l.via === "connect_odbc" || l.via === "federatedx") {
      perLink.push(...(await checkConnectLink(t, l)));
      continue;
    }
    const ext = await checkExtension(conns, l);
    if (l.via === "mysql_fdw") {
      // MariaDB has no pg_hba.conf: the account and its grants are what the link needs there.
      perLink.push(ext, ...(ext.ok ? await checkMysqlFdwLink(conns, t, l) : []));
      continue;
    }
    perLink.push(ext, ...(await checkHbaCoverage(conns, t, l)));
    if (ext.ok) perLink.push(...(await checkLinkRoundTrip(conns, l)));
  }
  const replication = await checkReplication(conns, t, up);
  const sharding = await checkSharding(t, conns, up);
  const router = await checkRouter(t);
  return [
    ...reach,
    ...mariadbNodes.flat(),
    ...perNode.flat(),
    ...replication,
    ...perLink,
    ...sharding,
    ...router,
  ];
}

import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { stopNode } from "../../cluster/index.js";
import { odbcDriverInstalled } from "../../links/connect-odbc.js";
import { connectMariadb, findMariadb, stopMariadb } from "../../mariadb/index.js";
import { loadTopology, secretValue, type Topology } from "../../topology/index.js";
import type { Args } from "../args.js";
import { effectiveTopology, localMariadb, localNode, meshAccess } from "../mesh.js";
import type { Output } from "../output.js";
import { formatTable } from "../table.js";
import { demoPasswords, runQuery } from "./demo.js";
import { bringUp } from "./up-down.js";

export const shopFile = fileURLToPath(
  new URL("../../../../examples/shop/dbmesh.yaml", import.meta.url),
);

/** The MariaDB side's query: local orders joined with PostgreSQL's customers (CONNECT ODBC). */
export const shopMariadbQuery =
  "SELECT c.name, c.country, COUNT(o.id) AS orders, SUM(o.total) AS total FROM orders o JOIN crm.customers c ON c.id = o.customer_id GROUP BY c.id, c.name, c.country ORDER BY c.id";

/** The PostgreSQL side's query: local customers joined with MariaDB's orders (mysql_fdw). */
export const shopPostgresQuery =
  "SELECT c.name, c.vip, count(o.id) AS orders, sum(o.total) AS total FROM customers c LEFT JOIN shop.orders o ON o.customer_id = c.id GROUP BY c.id, c.name, c.vip ORDER BY c.id";

/** Why the shop example cannot run here, with the packages that fix it; undefined when it can. */
export async function shopMissing(t: Topology): Promise<string | undefined> {
  const missing: string[] = [];
  await findMariadb().catch(() => missing.push("mariadb-server"));
  if (!odbcDriverInstalled()) missing.push("odbc-postgresql", "unixodbc");
  const pg = t.nodes.get("crm")!.binaries;
  if (!existsSync(join(pg, "postgres"))) missing.push("postgresql-15");
  if (!existsSync("/usr/share/postgresql/15/extension/mysql_fdw.control"))
    missing.push("postgresql-15-mysql-fdw");
  if (!missing.length) return undefined;
  return `apt-get install ${[...new Set(missing)].join(" ")} (mariadb-plugin-connect too: dbmesh names it if the CONNECT engine is missing)`;
}

/**
 * Workflow 4: a PostgreSQL node with the customers, a MariaDB node with the orders, a link each
 * way, and a query on each side that combines both.
 */
export async function shopDemo(args: Args, out: Output): Promise<number> {
  const t = effectiveTopology(loadTopology(shopFile));
  out.line(`\ntopology: ${t.file}`);
  const missing = await shopMissing(t);
  if (missing) {
    out.line(
      `\n== shop (PostgreSQL ↔ MariaDB) skipped: its system packages are not installed.\nInstall them with: ${missing}`,
    );
    return 0;
  }
  demoPasswords(t);
  out.line(
    "\n== up: PostgreSQL 15 `crm` (customers) and MariaDB `shop` (orders); apply links them both ways",
  );
  let code = 0;
  const access = meshAccess(t, false);
  try {
    code = await bringUp(t, [...t.nodes.values()], access, out);
    await access.connections.closeAll();
    code = Math.max(code, await mariadbQuery(t, out));
    code = Math.max(
      code,
      await runQuery(
        t,
        {
          node: "crm",
          role: "crm_owner",
          title: "PostgreSQL: local customers joined with MariaDB's orders (mysql_fdw)",
          sql: shopPostgresQuery,
        },
        out,
      ),
    );
  } finally {
    await access.connections.closeAll();
    if (!args.flags.has("--keep")) {
      await stopNode(localNode(t, t.nodes.get("crm")!));
      await stopMariadb(localMariadb(t, t.nodes.get("shop")!));
      out.line("\nnodes stopped (run `dbmesh demo shop --keep` to leave them running)");
    } else {
      out.line(`\nnodes left running; stop them with: dbmesh -f ${t.file} down`);
    }
  }
  return code;
}

async function mariadbQuery(t: Topology, out: Output): Promise<number> {
  const node = t.nodes.get("shop")!;
  const clerk = t.roles.get("clerk")!;
  out.line(
    `\n== MariaDB: local orders joined with PostgreSQL's customers (CONNECT ODBC)\nclerk@shop/sales> ${shopMariadbQuery}`,
  );
  try {
    const s = await connectMariadb({
      node: node.name,
      host: node.host,
      port: node.port,
      user: clerk.name,
      password: secretValue(t, clerk.password),
      database: "sales",
    });
    try {
      const [r] = await s.raw(shopMariadbQuery);
      out.line(formatTable(r!.columns, r!.rows));
    } finally {
      await s.end();
    }
    return 0;
  } catch (e) {
    out.line(`FAILED: ${(e as Error).message}`);
    return 1;
  }
}

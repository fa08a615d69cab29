import { existsSync, writeFileSync } from "node:fs";
import type { Args } from "../args.js";
import { topologyPath } from "../mesh.js";
import type { Output } from "../output.js";

const starter = `# dbmesh topology: \`dbmesh up\` starts the nodes and applies the rest.
# Passwords are references: env:NAME or file:PATH. \`dbmesh schema\` lists every key.
version: 1

nodes:
  app: { host: 127.0.0.1, port: 15432 }
  reports: { host: 127.0.0.1, port: 15433 }

roles:
  app_user: { password: env:APP_PASSWORD, nodes: [app] }
  analyst: { password: env:ANALYST_PASSWORD, nodes: [reports] }

databases:
  appdb: { node: app, owner: app_user, schemas: [sales] }
  reporting: { node: reports, owner: analyst }

links:
  # reporting reads appdb's sales schema as foreign tables.
  - from: reports/reporting
    to: app/appdb
    via: postgres_fdw
    as: { analyst: app_user }
    import: { schema: sales, into: app_sales }
`;

export function initCommand(args: Args, out: Output): number {
  const file = topologyPath(args);
  if (existsSync(file) && !args.flags.has("--force")) {
    out.line(`${file} exists; not overwritten (--force replaces it)`);
    return 2;
  }
  writeFileSync(file, starter);
  out.line(`wrote ${file}\nnext: export APP_PASSWORD=… ANALYST_PASSWORD=…, then \`dbmesh up\``);
  return 0;
}

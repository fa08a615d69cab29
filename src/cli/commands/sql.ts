import { maintenanceDb } from "../../provision/index.js";
import { type Args, UsageError } from "../args.js";
import { connectionsFor, loadFromArgs } from "../mesh.js";
import type { Output } from "../output.js";
import { formatTable } from "../table.js";

/** `dbmesh sql NODE[/DB] SQL`: runs SQL as the node's admin and prints each result as a table. */
export async function sqlCommand(args: Args, out: Output): Promise<number> {
  const [target, ...rest] = args.positional;
  const text = rest.join(" ");
  if (!target || !text) throw new UsageError('usage: dbmesh sql NODE[/DB] "SQL"');
  const t = loadFromArgs(args);
  const [node = "", db] = target.split("/");
  if (!t.nodes.has(node))
    throw new UsageError(`unknown node ${node}; nodes: ${[...t.nodes.keys()].join(", ")}`);
  // Without a declared one: a MariaDB session has no default database, PostgreSQL's maintenance one.
  const database = db ?? t.databases.find((d) => d.node === node)?.name;
  const conns = connectionsFor(t);
  try {
    const results =
      t.nodes.get(node)!.engine === "mariadb"
        ? await (await conns.mariadb.session(node, database)).raw(text)
        : await (await conns.session(node, database ?? maintenanceDb)).raw(text);
    out.data(results);
    for (const r of results) {
      if (r.columns.length) out.line(formatTable(r.columns, r.rows));
      else out.line(`${r.command}${r.rowCount !== null ? ` ${r.rowCount}` : ""}`);
    }
    return 0;
  } finally {
    await conns.closeAll();
  }
}

import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { stopNode } from "../../cluster/index.js";
import { runDoctor } from "../../doctor/index.js";
import { connectAs } from "../../pgadmin/index.js";
import { makePlan, stepCount } from "../../provision/index.js";
import { loadTopology, secretValue, type Topology } from "../../topology/index.js";
import { type Args, UsageError } from "../args.js";
import { effectiveTopology, localNode, meshAccess } from "../mesh.js";
import type { Output } from "../output.js";
import { formatTable } from "../table.js";
import { haDemo } from "./demo-ha.js";
import { libraryDemo } from "./demo-library.js";
import { shopDemo } from "./demo-shop.js";
import { bringUp } from "./up-down.js";

const scottFile = fileURLToPath(new URL("../../../../examples/scott/dbmesh.yaml", import.meta.url));

/** Queries the demo runs, as the roles a user would log in as. */
const queries: { node: string; role: string; title: string; sql: string }[] = [
  {
    node: "postgre2",
    role: "pablo2",
    title:
      "Workflow 1: the remote bonus table with a plain dblink call (named server, no password in the query)",
    sql: "SELECT * FROM dblink('postgre1', 'SELECT empno, bonus FROM scott.bonus') AS t(empno integer, bonus integer)",
  },
  {
    node: "postgre2",
    role: "pablo2",
    title:
      "Workflow 1: the remote table's columns, read through dblink from information_schema.columns",
    sql: "SELECT * FROM dblink('postgre1', $$SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = 'scott' AND table_name = 'bonus' ORDER BY ordinal_position$$) AS t(column_name text, data_type text, is_nullable text)",
  },
  {
    node: "postgre2",
    role: "pablo2",
    title: "Workflow 1: the local copy of bonus (structure, NOT NULL, primary key and data)",
    sql: "SELECT column_name, data_type, is_nullable, (SELECT count(*) FROM public.bonus) AS rows FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'bonus' ORDER BY ordinal_position",
  },
  {
    node: "postgre2",
    role: "pablo2",
    title:
      "Workflow 2: dblink_connect with the named server (the user mapping supplies the credentials)",
    sql: "SELECT dblink_connect('conn', 'postgre1'); SELECT * FROM dblink('conn', 'SELECT ename, job FROM scott.emp WHERE deptno = 10') AS t(ename text, job text); SELECT dblink_disconnect('conn')",
  },
  {
    node: "postgre2",
    role: "pablo2",
    title: "Workflow 3: the typed view: no column definition list",
    sql: "SELECT * FROM postgre1.bonus ORDER BY empno",
  },
  {
    node: "postgre2",
    role: "pablo2",
    title: "Workflow 3: local emp and dept joined with the remote bonus",
    sql: "SELECT e.ename, d.dname, b.bonus FROM scott.emp e JOIN scott.dept d USING (deptno) JOIN postgre1.bonus b USING (empno) ORDER BY e.ename",
  },
  {
    node: "postgre1",
    role: "pablo1",
    title: "Workflow 3, other direction: postgre2's emp (postgres_fdw) joined with local dept",
    sql: "SELECT d.dname, count(*) AS employees, sum(e.sal) AS payroll FROM postgre2_scott.emp e JOIN scott.dept d USING (deptno) GROUP BY d.dname ORDER BY d.dname",
  },
];

/**
 * `demo [scott|ha|library|shop]`: the workflows end to end on local servers; all parts by
 * default (shop says how to install MariaDB and the drivers when they are missing).
 */
export async function demoCommand(args: Args, out: Output): Promise<number> {
  const which = args.positional[0];
  if (which && !["scott", "ha", "library", "shop"].includes(which))
    throw new UsageError("usage: dbmesh demo [scott|ha|library|shop] [--keep]");
  let code = 0;
  if (!which || which === "scott") code = Math.max(code, await scottDemo(args, out));
  if (!args.file && (!which || which === "ha")) code = Math.max(code, await haDemo(args, out));
  if (!args.file && (!which || which === "library"))
    code = Math.max(code, await libraryDemo(args, out));
  if (!args.file && (!which || which === "shop")) code = Math.max(code, await shopDemo(args, out));
  out.data({ ok: code === 0 });
  return code;
}

/** Workflows 1-3 end to end: start two servers, apply, verify, query as the users would. */
async function scottDemo(args: Args, out: Output): Promise<number> {
  const t = effectiveTopology(loadTopology(args.file ?? scottFile));
  demoPasswords(t);
  out.line(`topology: ${t.file}`);
  out.line("\n== up: start the nodes, then apply the file");
  const access = meshAccess(t, false);
  let code = 0;
  try {
    code = await bringUp(
      t,
      [...t.nodes.values()].filter((n) => n.managed),
      access,
      out,
    );
    const again = await makePlan(access);
    out.line(
      `\n== plan after apply: ${stepCount(again) ? `${stepCount(again)} changes (unexpected)` : "no changes"} (${again.roundTrips} catalog round trips)`,
    );
    const checks = await runDoctor(t, access.connections);
    const failed = checks.filter((c) => !c.ok);
    out.line(`\n== doctor: ${checks.length - failed.length}/${checks.length} checks passed`);
    for (const c of failed)
      out.line(`FAIL ${c.check} ${c.subject}: ${c.cause}\n     fix: ${c.fix}`);
    if (failed.length) code = 1;
    for (const q of queries) code = Math.max(code, await runQuery(t, q, out));
  } finally {
    await access.connections.closeAll();
    if (!args.flags.has("--keep")) {
      for (const n of t.nodes.values()) if (n.managed) await stopNode(localNode(t, n));
      out.line("\nnodes stopped (run `dbmesh demo --keep` to leave them running)");
    } else {
      out.line(`\nnodes left running; stop them with: dbmesh -f ${t.file} down`);
    }
  }
  return code;
}

export async function runQuery(
  t: Topology,
  q: { node: string; role: string; title: string; sql: string; database?: string },
  out: Output,
): Promise<number> {
  const node = t.nodes.get(q.node)!;
  const role = t.roles.get(q.role)!;
  const database =
    q.database ?? t.databases.find((d) => d.node === q.node && d.owner === q.role)!.name;
  out.line(`\n== ${q.title}\n${q.role}@${q.node}/${database}> ${q.sql}`);
  try {
    const client = await connectAs({
      node: q.node,
      host: node.host,
      port: node.port,
      database,
      user: q.role,
      password: secretValue(t, role.password),
    });
    try {
      const r: unknown = await client.query({ text: q.sql, rowMode: "array" });
      const results = (Array.isArray(r) ? r : [r]) as {
        command: string;
        rowCount: number | null;
        fields: { name: string }[];
        rows: unknown[][];
      }[];
      for (const res of results) {
        out.line(
          res.fields.length
            ? formatTable(
                res.fields.map((f) => f.name),
                res.rows,
              )
            : `${res.command} ${res.rowCount ?? ""}`,
        );
      }
    } finally {
      await client.end();
    }
    return 0;
  } catch (e) {
    out.line(`FAILED: ${(e as Error).message}`);
    return 1;
  }
}

/** The example's passwords come from the environment; the demo makes them once and keeps them. */
export function demoPasswords(t: Topology): void {
  const file = join(t.stateDir, "demo-passwords.json");
  mkdirSync(t.stateDir, { recursive: true, mode: 0o755 });
  const saved: Record<string, string> = existsSync(file)
    ? JSON.parse(readFileSync(file, "utf8"))
    : {};
  for (const r of t.roles.values()) {
    if (!r.password.ref.startsWith("env:")) continue;
    const name = r.password.ref.slice(4);
    if (process.env[name]) continue;
    saved[name] ??= randomBytes(18).toString("base64url");
    process.env[name] = saved[name];
  }
  writeFileSync(file, JSON.stringify(saved, null, 2), { mode: 0o600 });
}

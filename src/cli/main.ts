import pg from "pg";
import { isClusterError } from "../cluster/index.js";
import { isMariadbError } from "../mariadb/index.js";
import { isPgAdminError } from "../pgadmin/index.js";
import { MetricsListenError } from "../router/index.js";
import { jsonSchema, TopologyError } from "../topology/index.js";
import { type Args, parseArgs, UsageError, usage } from "./args.js";
import { applyCommand, planCommand } from "./commands/apply.js";
import { demoCommand } from "./commands/demo.js";
import { doctorCommand } from "./commands/doctor.js";
import { explainCommand } from "./commands/explain.js";
import { promoteCommand, switchoverCommand } from "./commands/failover.js";
import { initCommand } from "./commands/init.js";
import { serveCommand } from "./commands/serve.js";
import { shardCommand } from "./commands/shard.js";
import { sqlCommand } from "./commands/sql.js";
import { statusCommand } from "./commands/status.js";
import { downCommand, upCommand } from "./commands/up-down.js";
import { makeOutput, type Output, topologyErrorText } from "./output.js";

type Command = (args: Args, out: Output) => Promise<number> | number;

const commands: Record<string, Command> = {
  init: initCommand,
  up: upCommand,
  down: downCommand,
  plan: planCommand,
  apply: applyCommand,
  status: statusCommand,
  doctor: doctorCommand,
  sql: sqlCommand,
  explain: explainCommand,
  shard: shardCommand,
  demo: demoCommand,
  promote: promoteCommand,
  switchover: switchoverCommand,
  serve: serveCommand,
  schema: () => {
    process.stdout.write(`${JSON.stringify(jsonSchema(), null, 2)}\n`);
    return 0;
  },
};

/** Runs one command line; returns the exit code. Errors become messages, never stack traces. */
export async function main(argv: readonly string[]): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n\n${usage}\n`);
    return 2;
  }
  if (args.command === "help" || args.flags.has("--help")) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const command = commands[args.command];
  if (!command) {
    process.stderr.write(`error: unknown command ${args.command}\n\n${usage}\n`);
    return 2;
  }
  const out = makeOutput(args.json);
  try {
    return await command(args, out);
  } catch (e) {
    return report(e, out);
  }
}

function report(e: unknown, out: Output): number {
  if (e instanceof TopologyError) {
    if (out.json) out.data({ error: "topology", issues: e.issues });
    else process.stderr.write(`${topologyErrorText(e)}\n`);
    return 2;
  }
  if (e instanceof UsageError) {
    process.stderr.write(`error: ${e.message}\n`);
    return 2;
  }
  if (isClusterError(e)) {
    if (out.json) out.data({ error: e.kind, node: e.node, message: e.message, hint: e.hint });
    else process.stderr.write(`error: ${e.message}\n`);
    return 1;
  }
  if (isPgAdminError(e) || isMariadbError(e)) {
    if (out.json) out.data({ error: e.kind, node: e.node, message: e.message, hint: e.hint });
    else process.stderr.write(`error: ${e.message}\n  hint: ${e.hint}\n`);
    return 1;
  }
  if (e instanceof MetricsListenError) {
    if (out.json) out.data({ error: e.kind, message: e.message, hint: e.hint });
    else process.stderr.write(`error: ${e.message}\n  hint: ${e.hint}\n`);
    return 1;
  }
  process.stderr.write(`error: ${(e as Error)?.stack ?? String(e)}\n`);
  return 1;
}

// Dates and timestamps print as PostgreSQL writes them, not as JavaScript Dates.
for (const oid of [1082, 1114, 1184]) pg.types.setTypeParser(oid, (v: string) => v);

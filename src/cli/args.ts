/** Parsed command line: the command, its positional arguments and its flags. */
export interface Args {
  readonly command: string;
  readonly positional: readonly string[];
  readonly file: string | undefined;
  readonly json: boolean;
  readonly flags: ReadonlySet<string>;
  readonly values: ReadonlyMap<string, string>;
}

export class UsageError extends Error {
  readonly kind = "usage" as const;
}

const valueFlags = new Set(["-f", "--file", "--node", "--wait", "--to"]);
const booleanFlags = new Set([
  "--json",
  "--purge",
  "--prune",
  "--keep",
  "--help",
  "-h",
  "--force",
  "--reclone",
  "--analyze",
]);

export function parseArgs(argv: readonly string[]): Args {
  const positional: string[] = [];
  const flags = new Set<string>();
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      positional.push(...argv.slice(i + 1));
      break;
    }
    const [flag, inline] =
      a.startsWith("--") && a.includes("=")
        ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]
        : [a, undefined];
    if (valueFlags.has(flag)) {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      values.set(flag === "-f" ? "--file" : flag, v);
    } else if (booleanFlags.has(flag)) {
      flags.add(flag === "-h" ? "--help" : flag);
    } else if (a.startsWith("-") && a.length > 1 && !/^-\d/.test(a)) {
      throw new UsageError(`unknown option ${a}`);
    } else positional.push(a);
  }
  const [command = "help", ...rest] = positional;
  return {
    command,
    positional: rest,
    file: values.get("--file"),
    json: flags.has("--json"),
    flags,
    values,
  };
}

export const usage = `dbmesh — interconnect PostgreSQL servers from one file

usage: dbmesh [-f FILE] COMMAND [options]

  init                      write a starter dbmesh.yaml
  up [--node N] [--reclone] start local nodes (build standbys), then apply
  down [--node N] [--purge] stop local nodes; --purge deletes their data
  plan [--json] [--prune]   per node, the SQL apply would run; exit 0 none, 1 some
  apply [--json] [--prune]  converge live servers to the file
  status [--json]           nodes, databases, links, shards, router
  doctor [--json]           every check with its cause and fix; exit 1 if any fails
  sql NODE[/DB] SQL [--json] run SQL on a node as its admin and print the result
  explain [NODE[/DB]] SQL [--analyze]  which nodes a query touches through postgres_fdw,
                            what is pushed down to them, what is pulled back whole
  shard move TABLE KEY --to NODE  move one shard's rows (and its following tables') to
                            NODE while other keys stay writable; edits the file to match
  promote NODE              promote a standby (failover); repoint the other standbys
  switchover NODE [--wait S] planned swap: the standby becomes primary, the primary its standby
  serve                     the router on router.listen (SIGHUP reloads, ^C stops)
  demo [scott|ha|library|shop] [--keep]  workflows 1-7 end to end on local meshes
  schema                    JSON Schema of the topology file

The file is -f FILE, else $DBMESH_FILE, else ./dbmesh.yaml.
Exit codes: 0 ok, 1 a check failed or a plan has changes, 2 bad usage or a bad file.`;

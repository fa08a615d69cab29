import { constants } from "node:fs";
import { access, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { conninfoValue, passfileEntry } from "../pgadmin/quote.js";
import { findBinaries } from "./binaries.js";
import type { LocalNode } from "./local-node.js";
import { nodePaths } from "./paths.js";
import { runCommand } from "./run-command.js";
import { ensureServerUser } from "./server-user.js";
import { writeFileAtomic } from "./write-file-atomic.js";

export interface RewindSource {
  readonly host: string;
  readonly port: number;
  /** A superuser of the source server. */
  readonly user: string;
  readonly password: string;
}

// Settings pg_rewind copies from the source's postgresql.auto.conf that would make the rewound
// node stream from the wrong place: its own come from dbmesh.conf.
const COPIED_STANDBY_SETTINGS = /^\s*(primary_conninfo|primary_slot_name)\s*=/;

/**
 * Rewinds a stopped node's data directory to where it left the source's timeline, with the
 * node's own pg_rewind, so that it can stream from the source instead of being copied whole.
 * Needs wal_log_hints or data checksums on the node since before the divergence. Returns why
 * it could not be done (no pg_rewind among the binaries, or pg_rewind failed); the directory
 * is then unusable as it is and must be copied again.
 * https://www.postgresql.org/docs/17/app-pgrewind.html
 */
export async function rewindNode(
  node: LocalNode,
  source: RewindSource,
): Promise<{ rewound: true } | { rewound: false; reason: string }> {
  const bins = await findBinaries(node.binaries);
  const tool = join(bins.binDir, "pg_rewind");
  try {
    await access(tool, constants.X_OK);
  } catch {
    return { rewound: false, reason: `${bins.binDir} has no pg_rewind` };
  }
  const user = await ensureServerUser();
  const { dataDir } = nodePaths(node);
  // The password reaches pg_rewind in a file only the server user reads, never on its command line.
  const passfile = join(node.stateDir, "rewind.pgpass");
  await writeFileAtomic(
    passfile,
    passfileEntry(source.host, source.port, "*", source.user, source.password),
    { mode: 0o600, owner: user },
  );
  try {
    const conninfo = [
      ["host", source.host],
      ["port", String(source.port)],
      ["user", source.user],
      ["dbname", "postgres"],
      ["passfile", passfile],
    ]
      .map(([k, v]) => `${k}=${conninfoValue(v!)}`)
      .join(" ");
    const r = await runCommand(
      tool,
      ["--target-pgdata", dataDir, "--source-server", conninfo, "--progress"],
      { user, cwd: node.stateDir, timeoutMs: 30 * 60_000 },
    );
    if (r.code !== 0) {
      const last = r.output.split("\n").filter(Boolean).slice(-3).join("; ");
      return { rewound: false, reason: `pg_rewind failed: ${last}` };
    }
  } finally {
    await rm(passfile, { force: true });
  }
  const auto = join(dataDir, "postgresql.auto.conf");
  const kept = (await readFile(auto, "utf8").catch(() => ""))
    .split("\n")
    .filter((l) => !COPIED_STANDBY_SETTINGS.test(l))
    .join("\n");
  await writeFileAtomic(auto, kept, { mode: 0o600, owner: user });
  return { rewound: true };
}

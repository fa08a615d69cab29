import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { quoteConfValue } from "../cluster/index.js";
import { checkSlotName } from "./replication-command.js";
import { writeFileDurable } from "./write-file-durable.js";

export interface StandbyConfig {
  /** libpq connection string for primary_conninfo. */
  readonly primaryConninfo: string;
  /** primary_slot_name, when the standby uses a slot. */
  readonly slot?: string | undefined;
}

/**
 * The lines appended to postgresql.auto.conf, as pg_basebackup -R writes them. Values are
 * single-quoted with ' doubled and backslashes escaped (quoteConfValue).
 * https://www.postgresql.org/docs/17/runtime-config-replication.html#RUNTIME-CONFIG-REPLICATION-STANDBY
 */
export function standbySettings(config: StandbyConfig): string {
  const lines = [`primary_conninfo = ${quoteConfValue(config.primaryConninfo)}`];
  if (config.slot !== undefined) {
    checkSlotName(config.slot);
    lines.push(`primary_slot_name = ${quoteConfValue(config.slot)}`);
  }
  return `${lines.join("\n")}\n`;
}

/**
 * Makes a restored data directory start as a streaming standby: an empty standby.signal, and
 * primary_conninfo (plus primary_slot_name) after whatever postgresql.auto.conf holds, so they
 * override earlier values.
 * https://www.postgresql.org/docs/17/warm-standby.html#STANDBY-SERVER-SETUP
 */
export async function writeStandbyConfig(
  dataDir: string,
  config: StandbyConfig | undefined,
  opts: { owner?: { uid: number; gid: number } | undefined; sync: boolean },
): Promise<void> {
  await writeFileDurable(join(dataDir, "standby.signal"), "", opts);
  if (!config) return;
  const settings = standbySettings(config);
  const auto = join(dataDir, "postgresql.auto.conf");
  let current = "";
  try {
    current = await readFile(auto, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  const separator = current === "" || current.endsWith("\n") ? "" : "\n";
  await writeFileDurable(auto, current + separator + settings, opts);
}

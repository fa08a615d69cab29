import { readFileSync, statSync } from "node:fs";
import { writeFileAtomic } from "../../cluster/index.js";
import { moveShard, shardGroup, withTableSources } from "../../sharding/index.js";
import { parseTopology, placeShard } from "../../topology/index.js";
import { type Args, UsageError } from "../args.js";
import { effectiveTopology, meshAccess, topologyPath } from "../mesh.js";
import type { Output } from "../output.js";
import { runApply } from "./apply.js";

const usageText = "usage: dbmesh shard move TABLE KEY --to NODE";

/**
 * `dbmesh shard move TABLE KEY --to NODE`: the file is changed to place that shard on NODE
 * (comments kept), apply creates what NODE needs (its shard tables, the coordinator's access),
 * then the rows move and the shard's server is repointed (see moveShard). Running it again
 * after an interruption finishes the move; with the file already edited by hand it only
 * moves the rows.
 */
export async function shardCommand(args: Args, out: Output): Promise<number> {
  const [verb, table, handle] = args.positional;
  const to = args.values.get("--to");
  if (verb !== "move" || !table || !handle || !to) throw new UsageError(usageText);
  const path = topologyPath(args);
  const text = readFileSync(path, "utf8");
  const before = parseTopology(path, text);
  if (!before.nodes.has(to))
    throw new UsageError(`unknown node ${to}; nodes: ${[...before.nodes.keys()].join(", ")}`);
  const placed = placeShard(text, table, handle, to);
  if (typeof placed === "string") throw new UsageError(placed);
  // Validated before it is written: a file that would not load is never left behind.
  const t = effectiveTopology(parseTopology(path, placed.text));
  const access = meshAccess(t, false);
  try {
    const group = shardGroup(await withTableSources(t, access.connections), table, handle);
    if (typeof group === "string") throw new UsageError(group);
    if (placed.before !== to) {
      await writeFileAtomic(path, placed.text, { mode: statSync(path).mode & 0o777, owner: null });
      out.line(`${path}: ${placed.path}: ${placed.before} → ${to}`);
    }
    // Problems are expected here: apply reports the shard as not moved yet, which is next.
    await runApply(access, out);
    const r = await moveShard(t, access.connections, group);
    out.data({ table, shard: group.shard.name, ...r });
    if (r.already) {
      out.line(`${table} ${handle}: already on ${r.to}; nothing to move`);
      return 0;
    }
    const rows = Object.entries(r.rows)
      .map(([name, n]) => `${name} ${n} row${n === 1 ? "" : "s"}`)
      .join(", ");
    out.line(
      `moved ${table} ${handle} from ${r.from} to ${r.to}: ${rows}; writes to it waited ${r.pausedMs} ms`,
    );
    return 0;
  } finally {
    await access.connections.closeAll();
  }
}

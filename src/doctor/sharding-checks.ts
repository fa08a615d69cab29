import { type Connections, ident, qualified, setRole } from "../pgadmin/index.js";
import { type ShardLayout, shardCheck, shardLayouts } from "../sharding/index.js";
import type { Topology } from "../topology/index.js";
import { type CheckResult, fail, failWith, pass, timed } from "./check.js";

/** Keys shown when a shard holds rows outside its bounds: enough to find them, not a dump. */
const SHOWN_KEYS = 5;

/**
 * Per shard of each sharded table: its bounds CHECK is in place and every row satisfies it
 * (read on the shard node), and its foreign partition reaches it from the coordinator as the
 * coordinator database's owner, the role clients use. Shards on nodes that are down are left
 * to the reachability check, which names the node.
 */
export async function checkSharding(
  t: Topology,
  conns: Connections,
  up: ReadonlySet<string>,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const l of shardLayouts(t)) {
    for (const sh of l.shards) {
      const subject = `sharded.${l.name} ${l.schema}.${sh.name} on ${sh.node}/${sh.database}`;
      if (up.has(sh.node) && !sh.local) results.push(await checkBounds(conns, l, sh, subject));
      if (up.has(l.coordinator.node) && !sh.local)
        results.push(await checkReach(t, conns, l, sh, subject));
    }
  }
  return results;
}

type Shard = ShardLayout["shards"][number];

async function checkBounds(
  conns: Connections,
  l: ShardLayout,
  sh: Shard,
  subject: string,
): Promise<CheckResult> {
  const check = shardCheck(l.key, sh.bounds, l.placement);
  if (!check) return pass("shard-bounds", subject, "hash shard: the coordinator routes its rows");
  const table = qualified(l.schema, sh.name);
  try {
    const s = await conns.session(sh.node, sh.database);
    const [present] = await s.query<{ ok: boolean }>("SELECT to_regclass($1) IS NOT NULL AS ok", [
      table,
    ]);
    if (!present?.ok)
      return fail(
        "shard-bounds",
        subject,
        "the shard table is missing",
        `${table} does not exist in ${sh.node}/${sh.database}`,
        "run `dbmesh apply` to create it",
      );
    const [constraint] = await s.query<{ validated: boolean }>(
      `SELECT convalidated AS validated FROM pg_constraint
        WHERE conrelid = $1::regclass AND contype = 'c' AND conname = $2`,
      [table, `${sh.name}_bounds`],
    );
    const outside = await s.query<{ key: string | null }>(
      `SELECT DISTINCT ${qualified("t", l.key)}::text AS key FROM ${table} t WHERE NOT (${check}) LIMIT ${SHOWN_KEYS + 1}`,
    );
    if (outside.length)
      return fail(
        "shard-bounds",
        subject,
        `rows outside the shard's bounds (${check})`,
        `keys ${outside
          .slice(0, SHOWN_KEYS)
          .map((r) => r.key ?? "NULL")
          .join(
            ", ",
          )}${outside.length > SHOWN_KEYS ? ", …" : ""} are stored here; the coordinator never reads them from this shard`,
        `move those rows to their shard through the coordinator (INSERT … SELECT, then DELETE here), then restore the CHECK`,
      );
    if (!constraint?.validated)
      return fail(
        "shard-bounds",
        subject,
        "the bounds CHECK is missing or not validated",
        `${sh.name}_bounds is ${constraint ? "NOT VALID" : "missing"}, so rows of other keys could be stored here`,
        `ALTER TABLE ${table} ${constraint ? "VALIDATE" : "ADD"} CONSTRAINT ${ident(`${sh.name}_bounds`)}${constraint ? "" : ` CHECK (${check})`}`,
      );
    return pass("shard-bounds", subject, `every row satisfies ${check}`);
  } catch (e) {
    return failWith(
      "shard-bounds",
      subject,
      "could not read the shard",
      e,
      `check ${sh.node} with the reachable and login checks above`,
    );
  }
}

async function checkReach(
  t: Topology,
  conns: Connections,
  l: ShardLayout,
  sh: Shard,
  subject: string,
): Promise<CheckResult> {
  const c = l.coordinator;
  const owner = t.databases.find((d) => d.node === c.node && d.name === c.database)?.owner;
  const partition = qualified(l.schema, sh.name);
  try {
    const s = await conns.session(c.node, c.database);
    await s.query("BEGIN");
    try {
      if (owner) await s.query(setRole(owner));
      const [, ms] = await timed(() => s.query(`SELECT 1 FROM ONLY ${partition} LIMIT 1`));
      return pass(
        "shard-reach",
        subject,
        `${c.node}/${c.database} reads ${l.schema}.${sh.name} from ${sh.node}${owner ? ` as ${owner}` : ""}`,
        ms,
      );
    } finally {
      await s.query("ROLLBACK");
    }
  } catch (e) {
    // The error's own hint is apply's; what helps here is which node to start or check.
    return fail(
      "shard-reach",
      subject,
      `the coordinator ${c.node}/${c.database} cannot read its foreign partition ${l.schema}.${sh.name} on ${sh.node}`,
      (e as Error).message,
      `start ${sh.node} (dbmesh up --node ${sh.node}) if it is down, else run \`dbmesh apply\` and see its hba and login checks`,
    );
  }
}

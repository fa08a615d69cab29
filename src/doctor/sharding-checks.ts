import { setTimeout as sleep } from "node:timers/promises";
import { type Connections, ident, qualified, setRole } from "../pgadmin/index.js";
import {
  isBuildableReference,
  ownerOf,
  type ShardLayout,
  shardCheck,
  shardLayouts,
  withTableSources,
} from "../sharding/index.js";
import type { ReferenceTable, Topology } from "../topology/index.js";
import { type CheckResult, fail, failWith, pass, rolledBack, timed } from "./check.js";

/** Keys shown when a shard holds rows outside its bounds: enough to find them, not a dump. */
const SHOWN_KEYS = 5;

/**
 * Per shard of each sharded table: its bounds CHECK is in place and every row satisfies it
 * (read on the shard node), and its foreign partition reaches it from the coordinator as the
 * coordinator database's owner, the role clients use. Shards on nodes that are down are left
 * to the reachability check, which names the node.
 */
export async function checkSharding(
  file: Topology,
  conns: Connections,
  up: ReadonlySet<string>,
): Promise<CheckResult[]> {
  const t = await withTableSources(file, conns);
  const results: CheckResult[] = [];
  for (const l of shardLayouts(t)) {
    for (const sh of l.shards) {
      const subject = `sharded.${l.name} ${l.schema}.${sh.name} on ${sh.node}/${sh.database}`;
      if (up.has(sh.node) && !sh.local) results.push(await checkBounds(conns, l, sh, subject));
      if (up.has(l.coordinator.node) && !sh.local)
        results.push(await checkReach(t, conns, l, sh, subject));
    }
  }
  for (const r of t.sharded.filter(isBuildableReference)) {
    if (!up.has(r.coordinator.node)) continue;
    for (const c of r.shards)
      if (up.has(c.node)) results.push(await checkReferenceCopy(conns, r, c));
  }
  return results;
}

/** How long a copy may trail its source before doctor calls it out of sync. */
const SYNC_WAIT_MS = 5000;

/**
 * A reference table's copy holds the same rows as the coordinator's table: the row count and
 * an md5 of the rows in a fixed order are compared, again for a few seconds while they
 * differ (replication is asynchronous, so a change just made may not have arrived).
 */
async function checkReferenceCopy(
  conns: Connections,
  r: ReferenceTable,
  c: { node: string; database: string },
): Promise<CheckResult> {
  const subject = `sharded.${r.name} copy on ${c.node}/${c.database}`;
  const table = qualified(r.table.schema, r.table.table);
  const digest = `SELECT count(*)::text AS rows, coalesce(md5(string_agg(x::text, ',' ORDER BY x::text)), '') AS md5 FROM ${table} x`;
  try {
    const source = await conns.session(r.coordinator.node, r.coordinator.database);
    const copy = await conns.session(c.node, c.database);
    const deadline = performance.now() + SYNC_WAIT_MS;
    for (;;) {
      const [[a], [b]] = await Promise.all([
        source.query<{ rows: string; md5: string }>(digest),
        copy.query<{ rows: string; md5: string }>(digest),
      ]);
      if (a?.md5 === b?.md5)
        return pass("reference", subject, `same ${a?.rows} rows as ${r.coordinator.node}`);
      if (performance.now() > deadline) {
        const [state] = await copy.query<{ enabled: boolean; states: string | null }>(
          `SELECT s.subenabled AS enabled,
                  (SELECT string_agg(DISTINCT r.srsubstate::text, '') FROM pg_subscription_rel r
                    WHERE r.srsubid = s.oid AND r.srrelid = to_regclass($1)) AS states
             FROM pg_subscription s WHERE s.subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND s.subname LIKE 'dbmesh_ref_%'`,
          [table],
        );
        return fail(
          "reference",
          subject,
          `${b?.rows} rows here, ${a?.rows} on ${r.coordinator.node}, still different after ${SYNC_WAIT_MS / 1000} s`,
          !state
            ? "no dbmesh subscription in this database"
            : !state.enabled
              ? "its subscription is disabled"
              : state.states && state.states !== "r"
                ? `the table's initial copy is not finished (state ${state.states})`
                : "the copy was changed directly, or replication stopped (see the node's log)",
          "run `dbmesh apply`; a copy changed by hand: truncate it and refresh the subscription (ALTER SUBSCRIPTION … REFRESH PUBLICATION WITH (copy_data = true) after removing the table from it)",
        );
      }
      await sleep(250);
    }
  } catch (e) {
    return failWith("reference", subject, "could not compare the copy", e, "see the checks above");
  }
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
  const owner = ownerOf(t, c.node, c.database);
  const partition = qualified(l.schema, sh.name);
  try {
    const s = await conns.session(c.node, c.database);
    const [, ms] = await rolledBack(s, async () => {
      if (owner) await s.query(setRole(owner));
      return timed(() => s.query(`SELECT 1 FROM ONLY ${partition} LIMIT 1`));
    });
    return pass(
      "shard-reach",
      subject,
      `${c.node}/${c.database} reads ${l.schema}.${sh.name} from ${sh.node}${owner ? ` as ${owner}` : ""}`,
      ms,
    );
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

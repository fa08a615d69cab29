// Moving one shard (and the co-located shards of its following tables) to another node.
import {
  alterOptions,
  alterServer,
  alterUserMapping,
  type Connections,
  createServer,
  createUserMapping,
  dropServer,
  ident,
  PgAdminError,
  qualified,
  quietLogging,
  type Session,
  setRole,
} from "../pgadmin/index.js";
import { type ColumnDef, secretValue, type Topology } from "../topology/index.js";
import { ownerOf } from "./database-owner.js";
import type { ShardGroup } from "./shaped.js";
import { serverTarget, shardServerOptions } from "./shard-servers.js";
import { alterOwner, createShardForeignTable, fenceMovedShard } from "./sharding-sql.js";

export interface MoveResult {
  readonly from: string;
  readonly to: string;
  /** Rows copied, per table (its key under sharded:). */
  readonly rows: Readonly<Record<string, number>>;
  /** How long writes to the moving shard waited: from its lock to the switch. */
  readonly pausedMs: number;
  /** The shard was on its declared node already: nothing was copied. */
  readonly already: boolean;
}

/** The temporary server and tables that reach the target while the shard is copied. */
const MOVE_SERVER = "dbmesh_shard_move";
const moveTable = (shard: string) => `dbmesh_move_${shard}`.slice(0, 63);

/**
 * Moves the rows of `g` from the node its server points at now to the node the file declares
 * (`g.shard.node`), then repoints the server. The target's shard tables must exist (apply
 * creates them from the file). In order:
 *
 * 1. On the source node, LOCK the shard tables IN SHARE MODE: writes to this shard wait, reads
 *    go on. The lock is taken where the rows are, not on the coordinator's foreign partition (a
 *    foreign table cannot be locked), and never on the partitioned parent, so writes to every
 *    other shard go on and no writer waiting here holds a lock the move needs. In the same
 *    transaction, the fence (fenceMovedShard): triggers that turn any later write to these
 *    tables into a retry.
 * 2. On the coordinator, in one transaction: a temporary server to the target, the target's
 *    shard tables emptied (a copy left by an interrupted move) and filled from the foreign
 *    partitions, then the shard's server and user mapping repointed at the target. Changing a
 *    server's options takes no lock on any table; postgres_fdw drops its cached connections
 *    to a changed server, so the next transaction of every session reads the target.
 * 3. Commit the coordinator, then the source. A failure before the coordinator's commit rolls
 *    both back: the rows are where they were and the server still points there. A writer that
 *    was waiting for the lock gets the fence's 40001 and retries against the target.
 * 4. Drop the old tables (this waits for reads still running on them).
 */
export async function moveShard(
  t: Topology,
  conns: Connections,
  g: ShardGroup,
): Promise<MoveResult> {
  const c = g.coordinator;
  const to = { node: g.shard.node, database: g.shard.database };
  const where = (e: { node: string; database: string }) => `${e.node}/${e.database}`;
  const fail = (node: string, message: string, hint: string) =>
    new PgAdminError("sql", node, message, hint);
  if (g.shard.local || !g.server)
    throw fail(
      c.node,
      `shard ${g.shard.name} is declared on the coordinator ${where(c)} itself`,
      "a shard on the coordinator is a local partition; moving it in or out would need a DETACH that blocks every key: declare it on another node",
    );
  const coordinator = await conns.session(c.node, c.database);
  const [server] = await coordinator.query<{ options: string[] | null }>(
    "SELECT srvoptions AS options FROM pg_foreign_server WHERE srvname = $1",
    [g.server],
  );
  if (!server)
    throw fail(
      c.node,
      `${where(c)} has no foreign server ${g.server} for shard ${g.shard.name}`,
      "run `dbmesh apply` first",
    );
  const options = optionsOf(server.options);
  const from = serverTarget(t, options);
  if (!from)
    throw fail(
      c.node,
      `server ${g.server} points at ${options.host}:${options.port}, which is no node of the file`,
      "declare that node, or drop the server and partition so apply creates them again",
    );
  if (from.node === to.node && from.database === to.database)
    return { from: where(from), to: where(to), rows: {}, pausedMs: 0, already: true };

  const owner = ownerOf(t, c.node, c.database);
  const remoteOwner = ownerOf(t, to.node, to.database);
  const role = remoteOwner ? t.roles.get(remoteOwner) : undefined;
  if (!owner || !remoteOwner || !role)
    throw fail(
      to.node,
      `${where(to)} is not a declared database with an owner`,
      `declare it under databases: (node: ${to.node}, name: ${to.database}, owner: …) and run \`dbmesh apply\``,
    );
  const target = await conns.session(to.node, to.database);
  for (const m of g.members) {
    const [row] = await target.query<{ ok: boolean }>("SELECT to_regclass($1) IS NOT NULL AS ok", [
      qualified(m.schema, m.shard),
    ]);
    if (!row?.ok)
      throw fail(
        to.node,
        `${where(to)} has no shard table ${m.schema}.${m.shard} to move ${m.name} into`,
        "run `dbmesh apply` first: it creates the shard tables the file places there",
      );
  }

  const source = await conns.session(from.node, from.database);
  const login = { user: remoteOwner, password: secretValue(t, role.password) };
  const targetOptions = shardServerOptions(t, to);
  const tables = g.members.map((m) => qualified(m.schema, m.shard)).join(", ");
  const fence = `dbmesh_moved_${g.shard.name}`.slice(0, 63);
  const rows: Record<string, number> = {};
  await source.query("BEGIN");
  let locked = 0;
  try {
    await source.query(`LOCK TABLE ${tables} IN SHARE MODE`);
    locked = performance.now();
    // Members of one group may be in different schemas: one fence function per schema.
    for (const schema of new Set(g.members.map((m) => m.schema)))
      await source.query(
        fenceMovedShard(
          schema,
          fence,
          g.members.filter((m) => m.schema === schema).map((m) => m.shard),
          where(to),
        ).join(";\n"),
      );
    // Two round trips: log_statement is checked when a query string arrives, before any SET in it.
    await coordinator.query(`BEGIN;\n${quietLogging.join(";\n")}`);
    try {
      const [mapping] = await coordinator.query<{ options: string[] | null }>(
        "SELECT umoptions AS options FROM pg_user_mappings WHERE srvname = $1 AND usename = $2",
        [g.server, owner],
      );
      await coordinator.query(
        [
          dropServer(MOVE_SERVER),
          createServer(MOVE_SERVER, "postgres_fdw", targetOptions),
          createUserMapping(owner, MOVE_SERVER, login),
          ...g.members.flatMap((m) => [
            createShardForeignTable(m.schema, moveTable(m.shard), m.columns, MOVE_SERVER, m.shard),
            alterOwner("FOREIGN TABLE", m.schema, moveTable(m.shard), owner),
          ]),
          setRole(owner),
        ].join(";\n"),
      );
      for (const m of g.members) rows[m.name] = await copyInto(coordinator, m);
      const repoint = ["RESET ROLE"];
      const change = alterOptions(options, targetOptions);
      if (change) repoint.push(alterServer(g.server, change));
      const mappingChange = alterOptions(optionsOf(mapping?.options), login);
      if (mappingChange) repoint.push(alterUserMapping(owner, g.server, mappingChange));
      repoint.push(dropServer(MOVE_SERVER));
      await coordinator.query(repoint.join(";\n"));
      await coordinator.query("COMMIT");
    } catch (e) {
      await coordinator.query("ROLLBACK").catch(() => {});
      throw e;
    }
    await source.query("COMMIT");
  } catch (e) {
    await source.query("ROLLBACK").catch(() => {});
    throw e;
  }
  const pausedMs = Math.round(performance.now() - locked);
  // The old tables take no writes now; dropping them waits for reads still running there.
  await source.query(
    [
      `DROP TABLE ${tables}`,
      ...new Set(g.members.map((m) => `DROP FUNCTION ${qualified(m.schema, fence)}()`)),
    ].join(";\n"),
  );
  return {
    from: where(from),
    to: where(to),
    rows,
    pausedMs,
    already: false,
  };
}

async function copyInto(
  s: Session,
  m: { schema: string; shard: string; columns: readonly ColumnDef[] },
): Promise<number> {
  const cols = m.columns.map((c) => ident(c.name)).join(", ");
  const into = qualified(m.schema, moveTable(m.shard));
  const [, inserted] = await s.raw(
    `TRUNCATE ${into}; INSERT INTO ${into} (${cols}) SELECT ${cols} FROM ONLY ${qualified(m.schema, m.shard)}`,
  );
  return inserted?.rowCount ?? 0;
}

/** A catalog options array (`{key=value,…}`) as an object. */
function optionsOf(list: readonly string[] | null | undefined): Record<string, string> {
  return Object.fromEntries(
    (list ?? []).map((o) => [o.slice(0, o.indexOf("=")), o.slice(o.indexOf("=") + 1)]),
  );
}

import type { Session } from "../pgadmin/index.js";

/**
 * What a coordinator or shard database holds beyond observeDatabase: sequences, settings,
 * triggers, and the logical replication that keeps reference tables' copies.
 */
export interface ObservedSharding {
  /** "schema.name" of every sequence. */
  readonly sequences: ReadonlySet<string>;
  /** Database-level settings (ALTER DATABASE … SET), name → value. */
  readonly settings: ReadonlyMap<string, string>;
  /** "schema.relation.trigger" of every user trigger (following tables' INSTEAD OF INSERT). */
  readonly triggers: ReadonlySet<string>;
  /** Publications of this database → "schema.table" of each table they publish. */
  readonly publications: ReadonlyMap<string, ReadonlySet<string>>;
  /** Subscriptions of this database → "schema.table" of each table they replicate. */
  readonly subscriptions: ReadonlyMap<string, ReadonlySet<string>>;
  /** Logical replication slots of this database. */
  readonly slots: ReadonlySet<string>;
  /** The server's wal_level: logical decoding (reference tables) needs "logical". */
  readonly walLevel: string;
  /** "schema.table" → the check its bounds constraint was made with (null: no record). */
  readonly bounds: ReadonlyMap<string, string | null>;
  /** "schema.table" → keys of rows outside the bounds the file declares now (at most 6). */
  readonly outside: ReadonlyMap<string, readonly string[]>;
}

/** A shard table and the check the file declares for it: read only when that check changed. */
export interface BoundsProbe {
  /** "schema.table". */
  readonly table: string;
  readonly qualified: string;
  readonly key: string;
  readonly check: string;
}

// pg_db_role_setting with setrole = 0 holds ALTER DATABASE … SET for every role.
// https://www.postgresql.org/docs/17/catalog-pg-db-role-setting.html
const shardingSql = `
SELECT
  (SELECT coalesce(json_agg(n.nspname || '.' || c.relname), '[]')
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'S') AS sequences,
  (SELECT coalesce(json_agg(cfg), '[]')
     FROM pg_db_role_setting s, unnest(s.setconfig) AS cfg
    WHERE s.setrole = 0
      AND s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())) AS settings,
  (SELECT coalesce(json_agg(n.nspname || '.' || c.relname || '.' || tg.tgname), '[]')
     FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE NOT tg.tgisinternal) AS triggers,
  (SELECT coalesce(json_object_agg(p.pubname, (
      SELECT coalesce(json_agg(t.schemaname || '.' || t.tablename), '[]')
        FROM pg_publication_tables t WHERE t.pubname = p.pubname)), '{}')
     FROM pg_publication p) AS publications,
  (SELECT coalesce(json_object_agg(s.subname, (
      SELECT coalesce(json_agg(n.nspname || '.' || c.relname), '[]')
        FROM pg_subscription_rel r JOIN pg_class c ON c.oid = r.srrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace WHERE r.srsubid = s.oid)), '{}')
     FROM pg_subscription s
    WHERE s.subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())) AS subscriptions,
  (SELECT coalesce(json_agg(slot_name), '[]') FROM pg_replication_slots
    WHERE database = current_database()) AS slots,
  current_setting('wal_level') AS wal_level,
  (SELECT coalesce(json_object_agg(n.nspname || '.' || c.relname, d.description), '{}')
     FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_description d ON d.objoid = k.oid AND d.classoid = 'pg_constraint'::regclass
    WHERE k.contype = 'c' AND k.conname = c.relname || '_bounds') AS bounds,
  (SELECT coalesce(json_agg(n.nspname || '.' || c.relname), '[]')
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r' AND n.nspname || '.' || c.relname = ANY ($1::text[])) AS probed`;

/**
 * The catalog, then for each probed shard table whose recorded check differs from the file's
 * the keys of up to 6 rows the new check would refuse: a full scan, but only of a shard whose
 * bounds the file just changed.
 */
export async function observeSharding(
  s: Session,
  probes: readonly BoundsProbe[] = [],
): Promise<ObservedSharding> {
  const [row] = await s.query<{
    sequences: string[];
    settings: string[];
    triggers: string[];
    publications: Record<string, string[]>;
    subscriptions: Record<string, string[]>;
    slots: string[];
    wal_level: string;
    bounds: Record<string, string | null>;
    probed: string[];
  }>(shardingSql, [probes.map((p) => p.table)]);
  const bounds = new Map(Object.entries(row?.bounds ?? {}));
  const present = new Set(row?.probed ?? []);
  const outside = new Map<string, string[]>();
  for (const p of probes) {
    if (!present.has(p.table) || bounds.get(p.table) === p.check) continue;
    const keys = await s.query<{ k: string | null }>(
      `SELECT DISTINCT ${p.key}::text AS k FROM ${p.qualified} WHERE NOT (${p.check}) LIMIT 6`,
    );
    if (keys.length)
      outside.set(
        p.table,
        keys.map((r) => r.k ?? "NULL"),
      );
  }
  const sets = (o: Record<string, string[]> | undefined) =>
    new Map(Object.entries(o ?? {}).map(([k, v]) => [k, new Set(v)]));
  const settings = new Map<string, string>();
  for (const c of row?.settings ?? []) {
    const i = c.indexOf("=");
    settings.set(c.slice(0, i), c.slice(i + 1));
  }
  return {
    sequences: new Set(row?.sequences ?? []),
    settings,
    triggers: new Set(row?.triggers ?? []),
    publications: sets(row?.publications),
    subscriptions: sets(row?.subscriptions),
    slots: new Set(row?.slots ?? []),
    walLevel: row?.wal_level ?? "",
    bounds,
    outside,
  };
}

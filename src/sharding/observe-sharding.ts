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
  current_setting('wal_level') AS wal_level`;

export async function observeSharding(s: Session): Promise<ObservedSharding> {
  const [row] = await s.query<{
    sequences: string[];
    settings: string[];
    triggers: string[];
    publications: Record<string, string[]>;
    subscriptions: Record<string, string[]>;
    slots: string[];
    wal_level: string;
  }>(shardingSql);
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
  };
}

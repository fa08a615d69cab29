import type { Session } from "../pgadmin/index.js";

/** What a coordinator database holds beyond observeDatabase: sequences and its settings. */
export interface ObservedSharding {
  /** "schema.name" of every sequence. */
  readonly sequences: ReadonlySet<string>;
  /** Database-level settings (ALTER DATABASE … SET), name → value. */
  readonly settings: ReadonlyMap<string, string>;
  /** "schema.relation.trigger" of every user trigger (following tables' INSTEAD OF INSERT). */
  readonly triggers: ReadonlySet<string>;
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
    WHERE NOT tg.tgisinternal) AS triggers`;

export async function observeSharding(s: Session): Promise<ObservedSharding> {
  const [row] = await s.query<{
    sequences: string[];
    settings: string[];
    triggers: string[];
  }>(shardingSql);
  const settings = new Map<string, string>();
  for (const c of row?.settings ?? []) {
    const i = c.indexOf("=");
    settings.set(c.slice(0, i), c.slice(i + 1));
  }
  return {
    sequences: new Set(row?.sequences ?? []),
    settings,
    triggers: new Set(row?.triggers ?? []),
  };
}

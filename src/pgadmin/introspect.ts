import type { Session } from "./connections.js";

// Live catalog state, read in one round trip per server and one per database.
// https://www.postgresql.org/docs/17/catalogs.html

export interface ObservedRole {
  name: string;
  login: boolean;
  createdb: boolean;
  connlimit: number;
  superuser: boolean;
  replication: boolean;
  /** pg_authid.rolpassword: a SCRAM verifier, or null. */
  password: string | null;
  comment: string | null;
}

export interface ObservedDatabase {
  name: string;
  owner: string;
  comment: string | null;
  /** Seed files already run (the dbmesh.seeds database setting). */
  seeds: string[];
}

export interface ObservedServer {
  version: string;
  roles: Map<string, ObservedRole>;
  databases: Map<string, ObservedDatabase>;
  availableExtensions: Set<string>;
  /** Physical replication slots. */
  slots: Set<string>;
}

export interface ObservedColumn {
  name: string;
  type: string;
  notNull: boolean;
}

export interface ObservedRelation {
  schema: string;
  name: string;
  /** pg_class.relkind: r table, v view, f foreign table, p partitioned table, m matview. */
  kind: string;
  owner: string;
  comment: string | null;
  /** Foreign tables: their server and options (schema_name, table_name). */
  server: string | null;
  foreignOptions: Record<string, string>;
  columns: ObservedColumn[];
  primaryKey: string[];
  grants: { grantee: string; privilege: string }[];
}

export interface ObservedSchema {
  name: string;
  owner: string;
  comment: string | null;
  grants: { grantee: string; privilege: string }[];
}

export interface ObservedForeignServer {
  name: string;
  fdw: string;
  owner: string;
  options: Record<string, string>;
  usage: string[];
  comment: string | null;
  /** Local user name → mapping options. */
  mappings: Map<string, Record<string, string>>;
}

export interface ObservedDatabaseContent {
  schemas: Map<string, ObservedSchema>;
  extensions: Set<string>;
  servers: Map<string, ObservedForeignServer>;
  /** Relations in the schemas asked for, by "schema.name". */
  relations: Map<string, ObservedRelation>;
}

const serverSql = `
SELECT current_setting('server_version') AS version,
  (SELECT coalesce(json_agg(json_build_object(
      'name', rolname, 'login', rolcanlogin, 'createdb', rolcreatedb, 'connlimit', rolconnlimit,
      'superuser', rolsuper, 'replication', rolreplication, 'password', rolpassword,
      'comment', shobj_description(oid, 'pg_authid'))), '[]')
   FROM pg_authid WHERE rolname !~ '^pg_') AS roles,
  (SELECT coalesce(json_agg(json_build_object(
      'name', d.datname, 'owner', pg_get_userbyid(d.datdba),
      'comment', shobj_description(d.oid, 'pg_database'),
      'seeds', (SELECT substr(c, length('dbmesh.seeds=') + 1)
                FROM pg_db_role_setting s, unnest(s.setconfig) AS c
                WHERE s.setdatabase = d.oid AND s.setrole = 0 AND c LIKE 'dbmesh.seeds=%'))), '[]')
   FROM pg_database d WHERE NOT d.datistemplate) AS databases,
  (SELECT coalesce(json_agg(name), '[]') FROM pg_available_extensions) AS extensions,
  (SELECT coalesce(json_agg(slot_name), '[]') FROM pg_replication_slots
   WHERE slot_type = 'physical') AS slots`;

export async function observeServer(s: Session): Promise<ObservedServer> {
  const [row] = await s.query<{
    version: string;
    roles: ObservedRole[];
    databases: (Omit<ObservedDatabase, "seeds"> & { seeds: string | null })[];
    extensions: string[];
    slots: string[];
  }>(serverSql);
  if (!row) throw new Error("catalog query returned no row");
  const seeds = (v: string | null): string[] => {
    try {
      const list: unknown = JSON.parse(v ?? "[]");
      return Array.isArray(list) ? list.filter((x): x is string => typeof x === "string") : [];
    } catch {
      return [];
    }
  };
  return {
    version: row.version,
    roles: new Map(row.roles.map((r) => [r.name, r])),
    databases: new Map(row.databases.map((d) => [d.name, { ...d, seeds: seeds(d.seeds) }])),
    availableExtensions: new Set(row.extensions),
    slots: new Set(row.slots),
  };
}

const databaseSql = `
SELECT
  (SELECT coalesce(json_agg(json_build_object(
      'name', n.nspname, 'owner', pg_get_userbyid(n.nspowner),
      'comment', obj_description(n.oid, 'pg_namespace'),
      'grants', (SELECT coalesce(json_agg(json_build_object(
                    'grantee', pg_get_userbyid(a.grantee), 'privilege', a.privilege_type)), '[]')
                 FROM aclexplode(n.nspacl) a))), '[]')
   FROM pg_namespace n WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema') AS schemas,
  (SELECT coalesce(json_agg(extname), '[]') FROM pg_extension) AS extensions,
  (SELECT coalesce(json_agg(json_build_object(
      'name', s.srvname, 'fdw', w.fdwname, 'owner', pg_get_userbyid(s.srvowner),
      'options', coalesce(s.srvoptions, '{}'),
      'usage', (SELECT coalesce(json_agg(pg_get_userbyid(a.grantee)), '[]')
                FROM aclexplode(s.srvacl) a WHERE a.privilege_type = 'USAGE'),
      'comment', obj_description(s.oid, 'pg_foreign_server'),
      'mappings', (SELECT coalesce(json_agg(json_build_object(
                      'user', m.usename, 'options', coalesce(m.umoptions, '{}'))), '[]')
                   FROM pg_user_mappings m WHERE m.srvid = s.oid))), '[]')
   FROM pg_foreign_server s JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw) AS servers,
  (SELECT coalesce(json_agg(json_build_object(
      'schema', n.nspname, 'name', c.relname, 'kind', c.relkind, 'owner', pg_get_userbyid(c.relowner),
      'comment', obj_description(c.oid, 'pg_class'),
      'server', fs.srvname, 'foreignOptions', coalesce(ft.ftoptions, '{}'),
      'columns', (SELECT coalesce(json_agg(json_build_object(
                     'name', a.attname, 'type', format_type(a.atttypid, a.atttypmod),
                     'notNull', a.attnotnull) ORDER BY a.attnum), '[]')
                  FROM pg_attribute a
                  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
      'primaryKey', (SELECT coalesce(json_agg(a.attname ORDER BY k.ord), '[]')
                     FROM pg_index i
                     CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
                     JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                     WHERE i.indrelid = c.oid AND i.indisprimary),
      'grants', (SELECT coalesce(json_agg(json_build_object(
                    'grantee', pg_get_userbyid(a.grantee), 'privilege', a.privilege_type)), '[]')
                 FROM aclexplode(c.relacl) a))), '[]')
   FROM pg_class c
   JOIN pg_namespace n ON n.oid = c.relnamespace
   LEFT JOIN pg_foreign_table ft ON ft.ftrelid = c.oid
   LEFT JOIN pg_foreign_server fs ON fs.oid = ft.ftserver
   WHERE (n.nspname = ANY($1::text[]) OR obj_description(c.oid, 'pg_class') LIKE 'managed by dbmesh%')
     AND c.relkind IN ('r', 'v', 'f', 'p', 'm')) AS relations`;

/** Reads one database's schemas, extensions, foreign servers and the relations of `schemas`. */
export async function observeDatabase(
  s: Session,
  schemas: readonly string[],
): Promise<ObservedDatabaseContent> {
  type Raw = Omit<ObservedForeignServer, "options" | "mappings"> & {
    options: string[];
    mappings: { user: string; options: string[] }[];
  };
  type RawRel = Omit<ObservedRelation, "foreignOptions"> & { foreignOptions: string[] };
  const [row] = await s.query<{
    schemas: ObservedSchema[];
    extensions: string[];
    servers: Raw[];
    relations: RawRel[];
  }>(databaseSql, [schemas]);
  if (!row) throw new Error("catalog query returned no row");
  return {
    schemas: new Map(row.schemas.map((n) => [n.name, n])),
    extensions: new Set(row.extensions),
    servers: new Map(
      row.servers.map((srv) => [
        srv.name,
        {
          ...srv,
          options: parseOptions(srv.options),
          mappings: new Map(srv.mappings.map((m) => [m.user, parseOptions(m.options)])),
        },
      ]),
    ),
    relations: new Map(
      row.relations.map((r) => [
        `${r.schema}.${r.name}`,
        { ...r, foreignOptions: parseOptions(r.foreignOptions) },
      ]),
    ),
  };
}

/** `{key=value,…}` option arrays (srvoptions, umoptions, ftoptions) as a record. */
export function parseOptions(options: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const o of options) {
    const i = o.indexOf("=");
    out[o.slice(0, i)] = o.slice(i + 1);
  }
  return out;
}

/** Whether `role` holds `privilege` on an object owned by `owner` with these ACL entries. */
export function holds(
  grants: readonly { grantee: string; privilege: string }[],
  owner: string,
  role: string,
  privilege: string,
): boolean {
  return role === owner || grants.some((g) => g.grantee === role && g.privilege === privilege);
}

/** What EXPLAIN does not say about a plan's relations, read from the database's catalogs. */

/** A foreign table of the database: its foreign server and the remote table it reads. */
export interface ForeignTableRow {
  readonly schema: string;
  readonly table: string;
  readonly server: string;
  readonly remote_schema: string;
  readonly remote_table: string;
}

/** A partition and its partitioned parent, with how many partitions the parent has. */
export interface PartitionRow {
  readonly schema: string;
  readonly table: string;
  readonly parent_schema: string;
  readonly parent_table: string;
  readonly partitions: number;
}

/**
 * Every foreign table with its server; postgres_fdw reads `schema_name`/`table_name` from the
 * table's options and defaults to the local names
 * (https://www.postgresql.org/docs/17/postgres-fdw.html#POSTGRES-FDW-OPTIONS-OBJECT-NAME).
 * mysql_dbname: the MariaDB database a mysql_fdw table reads (its dbname option), null for
 * other wrappers; explain reads it from the same rows (links/mysql-fdw-explain.ts).
 */
export const foreignTablesSql = `
SELECT n.nspname AS schema, c.relname AS "table", s.srvname AS server,
       coalesce((SELECT substr(o, 13) FROM unnest(ft.ftoptions) o WHERE o LIKE 'schema_name=%'), n.nspname) AS remote_schema,
       coalesce((SELECT substr(o, 12) FROM unnest(ft.ftoptions) o WHERE o LIKE 'table_name=%'), c.relname) AS remote_table,
       CASE WHEN w.fdwname = 'mysql_fdw'
            THEN coalesce((SELECT substr(o, 8) FROM unnest(ft.ftoptions) o WHERE o LIKE 'dbname=%'), '') END AS mysql_dbname
  FROM pg_foreign_table ft
  JOIN pg_class c ON c.oid = ft.ftrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_foreign_server s ON s.oid = ft.ftserver
  JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw`;

/** Every partition of a partitioned table (relkind 'p'), with its parent's partition count. */
export const partitionsSql = `
SELECT cn.nspname AS schema, c.relname AS "table", pn.nspname AS parent_schema, p.relname AS parent_table,
       (SELECT count(*)::int FROM pg_inherits i2 WHERE i2.inhparent = i.inhparent) AS partitions
  FROM pg_inherits i
  JOIN pg_class c ON c.oid = i.inhrelid
  JOIN pg_namespace cn ON cn.oid = c.relnamespace
  JOIN pg_class p ON p.oid = i.inhparent
  JOIN pg_namespace pn ON pn.oid = p.relnamespace
 WHERE p.relkind = 'p'`;

import type { MariadbSession } from "./connections.js";

/** One column of a MariaDB table, as information_schema.COLUMNS describes it. */
export interface MariadbColumn {
  readonly name: string;
  /** DATA_TYPE: `int`, `varchar`, `enum`, … (no length, no UNSIGNED). */
  readonly dataType: string;
  /** COLUMN_TYPE: `int(10) unsigned`, `varchar(20)`, `enum('a','b')`, … */
  readonly columnType: string;
  readonly notNull: boolean;
  /** COLUMN_KEY: PRI, UNI, MUL or "". */
  readonly key: string;
}

export interface MariadbTable {
  readonly database: string;
  readonly name: string;
  readonly columns: readonly MariadbColumn[];
}

/**
 * The tables (and views) of one database with their columns in order, by table name.
 * https://mariadb.com/kb/en/information-schema-columns-table/
 */
export async function readMariadbTables(
  s: MariadbSession,
  database: string,
): Promise<Map<string, MariadbTable>> {
  const rows = await s.query<{
    t: string;
    c: string;
    dt: string;
    ct: string;
    nullable: string;
    k: string;
  }>(
    `SELECT c.TABLE_NAME AS t, c.COLUMN_NAME AS c, c.DATA_TYPE AS dt, c.COLUMN_TYPE AS ct,
            c.IS_NULLABLE AS nullable, c.COLUMN_KEY AS k
       FROM information_schema.COLUMNS c
       JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
      WHERE c.TABLE_SCHEMA = ?
      ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION`,
    [database],
  );
  const out = new Map<string, MariadbColumn[]>();
  for (const r of rows) {
    const list = out.get(r.t) ?? [];
    list.push({
      name: r.c,
      dataType: String(r.dt).toLowerCase(),
      columnType: String(r.ct),
      notNull: r.nullable === "NO",
      key: r.k ?? "",
    });
    out.set(r.t, list);
  }
  return new Map([...out].map(([name, columns]) => [name, { database, name, columns }]));
}

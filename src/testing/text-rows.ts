import type pg from "pg";

/** Rows of one query on an open client, every value as text (no type parsing). */
export async function textRows(c: pg.Client, sql: string): Promise<string[][]> {
  const r = await c.query({
    text: sql,
    rowMode: "array",
    types: { getTypeParser: () => (v: string) => v },
  } as pg.QueryConfig);
  return r.rows as string[][];
}

import type { ColumnDef } from "./model.js";

export type ColumnList =
  | { readonly ok: true; readonly columns: ColumnDef[]; readonly constraints: string[] }
  | { readonly ok: false; readonly error: string };

// Items that start with these words are table constraints, not columns.
// https://www.postgresql.org/docs/17/sql-createtable.html
const TABLE_CONSTRAINT = /^(constraint|primary|unique|check|foreign|exclude|like)\b/i;

/**
 * Reads a `CREATE TABLE` column list just enough to know each column's name and the rest of
 * its definition: items split at top-level commas (not inside parentheses or quotes, so
 * `numeric(10,2)` and `default 'a,b'` stay whole). Unquoted names are folded to lower case
 * as PostgreSQL folds them (A-Z only); double-quoted names keep their case and may hold any
 * character. The server parses the definitions for real; this only serves validation.
 */
export function parseColumnList(text: string): ColumnList {
  const items: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) {
        if (text[i + 1] === quote) i++;
        else quote = undefined;
      }
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "(") depth++;
    else if (c === ")") {
      if (--depth < 0) return { ok: false, error: `")" without "(" at character ${i + 1}` };
    } else if (c === "," && depth === 0) {
      items.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (quote) return { ok: false, error: `unterminated ${quote} quote` };
  if (depth > 0) return { ok: false, error: `"(" without ")"` };
  items.push(text.slice(start));

  const columns: ColumnDef[] = [];
  const constraints: string[] = [];
  for (const [index, raw] of items.entries()) {
    const item = raw.trim();
    if (!item) return { ok: false, error: `item ${index + 1} is empty` };
    if (TABLE_CONSTRAINT.test(item)) {
      constraints.push(item);
      continue;
    }
    let name: string;
    let rest: string;
    if (item.startsWith('"')) {
      let end = 1;
      while (end < item.length && !(item[end] === '"' && item[end + 1] !== '"')) {
        end += item[end] === '"' ? 2 : 1;
      }
      name = item.slice(1, end).replaceAll('""', '"');
      rest = item.slice(end + 1);
    } else {
      const m = /^([^\s(]+)(.*)$/s.exec(item)!;
      name = m[1]!.replace(/[A-Z]/g, (c) => c.toLowerCase());
      rest = m[2]!;
    }
    const type = rest.trim();
    if (!name) return { ok: false, error: `item ${index + 1} has an empty column name` };
    if (!type) return { ok: false, error: `column "${name}" has no type` };
    if (columns.some((c) => c.name === name)) {
      return { ok: false, error: `column "${name}" is declared twice` };
    }
    columns.push({ name, type });
  }
  return { ok: true, columns, constraints };
}

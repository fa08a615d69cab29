/** Rows as an aligned text table, psql style: header, rule, rows, row count. */
export function formatTable(
  columns: readonly string[],
  rows: readonly (readonly unknown[])[],
): string {
  const cells = rows.map((r) => r.map(cellText));
  const widths = columns.map((c, i) =>
    Math.max(c.length, ...cells.map((r) => (r[i] ?? "").length)),
  );
  const line = (r: readonly string[]) =>
    r
      .map((v, i) => v.padEnd(widths[i]!))
      .join(" | ")
      .trimEnd();
  const out = [line(columns.map((c) => c)), widths.map((w) => "-".repeat(w)).join("-+-")];
  for (const r of cells) out.push(line(r));
  out.push(`(${rows.length} row${rows.length === 1 ? "" : "s"})`);
  return out.join("\n");
}

function cellText(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (v instanceof Date)
    return Number.isNaN(v.getTime()) ? String(v) : v.toISOString().replace("T00:00:00.000Z", "");
  if (typeof v === "object") return JSON.stringify(v);
  return String(v).replace(/\n/g, "\\n");
}

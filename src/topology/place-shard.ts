import { isMap, isSeq, parseDocument } from "yaml";

/** The file's text with one shard placed on another node, and where it was declared before. */
export interface Placed {
  readonly text: string;
  /** The path edited, e.g. "sharded.booksample.list.paris". */
  readonly path: string;
  readonly before: string;
}

/**
 * `text` with the shard of `sharded.<table>` that `handle` names placed on `node`: a list value
 * (`list.<value>`), `default`, or a range shard by its name (`<table>_p<i>` is `range[i]`).
 * Comments and layout are kept. A string says why the file cannot be edited that way: hash
 * shards are placed round-robin over `hash.nodes`, so one cannot move alone.
 */
export function placeShard(
  text: string,
  table: string,
  handle: string,
  node: string,
): Placed | string {
  const doc = parseDocument(text);
  const entry = doc.getIn(["sharded", table]);
  if (!isMap(entry)) return `the file has no sharded.${table}`;
  const edit = (path: (string | number)[]): Placed => {
    const before = String(doc.getIn(path));
    doc.setIn(path, node);
    return { text: doc.toString(), path: path.join("."), before };
  };
  const list = entry.get("list");
  if (isMap(list) && list.has(handle)) return edit(["sharded", table, "list", handle]);
  if (handle === "default" && entry.has("default")) return edit(["sharded", table, "default"]);
  const range = entry.get("range");
  const i = /_p(\d+)$/.exec(handle)?.[1];
  if (isSeq(range) && i !== undefined && Number(i) < range.items.length)
    return edit(["sharded", table, "range", Number(i), "node"]);
  if (entry.has("hash"))
    return `sharded.${table} is placed by hash: its shards go round-robin over hash.nodes, so one shard cannot be moved alone`;
  return `sharded.${table} declares no shard ${handle}`;
}

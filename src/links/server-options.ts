import type { MeshLink, Topology } from "../topology/index.js";

// postgres_fdw options: https://www.postgresql.org/docs/17/postgres-fdw.html
// fetch_size 1000 (default 100) cuts round trips on scans tenfold; batch_size 100 sends
// inserts 100 rows at a time (default 1, a round trip per row); async_capable lets an Append
// over several foreign servers scan them concurrently. Remote estimates stay off: they cost a
// round trip per planned query, and dbmesh imports tables with their statistics-free defaults.
const postgresFdwDefaults: Record<string, string> = {
  fetch_size: "1000",
  batch_size: "100",
  async_capable: "true",
};

/** Options of the foreign server a link creates: where the remote end is, plus tuning. */
export function serverOptions(t: Topology, link: MeshLink): Record<string, string> {
  const to = t.nodes.get(link.to.node);
  const base: Record<string, string> = {
    host: to?.host ?? "127.0.0.1",
    port: String(to?.port ?? 5432),
    dbname: link.to.database,
  };
  const tuning = link.via === "postgres_fdw" ? postgresFdwDefaults : {};
  const overrides = Object.fromEntries(
    Object.entries(link.options).map(([k, v]) => [k, String(v)]),
  );
  return { ...base, ...tuning, ...overrides };
}

export function wrapperOf(link: MeshLink): string {
  return link.via === "dblink" ? "dblink_fdw" : "postgres_fdw";
}

export function extensionOf(link: MeshLink): string {
  return link.via === "dblink" ? "dblink" : "postgres_fdw";
}

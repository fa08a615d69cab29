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

// mysql_fdw options (its README, "Usage"; Debian postgresql-15-mysql-fdw 2.8):
// character_set defaults to `auto`, the operating system's locale — latin1 or ASCII under a C
// locale, which turns non-ASCII text into `?` — so it is utf8mb4, as MariaDB nodes store text.
// fetch_size 10000 (default 100): rows per fetch of a result set. bench:hetero (1M rows, 2 cores
// at load 4.5) found no speed difference beyond the noise (defaults/dbmesh 0.94x and 1.34x on
// 500k rows pulled, 1.17x and 1.05x when the aggregate is pushed) and 0.4% fewer bytes sent.
// reconnect: a connection MariaDB closed (wait_timeout, a restart) is reopened instead of
// failing the next query of the session.
const mysqlFdwDefaults: Record<string, string> = {
  character_set: "utf8mb4",
  fetch_size: "10000",
  reconnect: "true",
};

/** Options of the foreign server a link creates: where the remote end is, plus tuning. */
export function serverOptions(t: Topology, link: MeshLink): Record<string, string> {
  const to = t.nodes.get(link.to.node);
  const base: Record<string, string> =
    link.via === "mysql_fdw"
      ? // mysql_fdw names the MariaDB database per foreign table (dbname), not per server.
        { host: to?.host ?? "127.0.0.1", port: String(to?.port ?? 3306) }
      : { host: to?.host ?? "127.0.0.1", port: String(to?.port ?? 5432), dbname: link.to.database };
  const tuning =
    link.via === "postgres_fdw"
      ? postgresFdwDefaults
      : link.via === "mysql_fdw"
        ? mysqlFdwDefaults
        : {};
  const overrides = Object.fromEntries(
    Object.entries(link.options).map(([k, v]) => [k, String(v)]),
  );
  return { ...base, ...tuning, ...overrides };
}

/** The foreign data wrapper of a link's server. */
export function wrapperOf(link: MeshLink): string {
  return link.via === "dblink" ? "dblink_fdw" : link.via;
}

/** The extension that provides it. */
export function extensionOf(link: MeshLink): string {
  return link.via === "dblink" ? "dblink" : link.via;
}

/** mysql_fdw's user mapping options are username/password; libpq's are user/password. */
export function mappingOptions(
  link: MeshLink,
  user: string,
  password: string,
): { [k: string]: string } {
  return link.via === "mysql_fdw" ? { username: user, password } : { user, password };
}

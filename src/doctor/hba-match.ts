// First-match evaluation of pg_hba.conf rules as PostgreSQL does it, over the rows of
// pg_hba_file_rules. https://www.postgresql.org/docs/17/view-pg-hba-file-rules.html
// Only what a link needs is evaluated: TCP lines, IPv4 addresses, names, "all",
// "sameuser". A rule this cannot read (host names, +groups, @files) never matches,
// so a check built on it fails instead of passing unproven.

export interface HbaRule {
  line_number: number;
  type: string;
  database: string[] | null;
  user_name: string[] | null;
  address: string | null;
  netmask: string | null;
  auth_method: string | null;
  error: string | null;
}

export interface Connection {
  database: string;
  user: string;
  address: string;
  ssl: boolean;
}

export function firstMatch(rules: readonly HbaRule[], c: Connection): HbaRule | undefined {
  return rules.find((r) => !r.error && matches(r, c));
}

function matches(r: HbaRule, c: Connection): boolean {
  // hostgssenc and hostnogssenc need GSSAPI, which links do not use; local is the socket.
  const typeOk =
    r.type === "host" || (r.type === "hostssl" && c.ssl) || (r.type === "hostnossl" && !c.ssl);
  if (!typeOk) return false;
  const dbs = r.database ?? [];
  const dbOk = dbs.some(
    (d) => d === "all" || d === c.database || (d === "sameuser" && c.database === c.user),
  );
  const users = r.user_name ?? [];
  const userOk = users.some((u) => u === "all" || u === c.user);
  return dbOk && userOk && addressMatches(r.address, r.netmask, c.address);
}

function addressMatches(address: string | null, netmask: string | null, client: string): boolean {
  if (address === "all") return true;
  if (!address || !netmask) return false;
  const a = ipv4(address);
  const m = ipv4(netmask);
  const c = ipv4(client);
  if (a === null || m === null || c === null) return false;
  return (a & m) >>> 0 === (c & m) >>> 0;
}

function ipv4(s: string): number | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!/^\d+$/.test(p) || Number(p) > 255) return null;
    n = n * 256 + Number(p);
  }
  return n >>> 0;
}

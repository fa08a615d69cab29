import {
  alterOptions,
  alterServer,
  alterUserMapping,
  commentOnServer,
  createServer,
  createUserMapping,
  type Options,
} from "./fdw-sql.js";
import type { ObservedForeignServer } from "./introspect.js";

/** A planned change before it is placed on a node and phase: what it does and its SQL. */
export interface PlannedSql {
  readonly summary: string;
  readonly sql: string[];
  /** The SQL carries a password: run with statement logging off, mask in plans. */
  readonly secret: boolean;
}

/**
 * What makes foreign server `name` exist with `options` (created with dbmesh's marker, plus
 * `onCreate`), or the wrapper of an existing server of that name that is not `fdw` (the caller
 * reports it: a server dbmesh did not make is never replaced).
 */
export function serverChanges(
  existing: ObservedForeignServer | undefined,
  name: string,
  fdw: string,
  options: Options,
  createSummary: string,
  onCreate: string[] = [],
): { change: PlannedSql | undefined; otherFdw: string | undefined } {
  if (!existing) {
    const sql = [createServer(name, fdw, options), commentOnServer(name), ...onCreate];
    return { change: { summary: createSummary, sql, secret: false }, otherFdw: undefined };
  }
  if (existing.fdw !== fdw) return { change: undefined, otherFdw: existing.fdw };
  const change = alterOptions(existing.options, options);
  return {
    change: change
      ? {
          summary: `update options of server ${name}`,
          sql: [alterServer(name, change)],
          secret: false,
        }
      : undefined,
    otherFdw: undefined,
  };
}

/** What makes `local`'s user mapping on `server` log in as `want` (`remote` names it for the summary). */
export function mappingChange(
  existing: ObservedForeignServer | undefined,
  server: string,
  local: string,
  want: Options,
  remote: string,
): PlannedSql | undefined {
  const current = existing?.mappings.get(local);
  if (!current) {
    return {
      summary: `map ${local} to ${remote} on ${server}`,
      sql: [createUserMapping(local, server, want)],
      secret: true,
    };
  }
  const change = alterOptions(current, want);
  return change
    ? {
        summary: `update mapping of ${local} on ${server}`,
        sql: [alterUserMapping(local, server, change)],
        secret: true,
      }
    : undefined;
}

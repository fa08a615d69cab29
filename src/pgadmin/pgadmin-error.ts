import type { DatabaseError } from "pg";

export type PgAdminErrorKind =
  | "unreachable"
  | "auth-failed"
  | "hba-rejected"
  | "no-database"
  | "missing-extension"
  | "sql";

/** A failure talking to a node, with what a user needs to act on it. */
export class PgAdminError extends Error {
  constructor(
    readonly kind: PgAdminErrorKind,
    readonly node: string,
    message: string,
    readonly hint: string,
    readonly extra: {
      readonly database?: string;
      readonly sqlstate?: string;
      readonly sql?: string;
      readonly cause?: unknown;
    } = {},
  ) {
    super(message);
    this.name = "PgAdminError";
  }
}

export function isPgAdminError(e: unknown): e is PgAdminError {
  return e instanceof PgAdminError;
}

interface Where {
  node: string;
  host: string;
  port: number;
  database: string;
  user: string;
}

/** Classifies a connection failure by errno or SQLSTATE (never by message text). */
export function connectError(e: unknown, w: Where): PgAdminError {
  const err = e as Partial<DatabaseError> & { code?: string; errno?: string };
  const at = `${w.host}:${w.port}`;
  switch (err.code) {
    case "ECONNREFUSED":
    case "ECONNRESET":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
    case "ETIMEDOUT":
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new PgAdminError(
        "unreachable",
        w.node,
        `node ${w.node} is unreachable at ${at} (${err.code})`,
        `start it (\`dbmesh up\` for nodes dbmesh manages) or fix host/port of nodes.${w.node}`,
        { database: w.database, cause: e },
      );
    case "28P01":
      return new PgAdminError(
        "auth-failed",
        w.node,
        `node ${w.node} refused the password of role ${w.user}`,
        "check the role's password reference; `dbmesh apply` resets declared passwords",
        { database: w.database, sqlstate: err.code, cause: e },
      );
    case "28000":
      return new PgAdminError(
        "hba-rejected",
        w.node,
        `node ${w.node} has no pg_hba.conf line for role ${w.user} on database ${w.database}: ${err.message}`,
        `add "host ${w.database} ${w.user} <client address>/32 scram-sha-256" to pg_hba.conf on ${w.node} and reload`,
        { database: w.database, sqlstate: err.code, cause: e },
      );
    case "3D000":
      return new PgAdminError(
        "no-database",
        w.node,
        `database ${w.database} does not exist on node ${w.node}`,
        "run `dbmesh apply` to create declared databases",
        { database: w.database, sqlstate: err.code, cause: e },
      );
    default:
      if (err.message?.includes("timeout") || err.message?.includes("Connection terminated")) {
        return new PgAdminError(
          "unreachable",
          w.node,
          `node ${w.node} did not answer at ${at}: ${err.message}`,
          `check that ${at} is a PostgreSQL server and reachable from here`,
          { database: w.database, cause: e },
        );
      }
      return new PgAdminError(
        "sql",
        w.node,
        `node ${w.node}: ${err.message ?? String(e)}`,
        "see the server log",
        { database: w.database, sqlstate: err.code, cause: e },
      );
  }
}

/** Wraps an error raised by a statement, keeping its SQLSTATE and the statement. */
export function statementError(
  e: unknown,
  node: string,
  database: string,
  sql: string,
): PgAdminError {
  if (e instanceof PgAdminError) return e;
  const err = e as Partial<DatabaseError>;
  const detail = [err.detail, err.hint].filter(Boolean).join("; ");
  return new PgAdminError(
    "sql",
    node,
    `node ${node}/${database}: ${err.message ?? String(e)}${detail ? ` (${detail})` : ""}`,
    err.hint ?? "fix the cause above and run `dbmesh apply` again; completed steps are kept",
    { database, sqlstate: err.code, sql, cause: e },
  );
}

import { type ErrorFields, serialize } from "../protocol/index.js";

/**
 * An error the router sends to a client, as data with a SQLSTATE. FATAL ones are followed by
 * closing the client; ERROR ones leave it connected.
 * https://www.postgresql.org/docs/17/errcodes-appendix.html
 */
export interface RouterError {
  readonly severity: "ERROR" | "FATAL";
  readonly code: string;
  readonly message: string;
  readonly detail?: string;
  readonly hint?: string;
}

function fatal(code: string, message: string, hint?: string, detail?: string): RouterError {
  return Object.freeze({ severity: "FATAL", code, message, hint, detail });
}

function error(code: string, message: string, hint?: string, detail?: string): RouterError {
  return Object.freeze({ severity: "ERROR", code, message, hint, detail });
}

/** The only errors the router itself sends to clients. */
export const routerErrors = {
  /** 08P01: the client broke the wire protocol (bad length, malformed or unexpected message). */
  protocolViolation: (what: string) => fatal("08P01", what),
  /** 54000: a message above router.maxMessage. */
  messageTooLarge: (what: string) =>
    fatal("54000", what, "raise router.maxMessage in the topology file if this is legitimate"),
  /** 0A000: something the router does not do (replication connections, GSS, protocol 2). */
  unsupported: (what: string) => fatal("0A000", what),
  /** 28P01: the SCRAM proof did not match; same text as PostgreSQL, whatever went wrong. */
  authFailed: (role: string) => fatal("28P01", `password authentication failed for user "${role}"`),
  /** 28000: the startup named a role the topology does not declare. */
  unknownRole: (role: string) =>
    fatal(
      "28000",
      `role "${role}" is not declared in the topology`,
      "connect as one of the roles under roles: in the topology file",
    ),
  /** 3D000: the startup named a database the topology does not declare. */
  unknownDatabase: (database: string, known: readonly string[]) =>
    fatal(
      "3D000",
      `database "${database}" does not exist in the topology`,
      known.length
        ? `connect to one of: ${known.join(", ")}, or dbmesh for the admin console`
        : "declare it under databases: in the topology file",
    ),
  /** 28000: no user in the startup packet. */
  noUser: () => fatal("28000", "no PostgreSQL user name specified in startup packet"),
  /** 53300: a pool stayed full for router.queueTimeout. */
  poolTimeout: (pool: string, seconds: number, size: number) =>
    error(
      "53300",
      `pool ${pool}: no server connection became free within ${seconds} s (all ${size} in use)`,
      "raise router.poolSize or router.queueTimeout, or look for long transactions in SHOW SERVERS",
    ),
  /** 08006: the server connection broke while the client was using it. */
  serverLost: (node: string, inTransaction: boolean) =>
    (inTransaction ? fatal : error)(
      "08006",
      `connection to node ${node} was lost${inTransaction ? " inside a transaction" : ""}`,
      inTransaction
        ? "the transaction was rolled back; reconnect and run it again"
        : "the statement may not have run; the next one uses a new server connection",
    ),
  /** 08001: the router could not open a server connection. */
  serverUnreachable: (node: string, cause: string) =>
    error(
      "08001",
      `cannot connect to node ${node}: ${cause}`,
      "check that the node is up (dbmesh status)",
    ),
  /** 08001: TLS towards a node was refused or failed; the message names the node and the fix. */
  nodeTls: (message: string) => error("08001", message),
  /** 57P01: the router is stopping. */
  adminShutdown: () => fatal("57P01", "terminating connection: the router is shutting down"),
  /** 08006: the primary writes would go to is down or fenced; fail now rather than hang. */
  primaryDown: (node: string, database: string, why: string) =>
    error(
      "08006",
      `the primary of database ${database}, node ${node}, is not available${why ? `: ${why}` : ""}`,
      "reads still work; writes resume when the node is back or another is promoted (dbmesh promote)",
    ),
  /** 22023: SET dbmesh.route to something else than primary, standby or auto. */
  invalidRoute: (value: string) =>
    error(
      "22023",
      `invalid value for parameter "dbmesh.route": "${value}"`,
      "Available values: primary, standby, auto.",
    ),
  /** 0A000: SET/SHOW dbmesh.route in a query string with other statements. */
  routeNotAlone: () =>
    error(
      "0A000",
      "SET and SHOW dbmesh.route must be sent as a query of their own",
      "the router answers them itself; send the other statements separately",
    ),
  /** 42P05: Parse of a statement name the client already prepared, as PostgreSQL answers. */
  duplicateStatement: (name: string) =>
    error("42P05", `prepared statement "${name}" already exists`),
  /** 57P03: a database whose replication group has no primary to send writes to. */
  noPrimary: (database: string) =>
    error("57P03", `no primary is known for database ${database}`, "run dbmesh status"),
  /** 08P01 at login: nothing more to wait for (login timeout). */
  loginTimeout: () => fatal("08P01", "the client did not finish logging in in time"),
  /** 42601 on the admin console: a SHOW of something it does not have, or not a query. */
  adminSyntax: (text: string) =>
    error(
      "42601",
      `the admin console does not understand: ${text.slice(0, 80)}`,
      "try SHOW POOLS, SHOW SERVERS, SHOW CLIENTS, SHOW STATS or SHOW NODES",
    ),
  /** 0A000 on the admin console: anything but SHOW (it is read-only statistics). */
  adminReadOnly: (text: string) =>
    error(
      "0A000",
      `the admin console only shows statistics; it does not run: ${text.slice(0, 80)}`,
      "SHOW POOLS, SHOW SERVERS, SHOW CLIENTS, SHOW STATS or SHOW NODES; reload with SIGHUP, stop with SIGTERM",
    ),
} as const;

/** ErrorResponse for a router error. */
export function errorMessage(e: RouterError): Buffer {
  return serialize.errorResponse({
    severity: e.severity,
    severityNonLocalized: e.severity,
    code: e.code,
    message: e.message,
    ...(e.detail === undefined ? {} : { detail: e.detail }),
    ...(e.hint === undefined ? {} : { hint: e.hint }),
  });
}

/** ErrorResponse carrying every field a server sent (e.g. its refusal of a login). */
export function serverErrorMessage(fields: ErrorFields): Buffer {
  return serialize.errorResponse(fields);
}

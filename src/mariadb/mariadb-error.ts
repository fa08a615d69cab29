export type MariadbErrorKind =
  /** Nothing answers at the node's address. */
  | "unreachable"
  /** Wrong password, or no account for this user from this host (MariaDB says the same). */
  | "auth-failed"
  /** The account exists but may not use this database or object: a grant is missing. */
  | "access-denied"
  | "no-database"
  | "sql";

/** A failure talking to a MariaDB node, with what a user needs to act on it. */
export class MariadbError extends Error {
  constructor(
    readonly kind: MariadbErrorKind,
    readonly node: string,
    message: string,
    readonly hint: string,
    readonly extra: {
      readonly database?: string | undefined;
      /** The server's error name (ER_ACCESS_DENIED_ERROR) or a socket errno (ECONNREFUSED). */
      readonly code?: string | undefined;
      readonly errno?: number | undefined;
      readonly sql?: string | undefined;
      readonly cause?: unknown;
    } = {},
  ) {
    super(message);
    this.name = "MariadbError";
  }
}

export function isMariadbError(e: unknown): e is MariadbError {
  return e instanceof MariadbError;
}

interface Where {
  readonly node: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database?: string | undefined;
}

type DriverError = { code?: string; errno?: number; message?: string; sqlMessage?: string };

/**
 * Classifies a connection failure by socket errno or MariaDB error number, never by message
 * text. https://mariadb.com/kb/en/mariadb-error-codes/
 */
export function connectError(e: unknown, w: Where): MariadbError {
  const err = e as DriverError;
  const at = `${w.host}:${w.port}`;
  const extra = { database: w.database, code: err.code, errno: err.errno, cause: e };
  switch (err.code) {
    case "ECONNREFUSED":
    case "ECONNRESET":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
    case "ETIMEDOUT":
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new MariadbError(
        "unreachable",
        w.node,
        `MariaDB node ${w.node} is unreachable at ${at} (${err.code})`,
        `start it (\`dbmesh up --node ${w.node}\` for nodes dbmesh manages) or fix host/port of nodes.${w.node}`,
        extra,
      );
  }
  switch (err.errno) {
    case 1045: // ER_ACCESS_DENIED_ERROR
      return new MariadbError(
        "auth-failed",
        w.node,
        `MariaDB node ${w.node} refused the login of ${w.user} from this host: ${err.sqlMessage ?? err.message}`,
        `check the password reference of ${w.user} and that roles.${w.user}.from includes this host's address; \`dbmesh apply\` creates declared accounts and resets their passwords`,
        extra,
      );
    case 1130: // ER_HOST_NOT_PRIVILEGED
      return new MariadbError(
        "auth-failed",
        w.node,
        `MariaDB node ${w.node} has no account for ${w.user} from this host: ${err.sqlMessage ?? err.message}`,
        `add this host's address to roles.${w.user}.from and run \`dbmesh apply\``,
        extra,
      );
    case 1044: // ER_DBACCESS_DENIED_ERROR
      return new MariadbError(
        "access-denied",
        w.node,
        `MariaDB node ${w.node}: ${w.user} has no grant on database ${w.database ?? ""}: ${err.sqlMessage ?? err.message}`,
        `grant it: declare ${w.user} as the database's owner, or GRANT SELECT ON \`${w.database ?? ""}\`.* TO the account`,
        extra,
      );
    case 1049: // ER_BAD_DB_ERROR
      return new MariadbError(
        "no-database",
        w.node,
        `database ${w.database ?? ""} does not exist on MariaDB node ${w.node}`,
        "run `dbmesh apply` to create declared databases",
        extra,
      );
  }
  return new MariadbError(
    "sql",
    w.node,
    `MariaDB node ${w.node} at ${at}: ${err.sqlMessage ?? err.message ?? String(e)}`,
    `check that ${at} is a MariaDB or MySQL server and reachable from here`,
    extra,
  );
}

/** Wraps an error a statement raised, keeping the server's error number and the statement. */
export function statementError(
  e: unknown,
  node: string,
  database: string | undefined,
  sql: string,
): MariadbError {
  if (e instanceof MariadbError) return e;
  const err = e as DriverError;
  const where = database ? `${node}/${database}` : node;
  const denied = err.errno === 1044 || err.errno === 1142 || err.errno === 1143;
  return new MariadbError(
    denied ? "access-denied" : "sql",
    node,
    `MariaDB node ${where}: ${err.sqlMessage ?? err.message ?? String(e)}`,
    denied
      ? "the account lacks the grant named above; declare the user as the database's owner, or grant it"
      : "fix the cause above and run `dbmesh apply` again; completed steps are kept",
    { database, code: err.code, errno: err.errno, sql, cause: e },
  );
}

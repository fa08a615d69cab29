// What a statement does to the session or transaction, as the pooler must know in transaction
// pooling mode: state to carry to the next server connection, state that needs the connection
// pinned, and router-local settings. Session-level SET and RESET are transactional: one inside a
// transaction that rolls back is undone, so a pooler applies them when the transaction commits.
// https://www.postgresql.org/docs/17/sql-set.html

/** The router-local session setting `SET dbmesh.route`. */
export type RouteSetting = "primary" | "standby" | "auto";

/** Transaction characteristics from BEGIN/START TRANSACTION or SET TRANSACTION; undefined = not said. */
export interface TransactionMode {
  readonly readOnly: boolean | undefined;
  /** Lower case, as the server spells it: "serializable", "repeatable read", ... */
  readonly isolation: string | undefined;
  readonly deferrable: boolean | undefined;
}

/** SET, SET LOCAL and set_config(): `sql` replays it on another connection. */
export interface SetEffect {
  readonly kind: "set";
  /** The parameter's name as the server knows it (lower case: "search_path", "role", "timezone"). */
  readonly name: string;
  /** The value as SQL text, exactly as the client wrote it ("a, \"B\"", "'UTC'", "DEFAULT"). */
  readonly value: string;
  /** "transaction" for SET LOCAL and set_config(..., true): gone at transaction end, not carried. */
  readonly scope: "session" | "transaction";
  /** The statement to replay: the client's own SET text, or a set_config() call. */
  readonly sql: string;
}

/** SET dbmesh.route / RESET dbmesh.route: handled by the router, never sent to a server. */
export interface RouteEffect {
  readonly kind: "route";
  /** undefined when the value is not primary, standby or auto (the router answers 22023). */
  readonly route: RouteSetting | undefined;
  /** The value as written, for an error message. */
  readonly value: string;
  readonly scope: "session" | "transaction";
  /** The statement's span in the text (string indices, end exclusive) for the router to cut out. */
  readonly start: number;
  readonly end: number;
}

export type Effect =
  | ({ readonly kind: "begin" } & TransactionMode)
  /** SET TRANSACTION ... (the current transaction only) */
  | ({ readonly kind: "transaction-mode" } & TransactionMode)
  | { readonly kind: "commit"; readonly chain: boolean }
  | { readonly kind: "rollback"; readonly chain: boolean }
  | { readonly kind: "savepoint"; readonly name: string }
  | { readonly kind: "release"; readonly name: string }
  | { readonly kind: "rollback-to"; readonly name: string }
  | { readonly kind: "prepare-transaction"; readonly gid: string }
  | { readonly kind: "commit-prepared"; readonly gid: string }
  | { readonly kind: "rollback-prepared"; readonly gid: string }
  | SetEffect
  /** RESET name, SET name TO DEFAULT, RESET ROLE, SET SESSION AUTHORIZATION DEFAULT */
  | { readonly kind: "reset"; readonly name: string; readonly sql: string }
  | { readonly kind: "reset-all" }
  | { readonly kind: "discard"; readonly what: "all" | "plans" | "sequences" | "temp" }
  /**
   * Needs a dedicated server connection from here on: LISTEN, temporary objects, session
   * advisory locks, WITH HOLD cursors, LOAD, set_config() with non-constant arguments.
   */
  | { readonly kind: "pin"; readonly reason: string }
  /** UNLISTEN channel, or all channels when channel is undefined (UNLISTEN *). */
  | { readonly kind: "unlisten"; readonly channel: string | undefined }
  /**
   * SQL-level PREPARE, tracked like protocol-level named statements: the pooler keeps `sql` per
   * client and runs it on whichever server connection runs an EXECUTE of `name`.
   */
  | { readonly kind: "prepare"; readonly name: string; readonly sql: string }
  /** EXECUTE name(...): `callsFunctions` is true when its arguments call any function. */
  | { readonly kind: "execute"; readonly name: string; readonly callsFunctions: boolean }
  /** DEALLOCATE name, or every prepared statement when name is undefined (DEALLOCATE ALL). */
  | { readonly kind: "deallocate"; readonly name: string | undefined }
  | RouteEffect
  /** SHOW dbmesh.route: the router answers it; start/end as in RouteEffect. */
  | { readonly kind: "show-route"; readonly start: number; readonly end: number };

function mode(m: TransactionMode): string {
  let s = "";
  if (m.isolation !== undefined) s += ` isolation level ${m.isolation}`;
  if (m.readOnly !== undefined) s += m.readOnly ? " read only" : " read write";
  if (m.deferrable !== undefined) s += m.deferrable ? " deferrable" : " not deferrable";
  return s;
}

/** One line for logs, SHOW output and tests: "set search_path = a", "pin: LISTEN jobs". */
export function describeEffect(e: Effect): string {
  switch (e.kind) {
    case "begin":
      return `begin${mode(e)}`;
    case "transaction-mode":
      return `set transaction${mode(e)}`;
    case "commit":
    case "rollback":
      return e.chain ? `${e.kind} and chain` : e.kind;
    case "savepoint":
    case "release":
      return `${e.kind} ${e.name}`;
    case "rollback-to":
      return `rollback to ${e.name}`;
    case "prepare-transaction":
      return `prepare transaction ${e.gid}`;
    case "commit-prepared":
      return `commit prepared ${e.gid}`;
    case "rollback-prepared":
      return `rollback prepared ${e.gid}`;
    case "set":
      return `set ${e.scope === "transaction" ? "local " : ""}${e.name} = ${e.value}`;
    case "reset":
      return `reset ${e.name}`;
    case "reset-all":
      return "reset all";
    case "discard":
      return `discard ${e.what}`;
    case "pin":
      return `pin: ${e.reason}`;
    case "unlisten":
      return `unlisten ${e.channel ?? "*"}`;
    case "prepare":
      return `prepare ${e.name}`;
    case "execute":
      return `execute ${e.name}${e.callsFunctions ? " (calls functions)" : ""}`;
    case "deallocate":
      return `deallocate ${e.name ?? "all"}`;
    case "route":
      return `route ${e.scope === "transaction" ? "local " : ""}${e.route ?? `invalid ${e.value}`}`;
    case "show-route":
      return "show route";
  }
}

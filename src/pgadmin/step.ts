/** pg_hba.conf line as dbmesh writes it (tokens already quoted). */
export interface HbaLine {
  readonly type: "local" | "host" | "hostssl";
  readonly database: string;
  readonly user: string;
  readonly address?: string;
  readonly method: "scram-sha-256" | "reject";
  readonly comment?: string;
}

/**
 * Phases run in order across all nodes: 1 roles, databases and pg_hba (server level);
 * 2 schemas, seeds, extensions, foreign servers, mappings, grants (per database);
 * 3 what reads remote catalogs: imported foreign tables, views, copies.
 */
export type Phase = 1 | 2 | 3;

/** One unit of apply: run in one transaction when it can be, so a rerun finishes the rest. */
export interface Step {
  readonly node: string;
  /** Database the step connects to. */
  readonly database: string;
  readonly phase: Phase;
  /** What the step does, in words. */
  readonly summary: string;
  readonly sql: readonly string[];
  /** What the plan prints instead of `sql` (e.g. a seed file's name instead of its text). */
  readonly display?: readonly string[];
  /** Creates schemas or tables a link may expose (schemas, seeds): links to it wait for it. */
  readonly shapesTables?: boolean;
  /** The statements carry a password or verifier: apply turns statement logging off for them. */
  readonly secret?: boolean;
  /** false for statements that cannot run in a transaction block (CREATE DATABASE). */
  readonly transaction: boolean;
  /** A pg_hba.conf rewrite (managed nodes) instead of SQL; the diff is in `sql` as comments. */
  readonly hba?: readonly HbaLine[];
  /**
   * Statements that run first, logged in as this role rather than the admin, before `sql` (MariaDB
   * seeds run as the database's owner: MariaDB has no SET ROLE for accounts).
   */
  readonly runAs?: { readonly role: string; readonly sql: readonly string[] };
  /**
   * Files apply writes on this machine before `sql`, owned by the servers' user (a managed
   * MariaDB node's ODBC data sources and password file); `display` shows them, masked.
   */
  readonly files?: readonly {
    readonly path: string;
    readonly content: string;
    readonly mode: number;
  }[];
  /** The SQL depends on earlier steps (e.g. remote columns not there yet); known at apply time. */
  readonly deferred?: boolean;
}

/** Something that stops part of a plan; says what and how to fix it. */
export interface Problem {
  readonly node: string;
  readonly message: string;
  readonly hint: string;
}

export interface NodePlan {
  readonly node: string;
  readonly steps: Step[];
  readonly problems: Problem[];
}

export interface Plan {
  readonly nodes: NodePlan[];
  /** Statements sent to read the catalogs. */
  roundTrips: number;
}

export function stepCount(plan: Plan): number {
  return plan.nodes.reduce((n, p) => n + p.steps.length, 0);
}

/**
 * Keeps statements that carry passwords out of the server log, even when they fail or the
 * server logs all statements (log_statement, log_min_error_statement and
 * log_min_duration_statement are superuser-settable; SET LOCAL ends with the transaction).
 */
export const quietLogging = [
  "SET LOCAL log_statement = 'none'",
  "SET LOCAL log_min_error_statement = 'panic'",
  "SET LOCAL log_min_duration_statement = -1",
];

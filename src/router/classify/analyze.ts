// Everything about a statement string that depends only on its text, from PostgreSQL's own
// grammar (libpg_query): what forces the primary, which functions need the volatility oracle,
// and the session/transaction effects in statement order. The oracle-dependent verdict is made
// in classifier.ts, so a pg_proc reload re-checks function names without parsing again.
// Node shapes are libpg_query's JSON of the raw parse tree (src/include/nodes/parsenodes.h);
// protobuf JSON leaves false/zero fields out.

import type { Effect, RouteSetting, TransactionMode } from "./effect.js";
import { leadingHint, type RouteHint } from "./hint.js";
import { parse, scan } from "./parser.js";
import { SourceText } from "./source-text.js";

/** A function name as written: schema undefined when unqualified. */
export interface FunctionName {
  readonly schema: string | undefined;
  readonly name: string;
}

/** The oracle-independent part of a classification. */
export interface Facts {
  readonly parsed: boolean;
  /** The parser failed for a reason other than the text (it is reloading): don't cache. */
  readonly transient: boolean;
  readonly hint: RouteHint | undefined;
  readonly statements: number;
  /** Set when the text needs the primary whatever a hint or session setting says. */
  readonly hardReason: string | undefined;
  /** Set when the text prefers the primary but a standby hint may overrule (no write proven). */
  readonly softReason: string | undefined;
  /** The reason when nothing sends the text to the primary. */
  readonly readReason: string;
  /** Distinct functions called where they run, for the oracle; empty when hardReason is set. */
  readonly functions: readonly FunctionName[];
  readonly effects: readonly Effect[];
}

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
}

function list(v: unknown): readonly unknown[] {
  return Array.isArray(v) ? v : [];
}

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === "number" ? v : undefined;
}

/** `{"SelectStmt": {...}}` → ["SelectStmt", {...}] */
function unwrap(node: unknown): [string, Obj] | undefined {
  const o = obj(node);
  if (o === undefined) return undefined;
  for (const key in o) {
    const body = obj(o[key]);
    return body === undefined ? undefined : [key, body];
  }
  return undefined;
}

/** The value of an A_Const node: protobuf JSON omits zero and false (`{"ival": {}}` is 0). */
function constant(node: unknown): string | number | boolean | null | undefined {
  const c = obj(obj(node)?.A_Const);
  if (c === undefined) return undefined;
  if (c.isnull === true) return null;
  const s = obj(c.sval);
  if (s !== undefined) return str(s.sval) ?? "";
  const i = obj(c.ival);
  if (i !== undefined) return num(i.ival) ?? 0;
  const b = obj(c.boolval);
  if (b !== undefined) return b.boolval === true;
  const f = obj(c.fval);
  if (f !== undefined) return Number(str(f.fval));
  return undefined;
}

/** A boolean as PostgreSQL's boolin accepts it, from a constant; undefined if not constant. */
function constantBool(node: unknown): boolean | undefined {
  const v = constant(node);
  if (typeof v === "boolean") return v;
  if (typeof v === "number") return v !== 0;
  return typeof v === "string" ? boolText(v) : undefined;
}

function boolText(text: string): boolean | undefined {
  const s = text.trim().toLowerCase();
  if (["t", "true", "y", "yes", "on", "1"].includes(s)) return true;
  if (["f", "false", "n", "no", "off", "0"].includes(s)) return false;
  return undefined;
}

/** The smallest non-negative `location` in a subtree (byte offset of its first token). */
function firstLocation(v: unknown): number | undefined {
  let best: number | undefined;
  const visit = (x: unknown): void => {
    if (Array.isArray(x)) {
      for (const y of x) visit(y);
      return;
    }
    const o = obj(x);
    if (o === undefined) return;
    for (const key in o) {
      const child = o[key];
      if (key === "location" && typeof child === "number" && child >= 0) {
        if (best === undefined || child < best) best = child;
      } else if (typeof child === "object") {
        visit(child);
      }
    }
  };
  visit(v);
  return best;
}

/** Whether a node of this type occurs anywhere below `v`. */
function hasKey(v: unknown, type: string): boolean {
  if (Array.isArray(v)) return v.some((x) => hasKey(x, type));
  const o = obj(v);
  if (o === undefined) return false;
  for (const key in o) {
    if (key === type || hasKey(o[key], type)) return true;
  }
  return false;
}

const dmlVerb: Readonly<Record<string, string>> = {
  InsertStmt: "INSERT",
  UpdateStmt: "UPDATE",
  DeleteStmt: "DELETE",
  MergeStmt: "MERGE",
};

const lockStrength: Readonly<Record<string, string>> = {
  LCS_FORUPDATE: "FOR UPDATE",
  LCS_FORNOKEYUPDATE: "FOR NO KEY UPDATE",
  LCS_FORSHARE: "FOR SHARE",
  LCS_FORKEYSHARE: "FOR KEY SHARE",
};

/**
 * pg_catalog functions that write or need the primary whatever pg_proc says (txid_current is
 * STABLE but assigns a transaction id, which a standby can't). `pin` marks session-level
 * advisory locks, held by the server connection until unlocked.
 * https://www.postgresql.org/docs/17/functions-admin.html#FUNCTIONS-ADVISORY-LOCKS
 */
const writingFunctions: ReadonlyMap<string, { readonly pin: boolean }> = new Map<
  string,
  { readonly pin: boolean }
>([
  ...["nextval", "setval", "pg_notify", "txid_current", "pg_current_xact_id"].map(
    (n) => [n, { pin: false }] as const,
  ),
  ...[
    "pg_advisory_lock",
    "pg_advisory_lock_shared",
    "pg_try_advisory_lock",
    "pg_try_advisory_lock_shared",
  ].map((n) => [n, { pin: true }] as const),
  ...[
    "pg_advisory_unlock",
    "pg_advisory_unlock_shared",
    "pg_advisory_unlock_all",
    "pg_advisory_xact_lock",
    "pg_advisory_xact_lock_shared",
    "pg_try_advisory_xact_lock",
    "pg_try_advisory_xact_lock_shared",
  ].map((n) => [n, { pin: false }] as const),
  ...[
    "lo_create",
    "lo_creat",
    "lo_import",
    "lo_unlink",
    "lo_put",
    "lo_from_bytea",
    "lowrite",
    "lo_truncate",
    "lo_truncate64",
  ].map((n) => [n, { pin: false }] as const),
]);

/** Log names for statements whose node name doesn't read as the command. */
const commandNames: Readonly<Record<string, string>> = {
  CreateStmt: "CREATE TABLE",
  IndexStmt: "CREATE INDEX",
  ViewStmt: "CREATE VIEW",
  CreateSeqStmt: "CREATE SEQUENCE",
  AlterSeqStmt: "ALTER SEQUENCE",
  CreatedbStmt: "CREATE DATABASE",
  DropdbStmt: "DROP DATABASE",
  CheckPointStmt: "CHECKPOINT",
  DefineStmt: "CREATE",
  RenameStmt: "ALTER RENAME",
  RuleStmt: "CREATE RULE",
  CreateTrigStmt: "CREATE TRIGGER",
  CreateEventTrigStmt: "CREATE EVENT TRIGGER",
  AlterEventTrigStmt: "ALTER EVENT TRIGGER",
  CreatePLangStmt: "CREATE LANGUAGE",
  CompositeTypeStmt: "CREATE TYPE",
  CreateEnumStmt: "CREATE TYPE",
  CreateRangeStmt: "CREATE TYPE",
  RefreshMatViewStmt: "REFRESH MATERIALIZED VIEW",
  SecLabelStmt: "SECURITY LABEL",
  CreateTableSpaceStmt: "CREATE TABLESPACE",
  DropTableSpaceStmt: "DROP TABLESPACE",
  CreateFdwStmt: "CREATE FOREIGN DATA WRAPPER",
  AlterFdwStmt: "ALTER FOREIGN DATA WRAPPER",
  CreateStatsStmt: "CREATE STATISTICS",
  AlterStatsStmt: "ALTER STATISTICS",
  CreateAmStmt: "CREATE ACCESS METHOD",
  AlterObjectSchemaStmt: "ALTER SET SCHEMA",
  AlterOwnerStmt: "ALTER OWNER",
};

/** "AlterTableStmt" → "ALTER TABLE" */
function commandName(type: string): string {
  return (
    commandNames[type] ??
    type
      .replace(/Stmt$/, "")
      .replace(/([a-z])([A-Z])/g, "$1 $2")
      .toUpperCase()
  );
}

/** A RangeVar that names a temporary relation: TEMP/TEMPORARY, or created in pg_temp. */
function isTemp(rangeVar: unknown): boolean {
  const r = obj(rangeVar);
  return r !== undefined && (r.relpersistence === "t" || r.schemaname === "pg_temp");
}

// DECLARE ... WITH HOLD (CURSOR_OPT_HOLD in parsenodes.h)
const CURSOR_OPT_HOLD = 0x0020;

interface Token {
  readonly start: number;
  readonly end: number;
  readonly text: string;
  readonly tokenName: string;
}

class Analysis {
  hardReason: string | undefined;
  softReason: string | undefined;
  readReason: string | undefined;
  readonly functions = new Map<string, FunctionName>();
  readonly effects: Effect[] = [];
  /** Reasons found now are prefixed (EXPLAIN, PREPARE). */
  prefix = "";
  /** Inside EXPLAIN without ANALYZE or PREPARE: nothing runs, so no effects. */
  quiet = false;
  /** Inside EXPLAIN without ANALYZE: a write is planned, not done, so it doesn't force the primary. */
  planOnly = false;
  /** The current statement's byte span, and its tokens (scanned on demand, offsets absolute). */
  start = 0;
  end = 0;
  private tokens: readonly Token[] | undefined;

  constructor(readonly src: SourceText) {}

  statement(start: number, end: number): void {
    this.start = start;
    this.end = end;
    this.tokens = undefined;
  }

  hard(reason: string): void {
    if (this.planOnly) this.soft(reason);
    else this.hardReason ??= this.prefix + reason;
  }

  soft(reason: string): void {
    this.softReason ??= this.prefix + reason;
  }

  read(reason: string): void {
    this.readReason ??= this.prefix + reason;
  }

  effect(e: Effect): void {
    if (!this.quiet) this.effects.push(e);
  }

  addFunction(f: FunctionName): void {
    this.functions.set(`${f.schema ?? ""}\0${f.name}`, f);
  }

  /** The current statement's tokens, comments excluded; offsets are absolute bytes. */
  private scan(): readonly Token[] {
    if (this.tokens === undefined) {
      const { tokens } = scan(this.src.slice(this.start, this.end));
      this.tokens = tokens
        .filter((t) => t.tokenName !== "C_COMMENT" && t.tokenName !== "SQL_COMMENT")
        .map((t) => ({ ...t, start: t.start + this.start, end: t.end + this.start }));
    }
    return this.tokens;
  }

  /** Byte offset just past the statement's last token (trailing comments and `;` excluded). */
  lastTokenEnd(): number {
    const tokens = this.scan();
    for (let i = tokens.length - 1; i >= 0; i--) {
      const t = tokens[i]!;
      if (t.text !== ";") return t.end;
    }
    return this.start;
  }

  /** The source text of the token at a byte offset. */
  tokenAt(location: number): string | undefined {
    return this.scan().find((t) => t.start === location)?.text;
  }

  /** The current statement's own text, without trailing comments or `;`. */
  statementText(): string {
    return this.src.slice(this.start, this.lastTokenEnd());
  }
}

/**
 * Visits every node below `v`: writes hidden anywhere (data-modifying WITH, COPY (INSERT ...
 * RETURNING)), row locks in subqueries, and every function call.
 */
function walk(v: unknown, a: Analysis): void {
  if (Array.isArray(v)) {
    for (const x of v) walk(x, a);
    return;
  }
  if (typeof v !== "object" || v === null) return;
  const o = v as Obj;
  for (const key in o) {
    const child = o[key];
    if (typeof child !== "object" || child === null) continue;
    switch (key) {
      case "InsertStmt":
      case "UpdateStmt":
      case "DeleteStmt":
      case "MergeStmt":
        a.hard(dmlVerb[key]!);
        break;
      case "ctequery": {
        const inner = unwrap(child);
        const verb = inner === undefined ? undefined : dmlVerb[inner[0]];
        if (verb !== undefined) a.hard(`${verb} in WITH`);
        break;
      }
      case "lockingClause": {
        const lc = obj(unwrap(list(child)[0])?.[1]);
        a.hard(lockStrength[str(lc?.strength) ?? ""] ?? "FOR UPDATE");
        break;
      }
      case "FuncCall":
        funcCall(child as Obj, a);
        break;
    }
    walk(child, a);
  }
}

function funcCall(fc: Obj, a: Analysis): void {
  const parts = list(fc.funcname).map((n) => str(obj(obj(n)?.String)?.sval) ?? "");
  const name = parts[parts.length - 1] ?? "";
  const schema = parts.length > 1 ? parts[parts.length - 2] : undefined;
  if (schema === undefined || schema === "pg_catalog") {
    const known = writingFunctions.get(name);
    if (known !== undefined) {
      a.hard(`calls ${name}()`);
      if (known.pin) a.effect({ kind: "pin", reason: `${name}()` });
      return;
    }
    if (name === "set_config") setConfig(fc, a);
  }
  a.addFunction({ schema, name });
}

/** set_config(name, value, is_local): a SET when its arguments are constants, else a pin. */
function setConfig(fc: Obj, a: Analysis): void {
  const [nameArg, valueArg, localArg] = list(fc.args);
  const name = constant(nameArg);
  const isLocal = constantBool(localArg);
  const nameText = a.tokenAt(num(obj(obj(nameArg)?.A_Const)?.location) ?? -1);
  const valueText =
    constant(valueArg) === undefined
      ? undefined
      : a.tokenAt(num(obj(obj(valueArg)?.A_Const)?.location) ?? -1);
  if (typeof name !== "string" || isLocal === undefined || !nameText || !valueText) {
    a.effect({ kind: "pin", reason: "set_config() with non-constant arguments" });
    return;
  }
  a.effect({
    kind: "set",
    name: name.toLowerCase(),
    value: valueText,
    scope: isLocal ? "transaction" : "session",
    sql: `SELECT pg_catalog.set_config(${nameText}, ${valueText}, ${isLocal})`,
  });
}

function transactionMode(options: unknown): TransactionMode {
  let readOnly: boolean | undefined;
  let isolation: string | undefined;
  let deferrable: boolean | undefined;
  for (const o of list(options)) {
    const d = obj(obj(o)?.DefElem);
    const value = constant(d?.arg);
    switch (d?.defname) {
      case "transaction_read_only":
        readOnly = value === 1 || value === true;
        break;
      case "transaction_isolation":
        isolation = typeof value === "string" ? value : undefined;
        break;
      case "transaction_deferrable":
        deferrable = value === 1 || value === true;
        break;
    }
  }
  return { readOnly, isolation, deferrable };
}

/**
 * Where a transaction with these characteristics may run. A standby refuses READ WRITE and
 * SERIALIZABLE ("cannot use serializable mode in a hot standby").
 * https://www.postgresql.org/docs/17/hot-standby.html#HOT-STANDBY-USERS
 */
function transactionRoute(m: TransactionMode, command: string, a: Analysis): void {
  if (m.isolation === "serializable") a.hard(`${command} ISOLATION LEVEL SERIALIZABLE`);
  else if (m.readOnly === false) a.hard(`${command} READ WRITE`);
  else if (m.readOnly === true) a.read(`${command} READ ONLY`);
  // a read-write transaction by default: its reads go to the primary too
  else if (command === "BEGIN") a.soft("BEGIN");
  else a.read(command);
}

function transactionStmt(b: Obj, a: Analysis): void {
  const chain = b.chain === true;
  const gid = str(b.gid) ?? "";
  const name = str(b.savepoint_name) ?? "";
  switch (b.kind) {
    case "TRANS_STMT_BEGIN":
    case "TRANS_STMT_START": {
      const m = transactionMode(b.options);
      a.effect({ kind: "begin", ...m });
      transactionRoute(m, "BEGIN", a);
      return;
    }
    case "TRANS_STMT_COMMIT":
      a.effect({ kind: "commit", chain });
      a.read("COMMIT");
      return;
    case "TRANS_STMT_ROLLBACK":
      a.effect({ kind: "rollback", chain });
      a.read("ROLLBACK");
      return;
    case "TRANS_STMT_SAVEPOINT":
      a.effect({ kind: "savepoint", name });
      a.read("SAVEPOINT");
      return;
    case "TRANS_STMT_RELEASE":
      a.effect({ kind: "release", name });
      a.read("RELEASE");
      return;
    case "TRANS_STMT_ROLLBACK_TO":
      a.effect({ kind: "rollback-to", name });
      a.read("ROLLBACK TO");
      return;
    case "TRANS_STMT_PREPARE":
      a.effect({ kind: "prepare-transaction", gid });
      a.hard("PREPARE TRANSACTION");
      return;
    case "TRANS_STMT_COMMIT_PREPARED":
      a.effect({ kind: "commit-prepared", gid });
      a.hard("COMMIT PREPARED");
      return;
    case "TRANS_STMT_ROLLBACK_PREPARED":
      a.effect({ kind: "rollback-prepared", gid });
      a.hard("ROLLBACK PREPARED");
      return;
    default:
      a.hard("transaction command");
  }
}

const ROUTE_SETTING = "dbmesh.route";

function parseRouteSetting(value: string): RouteSetting | undefined {
  const v = value.toLowerCase();
  return v === "primary" || v === "standby" || v === "auto" ? v : undefined;
}

/** SET, SET LOCAL, SET TRANSACTION, SET SESSION CHARACTERISTICS, RESET. */
function variableSetStmt(b: Obj, a: Analysis): void {
  const name = str(b.name) ?? "";
  const scope = b.is_local === true ? "transaction" : "session";
  const kind = str(b.kind);
  if (name === ROUTE_SETTING) {
    const args = list(b.args);
    const value =
      kind === "VAR_SET_VALUE"
        ? args.length === 1
          ? String(constant(args[0]))
          : a.src.slice(firstLocation(args) ?? a.end, a.lastTokenEnd())
        : "DEFAULT";
    a.effect({
      kind: "route",
      route: kind === "VAR_SET_VALUE" ? parseRouteSetting(value) : "auto",
      value,
      scope,
      start: a.src.index(a.start),
      end: a.src.index(a.lastTokenEnd()),
    });
    a.read(kind === "VAR_SET_VALUE" ? "SET dbmesh.route" : "RESET dbmesh.route");
    return;
  }
  switch (kind) {
    case "VAR_SET_VALUE": {
      const start = firstLocation(b.args);
      a.effect({
        kind: "set",
        name,
        value: a.src.slice(start ?? a.lastTokenEnd(), a.lastTokenEnd()),
        scope,
        sql: a.statementText(),
      });
      a.read("SET");
      return;
    }
    case "VAR_SET_DEFAULT":
      if (scope === "transaction") {
        a.effect({ kind: "set", name, value: "DEFAULT", scope, sql: a.statementText() });
      } else {
        a.effect({ kind: "reset", name, sql: a.statementText() });
      }
      a.read("SET");
      return;
    case "VAR_RESET":
      a.effect({ kind: "reset", name, sql: a.statementText() });
      a.read("RESET");
      return;
    case "VAR_RESET_ALL":
      a.effect({ kind: "reset-all" });
      a.read("RESET ALL");
      return;
    case "VAR_SET_MULTI":
      setMulti(name, b, a);
      return;
    default:
      // SET ... FROM CURRENT is only valid in CREATE FUNCTION
      a.hard("SET");
  }
}

function setMulti(name: string, b: Obj, a: Analysis): void {
  if (name === "TRANSACTION") {
    const m = transactionMode(b.args);
    a.effect({ kind: "transaction-mode", ...m });
    transactionRoute(m, "SET TRANSACTION", a);
  } else if (name === "SESSION CHARACTERISTICS") {
    // each characteristic is the session default of a transaction_* setting
    const m = transactionMode(b.args);
    const set = (setting: string, value: string): void =>
      a.effect({
        kind: "set",
        name: setting,
        value,
        scope: "session",
        sql: `SET ${setting} TO ${value}`,
      });
    if (m.isolation !== undefined) {
      set("default_transaction_isolation", `'${m.isolation}'`);
    }
    if (m.readOnly !== undefined) set("default_transaction_read_only", m.readOnly ? "on" : "off");
    if (m.deferrable !== undefined) {
      set("default_transaction_deferrable", m.deferrable ? "on" : "off");
    }
    a.read("SET SESSION CHARACTERISTICS");
  } else if (name === "TRANSACTION SNAPSHOT") {
    // the snapshot was exported by some server's transaction; only the primary is sure to know it
    a.soft("SET TRANSACTION SNAPSHOT");
  } else {
    a.hard(`SET ${name}`);
  }
}

function explainStmt(b: Obj, a: Analysis): void {
  let analyze = false;
  for (const o of list(b.options)) {
    const d = obj(obj(o)?.DefElem);
    if (d?.defname !== "analyze") continue;
    // EXPLAIN (ANALYZE off) gives a String node, EXPLAIN (ANALYZE 0) an A_Const
    const word = str(obj(obj(d.arg)?.String)?.sval);
    const value = word === undefined ? constantBool(d.arg) : boolText(word);
    analyze = d.arg === undefined || value !== false;
  }
  const outer = { prefix: a.prefix, quiet: a.quiet, planOnly: a.planOnly };
  a.prefix = analyze ? "EXPLAIN ANALYZE " : "EXPLAIN ";
  a.quiet ||= !analyze;
  a.planOnly = !analyze;
  statement(b.query, a);
  Object.assign(a, outer);
}

function copyStmt(b: Obj, a: Analysis): void {
  if (b.is_from === true) {
    a.hard("COPY FROM");
  } else if (b.is_program === true) {
    a.hard("COPY TO PROGRAM");
  } else if (b.filename !== undefined) {
    // writes a file on the server it runs on
    a.hard("COPY TO file");
  } else {
    a.read("COPY TO");
  }
  walk(b.query, a);
}

function prepareStmt(b: Obj, a: Analysis): void {
  const name = str(b.name) ?? "";
  a.effect({ kind: "prepare", name, sql: a.statementText() });
  // PREPARE runs nothing; it is routed where its EXECUTEs would go without tracking
  const outer = { prefix: a.prefix, quiet: a.quiet };
  a.prefix = "PREPARE ";
  a.quiet = true;
  statement(b.query, a);
  Object.assign(a, outer);
}

/** One statement (a RawStmt's stmt, or the query inside EXPLAIN/PREPARE). */
function statement(node: unknown, a: Analysis): void {
  const u = unwrap(node);
  if (u === undefined) {
    a.hard("unrecognized statement");
    return;
  }
  const [type, b] = u;
  switch (type) {
    case "SelectStmt": {
      const into = obj(b.intoClause);
      if (into !== undefined) {
        a.hard("SELECT INTO");
        if (isTemp(into.rel) && into.onCommit !== "ONCOMMIT_DROP") {
          a.effect({ kind: "pin", reason: "SELECT INTO TEMP" });
        }
      }
      a.read(list(b.valuesLists).length > 0 ? "VALUES" : "SELECT");
      walk(b, a);
      return;
    }
    case "InsertStmt":
    case "UpdateStmt":
    case "DeleteStmt":
    case "MergeStmt":
      a.hard(dmlVerb[type]!);
      walk(b, a);
      return;
    case "ExplainStmt":
      explainStmt(b, a);
      return;
    case "CopyStmt":
      copyStmt(b, a);
      return;
    case "VariableShowStmt":
      if (b.name === ROUTE_SETTING) {
        a.effect({
          kind: "show-route",
          start: a.src.index(a.start),
          end: a.src.index(a.lastTokenEnd()),
        });
      }
      a.read("SHOW");
      return;
    case "VariableSetStmt":
      variableSetStmt(b, a);
      return;
    case "TransactionStmt":
      transactionStmt(b, a);
      return;
    case "DeclareCursorStmt":
      if (((num(b.options) ?? 0) & CURSOR_OPT_HOLD) !== 0) {
        a.effect({ kind: "pin", reason: "DECLARE WITH HOLD" });
      }
      a.read("DECLARE CURSOR");
      statement(b.query, a);
      return;
    case "FetchStmt":
      // a cursor lives where it was declared: inside the transaction, or on a pinned connection
      a.soft(b.ismove === true ? "MOVE" : "FETCH");
      return;
    case "ClosePortalStmt":
      a.soft("CLOSE");
      return;
    case "PrepareStmt":
      prepareStmt(b, a);
      return;
    case "ExecuteStmt":
      walk(b.params, a);
      a.effect({
        kind: "execute",
        name: str(b.name) ?? "",
        callsFunctions: hasKey(b.params, "FuncCall"),
      });
      // the prepared statement's route is the pooler's to know (it tracks PREPARE)
      a.soft(`EXECUTE ${str(b.name) ?? ""}`);
      return;
    case "DeallocateStmt":
      a.effect({ kind: "deallocate", name: b.isall === true ? undefined : (str(b.name) ?? "") });
      a.read("DEALLOCATE");
      return;
    case "ListenStmt":
      // a standby refuses LISTEN and NOTIFY
      a.effect({ kind: "pin", reason: `LISTEN ${str(b.conditionname) ?? ""}` });
      a.hard("LISTEN");
      return;
    case "UnlistenStmt":
      a.effect({ kind: "unlisten", channel: str(b.conditionname) });
      a.soft("UNLISTEN");
      return;
    case "NotifyStmt":
      a.hard("NOTIFY");
      return;
    case "LoadStmt":
      a.effect({ kind: "pin", reason: "LOAD" });
      a.soft("LOAD");
      return;
    case "DiscardStmt": {
      const what = (str(b.target) ?? "DISCARD_ALL").replace("DISCARD_", "").toLowerCase();
      a.effect({ kind: "discard", what: what as "all" | "plans" | "sequences" | "temp" });
      a.read(`DISCARD ${what.toUpperCase()}`);
      return;
    }
    case "ConstraintsSetStmt":
      a.read("SET CONSTRAINTS");
      return;
    case "CreateStmt":
      a.hard(isTemp(b.relation) ? "CREATE TEMP TABLE" : "CREATE TABLE");
      // ON COMMIT DROP: gone with the transaction, nothing outlives it on the connection
      if (isTemp(b.relation) && b.oncommit !== "ONCOMMIT_DROP") {
        a.effect({ kind: "pin", reason: "CREATE TEMP TABLE" });
      }
      return;
    case "ViewStmt":
      a.hard(isTemp(b.view) ? "CREATE TEMP VIEW" : "CREATE VIEW");
      if (isTemp(b.view)) a.effect({ kind: "pin", reason: "CREATE TEMP VIEW" });
      return;
    case "CreateSeqStmt":
      a.hard(isTemp(b.sequence) ? "CREATE TEMP SEQUENCE" : "CREATE SEQUENCE");
      if (isTemp(b.sequence)) a.effect({ kind: "pin", reason: "CREATE TEMP SEQUENCE" });
      return;
    case "CreateTableAsStmt": {
      const into = obj(b.into);
      const temp = isTemp(into?.rel);
      const what = b.objtype === "OBJECT_MATVIEW" ? "CREATE MATERIALIZED VIEW" : "CREATE TABLE AS";
      a.hard(temp ? what.replace("CREATE ", "CREATE TEMP ") : what);
      if (temp && into?.onCommit !== "ONCOMMIT_DROP") {
        a.effect({ kind: "pin", reason: "CREATE TEMP TABLE AS" });
      }
      walk(b.query, a);
      return;
    }
    case "VacuumStmt":
      a.hard(b.is_vacuumcmd === true ? "VACUUM" : "ANALYZE");
      return;
    case "DropStmt":
      a.hard(`DROP ${(str(b.removeType) ?? "").replace("OBJECT_", "").replace(/_/g, " ")}`);
      return;
    case "GrantStmt":
    case "GrantRoleStmt":
      a.hard(b.is_grant === true ? "GRANT" : "REVOKE");
      return;
    default:
      // DDL, DO, CALL, LOCK, CLUSTER, REINDEX, CHECKPOINT, TRUNCATE ... and anything new
      a.hard(commandName(type));
  }
}

function freezeFacts(f: Facts): Facts {
  for (const e of f.effects) Object.freeze(e);
  Object.freeze(f.effects);
  for (const fn of f.functions) Object.freeze(fn);
  Object.freeze(f.functions);
  return Object.freeze(f);
}

function unparsed(hint: RouteHint | undefined, reason: string, transient = false): Facts {
  return freezeFacts({
    parsed: false,
    transient,
    hint,
    statements: 0,
    hardReason: reason,
    softReason: undefined,
    readReason: reason,
    functions: [],
    effects: [],
  });
}

/** Parses `text` (one or more statements) and collects its oracle-independent facts. */
export function analyze(text: string): Facts {
  const hint = leadingHint(text);
  // the server reads a Query message's text up to its first NUL; the parser would too
  if (text.includes("\0")) return unparsed(hint, "statement contains a NUL byte");
  let stmts: readonly unknown[] = [];
  if (text.length > 0) {
    try {
      stmts = list((parse(text) as unknown as Obj).stmts);
    } catch (e) {
      // libpg-query's SqlError is a syntax error in the text; anything else is the parser's
      const syntax = e instanceof Error && e.name === "SqlError";
      return unparsed(hint, `parse error: ${e instanceof Error ? e.message : String(e)}`, !syntax);
    }
  }
  const a = new Analysis(new SourceText(text));
  try {
    for (const raw of stmts) {
      const r = obj(raw);
      const start = num(r?.stmt_location) ?? 0;
      const len = num(r?.stmt_len) ?? 0;
      a.statement(start, len === 0 ? a.src.byteLength : start + len);
      statement(r?.stmt, a);
    }
  } catch (e) {
    // a tree too deep for the walk, or a node shape this code doesn't know: fail closed
    return unparsed(hint, `classifier error: ${e instanceof Error ? e.message : String(e)}`);
  }
  return freezeFacts({
    parsed: true,
    transient: false,
    hint,
    statements: stmts.length,
    hardReason: a.hardReason,
    softReason: a.hardReason === undefined ? a.softReason : undefined,
    readReason: a.readReason ?? "empty query",
    functions: a.hardReason === undefined ? [...a.functions.values()] : [],
    effects: a.effects,
  });
}

import type { NodeFile } from "./schema.js";

/** Where something was written in the topology file (1-based line and column). */
export interface Position {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

/** A secret by reference (`env:NAME` or `file:PATH`); resolved only when needed, never printed. */
export interface SecretRef {
  readonly ref: string;
  readonly at: Position | undefined;
}

export interface MeshNode {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly engine: NodeFile["engine"];
  readonly capacity: number;
  /** dbmesh creates, configures and starts this server on this machine. */
  readonly managed: boolean;
  readonly binaries: string;
  readonly admin: { readonly user: string; readonly password: SecretRef | undefined };
  readonly settings: Readonly<Record<string, string | number | boolean>>;
  /** Set for a physical standby: its upstream and how it replicates. */
  readonly standby: StandbySpec | undefined;
  /** The primary the file declares for this node's replication group (the node itself if none). */
  readonly group: string;
  /** synchronous_standby_names of this node's sync standbys, if it has any. */
  readonly synchronous: { readonly mode: "first" | "any"; readonly count: number };
}

export interface StandbySpec {
  readonly upstream: string;
  readonly sync: boolean;
  /** Physical slot on the upstream, or undefined for none. */
  readonly slot: string | undefined;
  /** Role the standby connects as; resolved by validation. */
  readonly role: string;
  /** Replay lag beyond which doctor fails the standby. */
  readonly maxLag: { readonly bytes: number; readonly seconds: number | undefined };
  /** What `up` does with a standby whose data cannot follow its upstream. */
  readonly onMismatch: "refuse" | "reclone";
}

export interface MeshRouter {
  readonly host: string;
  readonly port: number;
  readonly mode: "transaction" | "session";
  readonly poolSize: number;
  /** Seconds. */
  readonly queueTimeout: number;
  readonly readFromPrimary: boolean;
  /** Seconds. */
  readonly healthInterval: number;
  readonly maxMessage: number;
  /** Seconds. */
  readonly serverIdleTimeout: number;
  readonly maxPreparedStatements: number;
  /** Seconds. */
  readonly messageTimeout: number;
  readonly metrics: { readonly host: string; readonly port: number } | undefined;
  /** Absolute paths of the PEM files. */
  readonly tls: { readonly cert: string; readonly key: string } | undefined;
  /**
   * TLS towards the nodes, as libpq's sslmode; `ca` is the absolute path of the PEM file.
   * https://www.postgresql.org/docs/17/libpq-ssl.html#LIBPQ-SSL-SSLMODE-STATEMENTS
   */
  readonly nodeTls: { readonly mode: NodeTlsMode; readonly ca: string | undefined };
}

export type NodeTlsMode = "disable" | "prefer" | "require" | "verify-ca" | "verify-full";

export interface MeshRole {
  readonly name: string;
  readonly password: SecretRef;
  readonly nodes: readonly string[];
  readonly from: readonly string[];
  readonly createdb: boolean;
  readonly connectionLimit: number;
  readonly replication: boolean;
}

export interface MeshDatabase {
  /** The key in the file. */
  readonly key: string;
  /** The database name on the server. */
  readonly name: string;
  readonly node: string;
  readonly owner: string;
  readonly schemas: readonly string[];
  /** Absolute paths of seed SQL files. */
  readonly seed: readonly string[];
}

export interface Endpoint {
  readonly node: string;
  /** Database name on the server. */
  readonly database: string;
}

export interface RoleMapping {
  readonly local: string;
  readonly remote: string;
}

export interface TableRef {
  readonly schema: string;
  readonly table: string;
}

export interface MeshLink {
  /** Position of the link in `links:` (0-based), for messages. */
  readonly index: number;
  readonly from: Endpoint;
  readonly to: Endpoint;
  readonly via: "dblink" | "postgres_fdw";
  /** Foreign server name on the local end. */
  readonly server: string;
  readonly as: readonly RoleMapping[];
  /** Local role that owns the schemas, foreign tables, views and copies the link creates. */
  readonly owner: string;
  readonly import:
    | {
        readonly schema: string;
        readonly into: string;
        readonly tables: readonly string[] | undefined;
      }
    | undefined;
  readonly views: { readonly into: string; readonly tables: readonly TableRef[] } | undefined;
  readonly copies:
    | { readonly into: string; readonly tables: readonly TableRef[]; readonly refresh: boolean }
    | undefined;
  readonly options: Readonly<Record<string, string | number | boolean>>;
}

export interface Topology {
  /** Absolute path of the topology file. */
  readonly file: string;
  /** Directory that holds local state (data directories, logs, secrets): `.dbmesh/` beside the file. */
  readonly stateDir: string;
  readonly nodes: ReadonlyMap<string, MeshNode>;
  readonly roles: ReadonlyMap<string, MeshRole>;
  readonly databases: readonly MeshDatabase[];
  readonly links: readonly MeshLink[];
  readonly router: MeshRouter | undefined;
  /** Position of a path in the file, e.g. `["links", 0, "to"]`. */
  positionOf(path: readonly (string | number)[]): Position | undefined;
}

export function formatPosition(at: Position | undefined): string {
  return at ? `${at.file}:${at.line}:${at.col}` : "";
}

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

export type Engine = "postgres" | "mariadb";

export interface MeshNode {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** `mysql` in the file is read as `mariadb`: both are spoken to over the MySQL protocol. */
  readonly engine: Engine;
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
  /** Seconds a read-your-writes read waits for standbys' replay positions. */
  readonly replayWait: number;
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
  readonly via: "dblink" | "postgres_fdw" | "mysql_fdw" | "connect_odbc" | "federatedx";
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
        /** mysql_fdw: INSERT, UPDATE and DELETE go through to MariaDB (granted on both ends). */
        readonly writable: boolean;
      }
    | undefined;
  readonly views: { readonly into: string; readonly tables: readonly TableRef[] } | undefined;
  readonly copies:
    | { readonly into: string; readonly tables: readonly TableRef[]; readonly refresh: boolean }
    | undefined;
  readonly options: Readonly<Record<string, string | number | boolean>>;
}

/** Where a sharded table's columns come from. */
export type ColumnSource =
  /** `columns:` in the file, parsed into names and types (names as PostgreSQL folds them). */
  | {
      readonly kind: "columns";
      readonly text: string;
      readonly columns: readonly ColumnDef[];
      /** Table constraints written among the columns (PRIMARY KEY (…), CHECK (…), …), verbatim. */
      readonly constraints: readonly string[];
      /** Read from this existing table on the coordinator (a `table:` source, resolved). */
      readonly from?: TableRef;
    }
  /**
   * An existing table on the coordinator whose columns are read from its catalog (sharding's
   * withTableSources turns it into `columns` with `from`). A reference table's may be its own
   * name: that table is then the source as it is.
   */
  | { readonly kind: "table"; readonly table: TableRef };

export interface ColumnDef {
  readonly name: string;
  /** The rest of the definition: type and column constraints, verbatim (`numeric(10,2) not null`). */
  readonly type: string;
}

/**
 * A range bound as written: a number, or a string the server casts to the key's type
 * (`'2024-01-01'`). `null` is unbounded: MINVALUE as a lower bound, MAXVALUE as an upper one.
 * https://www.postgresql.org/docs/17/sql-createtable.html#SQL-CREATETABLE-PARTITION
 */
export type RangeBound = number | string | null;

/** How a distributed table's key values map to nodes, as declared. */
export type ShardPlacement =
  | {
      readonly kind: "list";
      /** One shard per value; values are literals of the key's type. */
      readonly values: readonly { readonly value: string; readonly node: string }[];
      /** Node of the DEFAULT partition, if any. */
      readonly default: string | undefined;
    }
  | { readonly kind: "hash"; readonly shards: number; readonly nodes: readonly string[] }
  | {
      readonly kind: "range";
      /** Ascending, non-overlapping (validated); `from` filled from the previous `to`. */
      readonly ranges: readonly {
        readonly from: RangeBound;
        readonly to: RangeBound;
        readonly node: string;
      }[];
    };

/** The partition bound of one shard, resolved from the placement (FOR VALUES … / DEFAULT). */
export type ShardBounds =
  | { readonly kind: "list"; readonly values: readonly string[] }
  | { readonly kind: "default" }
  /** FOR VALUES WITH (MODULUS m, REMAINDER r). */
  | { readonly kind: "hash"; readonly modulus: number; readonly remainder: number }
  /** FOR VALUES FROM (from) TO (to): from inclusive, to exclusive. */
  | { readonly kind: "range"; readonly from: RangeBound; readonly to: RangeBound }
  /** A reference table's full copy. */
  | { readonly kind: "copy" };

export interface Shard {
  /** Table name on the shard node (in the parent's schema); the coordinator's partition has it too. */
  readonly name: string;
  readonly node: string;
  /** Database name on the server. */
  readonly database: string;
  readonly bounds: ShardBounds;
  /**
   * The shard is in the coordinator's own database: a plain partition, not a foreign one.
   * A coordinator may hold shards; its other shards are reached through postgres_fdw.
   */
  readonly local: boolean;
}

interface ShardedTableBase {
  /** The key under `sharded:`; follows: names it. */
  readonly name: string;
  /** The parent table on the coordinator (and the shard tables' schema). */
  readonly table: TableRef;
  readonly coordinator: Endpoint;
  readonly source: ColumnSource;
  /** Every shard table, resolved once so later code never re-derives bounds or names. */
  readonly shards: readonly Shard[];
}

/** Rows live on the shard of their key; the coordinator holds the partitioned parent. */
export interface DistributedTable extends ShardedTableBase {
  readonly kind: "distributed";
  /** Partition key column. */
  readonly key: string;
  readonly placement: ShardPlacement;
  /** The id column; `sequence` names a coordinator-side sequence that fills it. */
  readonly id: { readonly column: string; readonly sequence: string | undefined } | undefined;
}

/**
 * Rows live on the shard of the row they reference (`lend` follows `booksample` through
 * `booksample_id`): same coordinator, placement and key as the parent, with shards of its own
 * name. How a row gets its key (the parent's key column, filled from the referenced row) is
 * the provisioning's concern; `key` names the column it partitions by.
 */
export interface FollowingTable extends ShardedTableBase {
  readonly kind: "follows";
  readonly follows: string;
  /** This table's column that holds the referenced row's id. */
  readonly through: string;
  /** The parent's id column `through` references (its id.column, default "id"). */
  readonly references: string;
  readonly key: string;
  readonly placement: ShardPlacement;
  readonly id: { readonly column: string; readonly sequence: string | undefined } | undefined;
}

/**
 * Copied from the coordinator to every shard node of the distributed tables with the same
 * coordinator, so joins with them run on the shards. `shards` lists the copies.
 */
export interface ReferenceTable extends ShardedTableBase {
  readonly kind: "reference";
  /** The role the copies' subscriptions log in to the coordinator as ("" when none fits). */
  readonly replicateAs: string;
}

export type MeshShardedTable = DistributedTable | FollowingTable | ReferenceTable;

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
  /** `sharded:` in file order. */
  readonly sharded: readonly MeshShardedTable[];
  /** Position of a path in the file, e.g. `["links", 0, "to"]`. */
  positionOf(path: readonly (string | number)[]): Position | undefined;
}

export function formatPosition(at: Position | undefined): string {
  return at ? `${at.file}:${at.line}:${at.col}` : "";
}

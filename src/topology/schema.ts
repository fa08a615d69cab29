import { z } from "zod";
import { name } from "./name-schema.js";
import { shardedTableSchema } from "./sharding-schema.js";

// The topology file's contract. Every object is strict: an unknown key is an error.
// Field descriptions are what `dbmesh schema` shows in editors.

export const secretRef = z
  .string()
  .regex(/^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$/, {
    message: "a secret reference: env:VARIABLE or file:PATH",
  })
  .describe("A secret by reference: env:NAME reads an environment variable, file:PATH a file");

const settingValue = z.union([z.string(), z.number(), z.boolean()]);

export const nodeSchema = z
  .strictObject({
    host: z.string().min(1).default("127.0.0.1").describe("Address the server listens on"),
    port: z.number().int().min(1).max(65535).describe("TCP port"),
    engine: z
      .enum(["postgres", "mariadb", "mysql"])
      .default("postgres")
      .describe(
        "Database engine: postgres, or mariadb (mysql is the same: a MariaDB or MySQL server spoken to over the MySQL protocol)",
      ),
    capacity: z
      .number()
      .positive()
      .default(1)
      .describe("Relative read capacity (e.g. CPU count) used for balancing"),
    managed: z
      .boolean()
      .optional()
      .describe(
        "dbmesh creates, configures and starts this server locally (default: true when host is a loopback address)",
      ),
    binaries: z
      .string()
      .min(1)
      .default("embedded")
      .describe(
        "embedded (npm package), system (DBMESH_PG_BIN, pg_config, PATH) or a bin directory",
      ),
    admin: z
      .strictObject({
        user: name.optional().describe("Superuser name (default: postgres, or root on MariaDB)"),
        password: secretRef.optional(),
      })
      .optional()
      .describe(
        "Superuser credentials dbmesh uses; required for unmanaged nodes, generated for managed ones",
      ),
    settings: z
      .record(z.string().regex(/^[a-z_][a-z0-9_.]*$/), settingValue)
      .default({})
      .describe("Extra postgresql.conf settings (managed nodes)"),
    replicaOf: name
      .optional()
      .describe("This node is a physical streaming standby of that node (chains allowed)"),
    sync: z
      .boolean()
      .optional()
      .describe("Standby: takes part in synchronous commit on its upstream"),
    slot: z
      .union([z.boolean(), name])
      .default(true)
      .describe(
        "Standby: a physical replication slot on its upstream (true: named after the node)",
      ),
    maxLag: z
      .strictObject({
        bytes: z.number().int().positive().optional(),
        seconds: z.number().positive().optional(),
      })
      .optional()
      .describe("Standby: doctor fails it beyond this replay lag (default 64 MiB, no time bound)"),
    replicationRole: name
      .optional()
      .describe(
        "Standby: the role it replicates as (default: the one role with replication: true)",
      ),
    onMismatch: z
      .enum(["refuse", "reclone"])
      .default("refuse")
      .describe(
        "Standby: what `up` does when its data cannot follow the declared upstream (another timeline, or WAL the upstream never had): refuse (report it with the fix) or reclone (copy it again from the upstream). A standby that can follow is always repointed.",
      ),
    synchronous: z
      .strictObject({
        mode: z.enum(["first", "any"]).default("first"),
        count: z.number().int().min(1).default(1),
      })
      .optional()
      .describe("Upstream: synchronous_standby_names over its sync standbys (default FIRST 1)"),
  })
  .describe("A database server");

export const roleSchema = z
  .strictObject({
    password: secretRef.describe("Login password, by reference"),
    nodes: z.array(name).min(1).describe("Nodes this role exists on"),
    from: z
      .array(z.string())
      .default(["127.0.0.1"])
      .describe("Client addresses this role logs in from (pg_hba /32 lines)"),
    createdb: z.boolean().default(false),
    replication: z
      .boolean()
      .default(false)
      .describe("May stream WAL (REPLICATION): the role standbys connect as"),
    connectionLimit: z.number().int().min(-1).default(-1),
  })
  .describe("A login role");

export const databaseSchema = z
  .strictObject({
    node: name.describe("Node that holds the database"),
    name: name.optional().describe("Database name on the server (default: this key)"),
    owner: name.describe("Owning role; must be declared on the same node"),
    schemas: z.array(name).default([]).describe("Schemas to create, owned by the owner"),
    seed: z
      .array(z.string().min(1))
      .default([])
      .describe(
        "SQL files (relative to the topology file) run once, as the owner, in one transaction each",
      ),
  })
  .describe("A database on one node");

const qualifiedTable = z
  .string()
  .regex(/^[^.]+\.[^.]+$/, { message: "expected schema.table" })
  .describe("schema.table on the remote database");

export const linkSchema = z
  .strictObject({
    from: z
      .string()
      .regex(/^[^/]+\/[^/]+$/, { message: "expected node/database" })
      .describe("Local end: node/database where the link is created"),
    to: z
      .string()
      .regex(/^[^/]+\/[^/]+$/, { message: "expected node/database" })
      .describe("Remote end: node/database the link reaches"),
    via: z
      .enum(["dblink", "postgres_fdw", "mysql_fdw", "connect_odbc", "federatedx"])
      .describe(
        "Link kind: dblink or postgres_fdw between PostgreSQL databases; mysql_fdw from a PostgreSQL 15 node (system binaries) to a MariaDB database; connect_odbc from a MariaDB database to a PostgreSQL one (CONNECT engine ODBC tables over the psqlODBC driver: Debian mariadb-plugin-connect, odbc-postgresql); federatedx from a MariaDB database to another MariaDB database (FederatedX tables through a CREATE SERVER definition, the MariaDB counterpart of a database link)",
      ),
    name: name.optional().describe("Foreign server name (default: the remote node's name)"),
    as: z
      .record(name, name)
      .refine((m) => Object.keys(m).length > 0, { message: "expected at least one role mapping" })
      .describe("Role mapping local → remote; the first local role owns what the link creates"),
    import: z
      .strictObject({
        schema: name.describe(
          "Remote schema (mysql_fdw, federatedx: the remote MariaDB database; connect_odbc: the PostgreSQL schema)",
        ),
        into: name.describe(
          "Local schema that receives the foreign tables (connect_odbc, federatedx: the local MariaDB database that receives one CONNECT or FederatedX table per remote table; dbmesh creates it)",
        ),
        tables: z.array(name).optional().describe("Only these tables (default: all)"),
        writable: z
          .boolean()
          .default(false)
          .describe(
            "mysql_fdw: mapped roles may INSERT, UPDATE and DELETE through the foreign tables, and the MariaDB users get those grants (default: SELECT only)",
          ),
      })
      .optional()
      .describe(
        "postgres_fdw or mysql_fdw: IMPORT FOREIGN SCHEMA, kept in sync with the remote tables",
      ),
    views: z
      .strictObject({
        into: name.describe("Local schema for the views"),
        tables: z.array(qualifiedTable).min(1),
      })
      .optional()
      .describe("dblink: one typed view per remote table, columns read from the remote catalog"),
    copies: z
      .strictObject({
        into: name.describe("Local schema for the copies"),
        tables: z.array(qualifiedTable).min(1),
        refresh: z.boolean().default(false).describe("Reload the data on every apply"),
      })
      .optional()
      .describe("Remote tables materialized locally: structure, primary key and data"),
    options: z
      .record(z.string().regex(/^[a-z_]+$/), z.union([z.string(), z.number(), z.boolean()]))
      .default({})
      .describe(
        "Foreign server options overriding dbmesh's defaults (connect_odbc: text_length, the varchar length unbounded PostgreSQL text and varchar map to, default 2000)",
      ),
  })
  .describe("A link from one database to another");

const hostPort = z
  .string()
  .refine(
    (s) => {
      const m = /^[^\s:]+:(\d{1,5})$/.exec(s);
      return m !== null && Number(m[1]) >= 1 && Number(m[1]) <= 65535;
    },
    { message: "host:port with a port from 1 to 65535, e.g. 127.0.0.1:6432" },
  )
  .describe("host:port");

export const routerSchema = z
  .strictObject({
    listen: hostPort.describe("Address clients connect to"),
    mode: z
      .enum(["transaction", "session"])
      .default("transaction")
      .describe("Pooling: a server connection per transaction or per client session"),
    poolSize: z
      .number()
      .int()
      .min(1)
      .default(20)
      .describe("Server connections per node, database and role"),
    queueTimeout: z
      .number()
      .positive()
      .default(5)
      .describe("Seconds a client waits for a server connection before an error"),
    readFromPrimary: z
      .boolean()
      .default(false)
      .describe("Send reads to the primary too, weighted by its capacity"),
    healthInterval: z
      .number()
      .positive()
      .default(1)
      .describe("Seconds between health checks of each node"),
    replayWait: z
      .number()
      .min(0)
      .default(0.1)
      .describe(
        "Seconds a read after a session's write may wait while standbys are asked whether they have replayed it (read-your-writes); past it the read goes to the primary",
      ),
    maxMessage: z
      .number()
      .int()
      .min(1024)
      .default(64 * 1024 * 1024)
      .describe("Largest client message in bytes; larger ones close that client"),
    serverIdleTimeout: z
      .number()
      .positive()
      .default(300)
      .describe("Seconds an unused server connection stays open"),
    maxPreparedStatements: z
      .number()
      .int()
      .min(1)
      .default(200)
      .describe("Named statements kept prepared per server connection (least recently used go)"),
    messageTimeout: z
      .number()
      .positive()
      .default(60)
      .describe("Seconds a client may leave a message half sent before it is closed (08P01)"),
    metrics: hostPort.optional().describe("Address of the Prometheus metrics endpoint"),
    tls: z
      .strictObject({
        cert: z.string().min(1).describe("PEM certificate file (relative to the topology file)"),
        key: z.string().min(1).describe("PEM private key file"),
      })
      .optional()
      .describe("TLS towards clients"),
    nodeTls: z
      .strictObject({
        mode: z
          .enum(["disable", "prefer", "require", "verify-ca", "verify-full"])
          .describe(
            "As libpq's sslmode: disable (plain), prefer (TLS when the node accepts it), require (TLS, no verification), verify-ca (the node's certificate is signed by ca), verify-full (and names the node's host)",
          ),
        ca: z
          .string()
          .min(1)
          .optional()
          .describe(
            "PEM file of the CA certificates that sign the nodes' certificates (relative to the topology file); required for verify-ca and verify-full",
          ),
      })
      .refine((t) => t.ca !== undefined || !t.mode.startsWith("verify-"), {
        message: "ca: FILE, the CA certificates verify-ca and verify-full check the nodes against",
      })
      .refine((t) => t.ca === undefined || t.mode.startsWith("verify-"), {
        message:
          "mode: verify-ca or verify-full with ca (libpq's require with a CA file verifies too; say which)",
      })
      .optional()
      .describe(
        "TLS towards the nodes, for server connections, health checks and the catalog loader (default: disable)",
      ),
  })
  .describe("The wire-protocol router (dbmesh serve)");

export const topologySchema = z
  .strictObject({
    version: z.literal(1).describe("File format version"),
    nodes: z.record(name, nodeSchema).describe("Servers by name"),
    roles: z.record(name, roleSchema).default({}),
    databases: z.record(name, databaseSchema).default({}),
    links: z.array(linkSchema).default([]),
    sharded: z
      .record(name, shardedTableSchema)
      .default({})
      .describe(
        "Tables whose rows live on the server of their key, queried through a coordinator (postgres_fdw foreign partitions); the key is the table's name on the coordinator unless name: says otherwise",
      ),
    router: routerSchema.optional(),
  })
  .describe("dbmesh topology");

export type TopologyInput = z.input<typeof topologySchema>;
export type TopologyFile = z.output<typeof topologySchema>;
export type NodeFile = z.output<typeof nodeSchema>;
export type RoleFile = z.output<typeof roleSchema>;
export type DatabaseFile = z.output<typeof databaseSchema>;
export type LinkFile = z.output<typeof linkSchema>;
export type RouterFile = z.output<typeof routerSchema>;

export function jsonSchema(): unknown {
  return z.toJSONSchema(topologySchema, { io: "input", target: "draft-2020-12" });
}

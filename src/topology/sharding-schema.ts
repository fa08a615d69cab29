import { z } from "zod";
import { name } from "./name-schema.js";

// One entry of `sharded:`. It is one strict object whose keys are all optional, not a union
// of three shapes: a zod union reports "no variant matched" without a position, while one
// object reports an unknown key where it was written with a did-you-mean, and the
// combinations (exactly one of list/hash/range, follows without coordinator, …) are checked
// by validate-sharding.ts with the position of the offending key and a hint.

/** A range bound: numbers compare as numbers, strings (dates, text) as the key's type. */
const rangeBound = z.union([z.number(), z.string()]);

export const shardedTableSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[^.]+(\.[^.]+)?$/, { message: "expected table or schema.table" })
      .optional()
      .describe("Table on the coordinator, table or schema.table (default: public.<this key>)"),
    coordinator: z
      .string()
      .regex(/^[^/]+\/[^/]+$/, { message: "expected node/database" })
      .optional()
      .describe(
        "node/database that holds the partitioned parent clients query; a following table takes its parent's",
      ),
    key: name
      .optional()
      .describe(
        "Partition key column (exact name; unquoted names in columns: are lower-cased as PostgreSQL does)",
      ),
    columns: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Column definitions as in CREATE TABLE, e.g. "id bigint, location text, price numeric(10,2)"',
      ),
    table: z
      .string()
      .regex(/^[^.]+(\.[^.]+)?$/, { message: "expected table or schema.table" })
      .optional()
      .describe(
        "Take the columns from this existing table on the coordinator (instead of columns:)",
      ),
    list: z
      .record(z.string(), name)
      .refine((m) => Object.keys(m).length > 0, { message: "expected at least one key value" })
      .optional()
      .describe(
        "Placement by list: key value → node; one shard per value (values are literals of the key's type)",
      ),
    default: name
      .optional()
      .describe("Node of the default shard: rows whose key is in no list value (list only)"),
    hash: z
      .strictObject({
        shards: z
          .number()
          .int()
          .min(1, { message: "at least 1 shard: the number of hash partitions" })
          .describe("Number of hash partitions (modulus)"),
        nodes: z
          .array(name)
          .min(1)
          .describe("Nodes the shards are placed on, round-robin (shard i on nodes[i mod n])"),
      })
      .optional()
      .describe("Placement by hash of the key: N shards spread over nodes"),
    range: z
      .array(
        z
          .strictObject({
            from: rangeBound
              .optional()
              .describe(
                "Inclusive lower bound (default: the previous range's to, or MINVALUE for the first)",
              ),
            to: rangeBound
              .optional()
              .describe(
                "Exclusive upper bound (default: MAXVALUE; only the last range may omit it)",
              ),
            node: name.describe("Node that holds this range"),
          })
          .describe("One range shard"),
      )
      .min(1)
      .optional()
      .describe("Placement by range of the key, in ascending order, without overlap"),
    database: name
      .optional()
      .describe(
        "Database on the shard nodes, by key or name under databases: (default: the coordinator's database name)",
      ),
    id: z
      .strictObject({
        column: name.describe("The id column"),
        sequence: z
          .boolean()
          .default(true)
          .describe(
            "A sequence on the coordinator fills the column, so ids are unique across shards",
          ),
      })
      .optional()
      .describe(
        "The table's id column; following tables reference it through their through: column",
      ),
    follows: name
      .optional()
      .describe("Rows live on the shard of the row they reference in this distributed table"),
    through: name
      .optional()
      .describe("Following table: its column that references the followed table's id column"),
    replicateAs: name
      .optional()
      .describe(
        "Reference table: the role with replication: true on the coordinator that the shard nodes' subscriptions log in as (default: the one such role there)",
      ),
    reference: z
      .boolean()
      .optional()
      .describe(
        "A reference table: copied from the coordinator to every shard node of its distributed tables, for shard-local joins",
      ),
  })
  .describe(
    "A table sharded by a key (coordinator, key, one of list/hash/range), following another (follows, through), or a reference table (reference: true)",
  );

export type ShardedTableFile = z.output<typeof shardedTableSchema>;

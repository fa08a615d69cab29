export { withCurrentPrimaries } from "./current-primaries.js";
export { isLoopback, loadTopology, parseTopology } from "./load.js";
export type {
  ColumnDef,
  ColumnSource,
  DistributedTable,
  Endpoint,
  Engine,
  FollowingTable,
  MeshDatabase,
  MeshLink,
  MeshNode,
  MeshRole,
  MeshRouter,
  MeshShardedTable,
  NodeTlsMode,
  Position,
  RangeBound,
  ReferenceTable,
  RoleMapping,
  SecretRef,
  Shard,
  ShardBounds,
  ShardPlacement,
  TableRef,
  Topology,
} from "./model.js";
export { formatPosition } from "./model.js";
export { type Placed, placeShard } from "./place-shard.js";
export { jsonSchema } from "./schema.js";
export { resolveSecret, secretValue } from "./secrets.js";
export { formatIssue, TopologyError, type TopologyIssue } from "./topology-error.js";
export { primaryOf } from "./validate-replication.js";

export {
  type DoneLocally,
  explainPlan,
  type PartitionScan,
  type PlanContext,
  type PlanReport,
  type Pushed,
  type RemotePart,
  type RemoteRelation,
  relationsOf,
} from "./explain-plan.js";
export { type ObservedSharding, observeSharding } from "./observe-sharding.js";
export {
  type ForeignTableRow,
  foreignTablesSql,
  type PartitionRow,
  partitionsSql,
} from "./plan-catalog.js";
export {
  isBuildableReference,
  planReferenceCopies,
  planReferenceSource,
  publishesReferences,
} from "./plan-reference.js";
export {
  boundsProbes,
  coordinatorSettings,
  isShardingCoordinator,
  observesSharding,
  planCoordinator,
  planShardTables,
  type ShardGroup,
  type ShardLayout,
  type ShardServer,
  serverTarget,
  shardGroup,
  shardHandle,
  shardingExtensions,
  shardingSchemas,
  shardLayouts,
  shardServerName,
  shardServers,
  unsupportedSharding,
} from "./plan-sharding.js";
export { type MoveResult, moveShard } from "./shard-move.js";
export { type ShardStatus, shardStatus } from "./shard-status.js";
export { shardCheck } from "./sharding-sql.js";

export { ownerOf } from "./database-owner.js";
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
export { coordinatorSettings, planCoordinator } from "./plan-coordinator.js";
export {
  isBuildableReference,
  planReferenceCopies,
  planReferenceSource,
  publishesReferences,
} from "./plan-reference.js";
export {
  isShardingCoordinator,
  observesSharding,
  shardingExtensions,
  shardingSchemas,
  unsupportedSharding,
} from "./plan-sharding.js";
export { boundsProbes, planShardTables } from "./plan-shards.js";
export {
  type ShardGroup,
  type ShardLayout,
  shardGroup,
  shardHandle,
  shardLayouts,
  shardServerName,
} from "./shaped.js";
export { type MoveResult, moveShard } from "./shard-move.js";
export { type ShardServer, serverTarget, shardServers } from "./shard-servers.js";
export { type ShardStatus, shardStatus } from "./shard-status.js";
export { shardCheck } from "./sharding-sql.js";
export { withTableSources } from "./table-sources.js";

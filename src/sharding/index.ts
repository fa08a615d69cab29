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
  coordinatorSettings,
  isShardingCoordinator,
  planCoordinator,
  planShardTables,
  shardingExtensions,
  shardingSchemas,
  shardServers,
  unsupportedSharding,
} from "./plan-sharding.js";

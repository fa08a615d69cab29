export {
  Connections,
  type ConnectTarget,
  connectAs,
  type RawResult,
  type Session,
} from "./connections.js";
export * from "./database-sql.js";
export { mappingChange, type PlannedSql, serverChanges } from "./fdw-plan.js";
export * from "./fdw-sql.js";
export * from "./introspect.js";
export {
  isManaged,
  isShardingObject,
  managedMarker,
  seedsSetting,
  shardingMarker,
} from "./marker.js";
export {
  isPgAdminError,
  PgAdminError,
  type PgAdminErrorKind,
  statementError,
} from "./pgadmin-error.js";
export {
  conninfoValue,
  hbaToken,
  ident,
  literal,
  passfileEntry,
  qualified,
} from "./quote.js";
export * from "./relation-sql.js";
export { createPhysicalSlot, dropInactiveSlot, promote } from "./replication-sql.js";
export {
  observeReplication,
  type ReplicationState,
  type SlotState,
  type StandbyState,
} from "./replication-state.js";
export * from "./role-sql.js";
export { scramMatches, scramVerifier } from "./scram.js";
export type { HbaLine, NodePlan, Phase, Plan, Problem, Step } from "./step.js";
export { quietLogging, stepCount } from "./step.js";
export { divergence, lsnBytes, parseHistory, type TimelinePosition } from "./timeline.js";

export type { BackupProgress } from "./backup-stream.js";
export {
  ReplicationConnection,
  type ReplicationTarget,
  type SystemIdentity,
} from "./replication-connection.js";
export {
  isReplicationError,
  ReplicationError,
  type ReplicationErrorKind,
} from "./replication-error.js";
export { replicationHbaLine } from "./server-error.js";
export { standbySettings, writeStandbyConfig } from "./standby-config.js";
export {
  type BaseBackupOptions,
  type BaseBackupResult,
  takeBaseBackup,
} from "./take-base-backup.js";

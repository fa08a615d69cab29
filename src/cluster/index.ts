export { adminPassword } from "./admin-password.js";
export { type BinariesChoice, findBinaries, type PgBinaries } from "./binaries.js";
export { ClusterError, type ClusterErrorKind, isClusterError } from "./cluster-error.js";
export { quoteConfValue, readHba, renderConf, writeConfig } from "./config-file.js";
export { ensureDir } from "./ensure-dir.js";
export { type HbaLine, renderHba } from "./hba-file.js";
export { type InitResult, initNode } from "./init.js";
export type { LocalNode } from "./local-node.js";
export { hasData, type NodePaths, nodePaths, socketDirFor } from "./paths.js";
export { portBindError } from "./port-free.js";
export {
  type NodeProcess,
  nodeProcess,
  purgeNode,
  reloadNode,
  startNode,
  stopNode,
} from "./process.js";
export { type RewindSource, rewindNode } from "./rewind.js";
export { runCommand } from "./run-command.js";
export { prepareLogFile, prepareSocketDir } from "./server-dirs.js";
export { ensureServerUser, type ServerUser } from "./server-user.js";
export { dataSystemId } from "./system-id.js";
export { tailFile, tailLog } from "./tail-log.js";
export { assertTraversable } from "./traversable.js";
export { writeFileAtomic } from "./write-file-atomic.js";

export { adminPassword } from "./admin-password.js";
export { type BinariesChoice, findBinaries, type PgBinaries } from "./binaries.js";
export { ClusterError, type ClusterErrorKind, isClusterError } from "./cluster-error.js";
export { quoteConfValue, readHba, renderConf, writeConfig } from "./config-file.js";
export { type HbaLine, renderHba } from "./hba-file.js";
export { type InitResult, initNode } from "./init.js";
export type { LocalNode } from "./local-node.js";
export { hasData, type NodePaths, nodePaths } from "./paths.js";
export {
  type NodeProcess,
  nodeProcess,
  purgeNode,
  reloadNode,
  startNode,
  stopNode,
} from "./process.js";
export { type RewindSource, rewindNode } from "./rewind.js";
export { ensureServerUser, type ServerUser } from "./server-user.js";
export { dataSystemId } from "./system-id.js";
export { tailLog } from "./tail-log.js";
export { writeFileAtomic } from "./write-file-atomic.js";

export type { HbaLine, NodePlan, Phase, Plan, Problem, Step } from "../pgadmin/index.js";
export { stepCount } from "../pgadmin/index.js";
export { type ApplyResult, applyMesh, type StepEvent } from "./apply.js";
export { clientAddress, hbaRules } from "./hba-rules.js";
export { type ConfigFiles, type MeshAccess, maintenanceDb } from "./mesh-access.js";
export { type MeshState, type NodeState, observeMesh } from "./observe.js";
export { makePlan } from "./plan.js";
export { formatPlan, planJson } from "./print-plan.js";
export {
  passfileLine,
  primaryConninfo,
  replicationSettings,
  standbysOf,
} from "./replication-config.js";

export type { CheckResult } from "./check.js";
export { firstMatch, type HbaRule } from "./hba-match.js";
export { probeRouter, type RouterPool, type RouterProbe } from "./router-console.js";
export { runDoctor } from "./run-doctor.js";

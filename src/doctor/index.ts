export type { CheckResult } from "./check.js";
export { firstMatch, type HbaRule } from "./hba-match.js";
export { runDoctor } from "./run-doctor.js";

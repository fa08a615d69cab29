// The router's statement classifier: route (primary or standby) and session/transaction
// effects of a statement string, from PostgreSQL's own grammar, cached by text.
export type { FunctionName } from "./analyze.js";
export {
  type CheckedFunction,
  type Classification,
  Classifier,
  type ClassifierOptions,
  createClassifier,
  wantsPrimary,
} from "./classifier.js";
export {
  describeEffect,
  type Effect,
  type RouteEffect,
  type RouteSetting,
  type SetEffect,
  type TransactionMode,
} from "./effect.js";
export type { RouteHint } from "./hint.js";
export { loadParser, parserReplacements } from "./parser.js";
export {
  type OracleOptions,
  oracleFromRows,
  type ProcVolatilityRow,
  unknownVolatility,
  VOLATILITY_SQL,
  type Volatility,
  type VolatilityOracle,
} from "./volatility.js";

export { type AdminView, adminAnswer } from "./admin-console.js";
export {
  ClassifierRouting,
  type ClassifierRoutingOptions,
  classifierRouting,
} from "./classifier-routing.js";
export { type RouterError, routerErrors } from "./errors.js";
export { HealthChecker, type NodeHealth } from "./health.js";
export {
  MetricsListenError,
  type MetricsServer,
  type MetricsView,
  renderMetrics,
  startMetrics,
} from "./metrics.js";
export {
  type NodeReport,
  type Routing,
  type RoutingHost,
  readWriteSplit,
  type StatementClassifier,
} from "./route.js";
export { Router, type RouterOptions } from "./router.js";
export {
  ADMIN_DATABASE,
  type RoutedDatabase,
  type RoutedNode,
  type RoutedRole,
  type RouterConfig,
  routerConfig,
} from "./router-config.js";
export {
  type NodeHealthReport,
  type NodeHealthSource,
  type Route,
  RouterStats,
} from "./stats.js";

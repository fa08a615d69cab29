export { type AdminView, adminAnswer } from "./admin-console.js";
export { type RouterError, routerErrors } from "./errors.js";
export {
  type RouteRequest,
  type Routing,
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

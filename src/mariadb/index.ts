// MariaDB (and MySQL) nodes: the local server's lifecycle, admin sessions over the MySQL
// protocol, introspection, and the statements apply runs. Quoting lives in quote.ts only.
export * from "./admin-sql.js";
export { findMariadb, type MariadbBinaries } from "./binaries.js";
export {
  CONNECT_PACKAGE,
  CONNECT_SONAME,
  type ConnectColumn,
  type ConnectSource,
  createConnectTable,
  createServer,
  dropConnectTable,
  FEDERATEDX_SONAME,
  grantSelectOnTable,
  installSoname,
  type ServerSpec,
} from "./connect-sql.js";
export {
  connectMariadb,
  MariadbConnections,
  type MariadbResult,
  type MariadbSession,
  type MariadbTarget,
} from "./connections.js";
export { type DbPrivilege, grantPrivileges, revokePrivileges } from "./grant-sql.js";
export {
  accountKey,
  grantOn,
  type ObservedAccount,
  type ObservedDbGrant,
  type ObservedMariadb,
  type ObservedMariadbDatabase,
  observeMariadb,
} from "./introspect.js";
export {
  initMariadb,
  type MariadbProcess,
  mariadbProcess,
  purgeMariadb,
  startMariadb,
  stopMariadb,
} from "./lifecycle.js";
export {
  hasMariadbData,
  type LocalMariadb,
  type MariadbPaths,
  mariadbPaths,
} from "./local-node.js";
export {
  isMariadbError,
  MariadbError,
  type MariadbErrorKind,
} from "./mariadb-error.js";
export {
  type ConnectPlugin,
  type ObservedConnect,
  type ObservedConnectTable,
  observeConnect,
} from "./observe-connect.js";
export {
  account,
  accountHost,
  accountHostAdmits,
  grantDatabase,
  ident,
  literal,
  maskPasswords,
  nativePasswordHash,
  qualified,
} from "./quote.js";
export { type MariadbColumn, type MariadbTable, readMariadbTables } from "./tables.js";

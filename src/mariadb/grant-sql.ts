import { account, grantDatabase } from "./quote.js";

// Database-level privileges a link's MariaDB user gets: least privilege, on one database, for
// one account (user@the linking node's address). https://mariadb.com/kb/en/grant/#database-privileges

export type DbPrivilege = "SELECT" | "INSERT" | "UPDATE" | "DELETE";

export function grantPrivileges(
  database: string,
  privileges: readonly DbPrivilege[],
  user: string,
  host: string,
): string {
  return `GRANT ${privileges.join(", ")} ON ${grantDatabase(database)}.* TO ${account(user, host)}`;
}

export function revokePrivileges(
  database: string,
  privileges: readonly DbPrivilege[],
  user: string,
  host: string,
): string {
  return `REVOKE ${privileges.join(", ")} ON ${grantDatabase(database)}.* FROM ${account(user, host)}`;
}

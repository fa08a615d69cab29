import type { BinariesChoice } from "./binaries.js";
import type { HbaLine } from "./hba-file.js";

export interface LocalNode {
  name: string;
  /** listen_addresses value, e.g. "127.0.0.1". */
  host: string;
  port: number;
  /** Absolute directory for this node: holds data/, postgres.log, admin.secret and the socket dir. */
  stateDir: string;
  binaries: BinariesChoice;
  /** Superuser created by initdb, e.g. "postgres". */
  adminUser: string;
  /**
   * Its password when the file declares one (shared by the hosts of a replication group);
   * otherwise one is generated into stateDir/admin.secret.
   */
  adminPassword?: string | undefined;
  /** Extra postgresql.conf settings. */
  settings: Readonly<Record<string, string | number | boolean>>;
  hba: readonly HbaLine[];
}

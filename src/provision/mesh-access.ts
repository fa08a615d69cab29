import type { MariadbConnections } from "../mariadb/index.js";
import type { Connections, HbaLine } from "../pgadmin/index.js";
import type { Topology } from "../topology/index.js";

/** The configuration files of a managed node, read and written by the cluster layer. */
export interface ConfigFiles {
  /**
   * Each file dbmesh writes (pg_hba.conf, its postgresql.conf include, a standby's password
   * file) as it is and as it should be; `secret` files are never shown.
   */
  compare(
    node: string,
    hba: readonly HbaLine[],
  ): Promise<{ file: string; have: string | null; want: string; secret?: boolean }[]>;
  /** Writes them; the caller reloads the server. */
  write(node: string, hba: readonly HbaLine[]): Promise<void>;
}

/** What provisioning needs from the outside: the file, admin connections, configuration files. */
export interface MeshAccess {
  readonly topology: Topology;
  readonly connections: Connections;
  /** Admin sessions to the MariaDB nodes (engine: mariadb); needed when the file has any. */
  readonly mariadb?: MariadbConnections;
  readonly config: ConfigFiles | undefined;
  /** Drop what dbmesh created and the file no longer declares. */
  readonly prune: boolean;
  /** Nodes left out of this plan (standbys that `up` builds after the first apply). */
  readonly skip?: ReadonlySet<string>;
}

export const maintenanceDb = "postgres";

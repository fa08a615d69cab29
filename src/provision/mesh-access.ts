import { dirname } from "node:path";
import type { Connections } from "../pgadmin/index.js";
import { resolveSecret, type SecretRef, type Topology } from "../topology/index.js";
import type { HbaLine } from "./step.js";

/** The configuration files of a managed node, read and written by the cluster layer. */
export interface ConfigFiles {
  /** Each file dbmesh writes (pg_hba.conf, its postgresql.conf include) as it is and as it should be. */
  compare(
    node: string,
    hba: readonly HbaLine[],
  ): Promise<{ file: string; have: string | null; want: string }[]>;
  /** Writes them; the caller reloads the server. */
  write(node: string, hba: readonly HbaLine[]): Promise<void>;
}

/** What provisioning needs from the outside: the file, admin connections, configuration files. */
export interface MeshAccess {
  readonly topology: Topology;
  readonly connections: Connections;
  readonly config: ConfigFiles | undefined;
  /** Drop what dbmesh created and the file no longer declares. */
  readonly prune: boolean;
}

export const maintenanceDb = "postgres";

export function secret(t: Topology, ref: SecretRef): string {
  return resolveSecret(ref, dirname(t.file));
}

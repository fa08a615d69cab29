import { dirname } from "node:path";
import type { Connections } from "../pgadmin/index.js";
import { resolveSecret, type SecretRef, type Topology } from "../topology/index.js";
import type { HbaLine } from "./step.js";

/** pg_hba.conf of managed nodes, read and written by whoever runs them (the cluster layer). */
export interface HbaFiles {
  read(node: string): Promise<string | null>;
  render(lines: readonly HbaLine[]): string;
  /** Writes the file; the caller reloads the server. */
  write(node: string, lines: readonly HbaLine[]): Promise<void>;
}

/** What provisioning needs from the outside: the file, admin connections, secrets, hba files. */
export interface MeshAccess {
  readonly topology: Topology;
  readonly connections: Connections;
  readonly hba: HbaFiles | undefined;
  /** Drop what dbmesh created and the file no longer declares. */
  readonly prune: boolean;
}

export const maintenanceDb = "postgres";

export function secret(t: Topology, ref: SecretRef): string {
  return resolveSecret(ref, dirname(t.file));
}

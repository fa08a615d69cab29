import { join } from "node:path";
import type { HbaLine, LocalNode } from "../cluster/index.js";

/** Admin access over loopback TCP and the local socket, password-authenticated. */
export const ADMIN_HBA: readonly HbaLine[] = [
  { type: "local", database: "all", user: "postgres", method: "scram-sha-256" },
  {
    type: "host",
    database: "all",
    user: "postgres",
    address: "127.0.0.1/32",
    method: "scram-sha-256",
  },
];

/** A LocalNode on 127.0.0.1 with embedded binaries, admin user "postgres", state in dir/name. */
export function testNode(
  dir: string,
  name: string,
  port: number,
  overrides: Partial<LocalNode> = {},
): LocalNode {
  return {
    name,
    host: "127.0.0.1",
    port,
    stateDir: join(dir, name),
    binaries: "embedded",
    adminUser: "postgres",
    settings: {},
    hba: ADMIN_HBA,
    ...overrides,
  };
}

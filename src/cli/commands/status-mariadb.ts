import {
  type MariadbConnections,
  mariadbProcess,
  observeMariadb,
  SYSTEM_DATABASE,
} from "../../mariadb/index.js";
import type { MeshNode, Topology } from "../../topology/index.js";
import { localMariadb } from "../mesh.js";
import type { NodeStatus } from "./status.js";

/** A MariaDB node's line of `dbmesh status`: up or down, version, declared databases. */
export async function mariadbNodeStatus(
  t: Topology,
  n: MeshNode,
  conns: MariadbConnections,
): Promise<NodeStatus> {
  const proc = n.managed ? await mariadbProcess(localMariadb(t, n)) : undefined;
  const declared = t.databases.filter((d) => d.node === n.name);
  const base = {
    node: n.name,
    managed: n.managed,
    address: `${n.host}:${n.port}`,
    pid: proc?.pid ?? null,
    replication: null,
  };
  try {
    const o = await observeMariadb(await conns.session(n.name, SYSTEM_DATABASE));
    return {
      ...base,
      state: "up",
      version: `MariaDB ${o.version}`,
      databases: declared.map((d) => ({ name: d.name, present: o.databases.has(d.name) })),
      error: null,
    };
  } catch (e) {
    return {
      ...base,
      state: "down",
      version: null,
      databases: declared.map((d) => ({ name: d.name, present: false })),
      error: (e as Error).message,
    };
  }
}

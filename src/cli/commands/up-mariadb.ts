import { isClusterError } from "../../cluster/index.js";
import {
  findMariadb,
  initMariadb,
  purgeMariadb,
  startMariadb,
  stopMariadb,
} from "../../mariadb/index.js";
import type { MeshNode, Topology } from "../../topology/index.js";
import { localMariadb } from "../mesh.js";

/** `up` for a MariaDB node: initialise on first use, then start; one line of outcome. */
export async function startMariadbNode(
  t: Topology,
  n: MeshNode,
): Promise<{ ok: boolean; created: boolean; text: string }> {
  try {
    const bins = await findMariadb();
    const local = localMariadb(t, n);
    const { created } = await initMariadb(local);
    const { started } = await startMariadb(local);
    const what = `${created ? "initialised, " : ""}${started ? "started" : "already running"}`;
    return {
      ok: true,
      created: false,
      text: `${n.name}: MariaDB ${bins.version} (system) ${what} on ${n.host}:${n.port}`,
    };
  } catch (e) {
    if (!isClusterError(e)) throw e;
    return {
      ok: false,
      created: false,
      text: `${n.name}: FAILED ${e.message}${e.detail ? `\n${e.detail}` : ""}`,
    };
  }
}

/** `down` for a MariaDB node: stop it, or with --purge stop it and delete its data. */
export async function stopMariadbNode(t: Topology, n: MeshNode, purge: boolean): Promise<string> {
  const local = localMariadb(t, n);
  if (purge) {
    await purgeMariadb(local);
    return `${n.name}: stopped and data removed`;
  }
  const { stopped } = await stopMariadb(local);
  return `${n.name}: ${stopped ? "stopped" : "not running"}`;
}

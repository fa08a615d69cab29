import { Socket } from "node:net";
import type { MeshNode } from "../topology/index.js";
import { type CheckResult, fail, pass, timed } from "./check.js";

/** A TCP connection to the node's declared host and port. */
export async function checkReachable(node: MeshNode, timeoutMs = 3000): Promise<CheckResult> {
  const at = `${node.host}:${node.port}`;
  try {
    const [, ms] = await timed(() => tcpConnect(node.host, node.port, timeoutMs));
    return pass("reachable", node.name, `TCP ${at} accepts connections`, ms);
  } catch (e) {
    const code = (e as { code?: string }).code ?? (e as Error).message;
    return fail(
      "reachable",
      node.name,
      `TCP ${at}: ${code}`,
      code === "ECONNREFUSED" ? `nothing listens on ${at}` : `no answer from ${at}`,
      node.managed
        ? `start it with \`dbmesh up --node ${node.name}\` (log: .dbmesh/${node.name}/${node.engine === "mariadb" ? "mariadb" : "postgres"}.log)`
        : `start the server or fix nodes.${node.name}.host/port; check firewalls between here and ${at}`,
    );
  }
}

/** Resolves when something accepts TCP connections at host:port. */
export function tcpConnect(host: string, port: number, timeoutMs = 3000): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = new Socket();
    const done = (e?: Error) => {
      s.destroy();
      e ? reject(e) : resolve();
    };
    s.setTimeout(timeoutMs, () => done(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })));
    s.once("error", done);
    s.connect(port, host, () => done());
  });
}

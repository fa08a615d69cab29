import { mkdir } from "node:fs/promises";
import { ensureServerUser, nodePaths, startNode, writeConfig } from "../../cluster/index.js";
import { passfileLine } from "../../provision/index.js";
import { type BackupProgress, takeBaseBackup } from "../../replication/index.js";
import { type MeshNode, secretValue, type Topology } from "../../topology/index.js";
import { localNode, passfilePath, writeServerFile } from "../mesh.js";

/**
 * Creates a standby's data directory from its upstream with a base backup over the
 * replication protocol, writes its own configuration and password file, and starts it.
 */
export async function createStandby(
  t: Topology,
  n: MeshNode,
  progress: (line: string) => void,
): Promise<string> {
  const sb = n.standby!;
  const upstream = t.nodes.get(sb.upstream)!;
  const role = t.roles.get(sb.role)!;
  const password = secretValue(t, role.password);
  const ln = localNode(t, n);
  const user = await ensureServerUser();
  await mkdir(ln.stateDir, { recursive: true, mode: 0o755 });
  await writeServerFile(passfilePath(t, n), passfileLine(upstream, role.name, password));
  let last = Date.now();
  const result = await takeBaseBackup({
    source: {
      node: upstream.name,
      host: upstream.host,
      port: upstream.port,
      user: role.name,
      password,
      application_name: n.name,
    },
    dataDir: nodePaths(ln).dataDir,
    owner: user ?? undefined,
    slot: sb.slot,
    label: `dbmesh ${n.name}`,
    onProgress: (p: BackupProgress) => {
      const now = Date.now();
      if (now - last < 1000) return;
      last = now;
      progress(
        `${n.name}: base backup from ${upstream.name}: ${mb(p.doneBytes)}${p.totalBytes ? ` of ${mb(p.totalBytes)}` : ""} at ${mb(p.bytesPerSecond)}/s`,
      );
    },
  });
  await writeConfig(ln);
  await startNode(ln);
  return `${n.name}: standby of ${upstream.name} created from a ${mb(result.bytes)} base backup (${result.files} files, manifest verified, ${Math.round(result.ms)} ms), started on ${n.host}:${n.port}`;
}

function mb(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

import { type MeshFixture, meshFixture } from "./mesh-fixture.js";

/**
 * The meshes the sharding tests run on: a coordinator `coord` and the shard nodes named, each
 * with a database `library` owned by `lib` (password in LIB_PASSWORD), any extra `roles:` lines,
 * and the `sharded:` entries given (indented as under `sharded:`). Started with `dbmesh up`,
 * which must succeed. Its ports are coord's, then the shard nodes' in order.
 */
export async function libraryMesh(opts: {
  name: string;
  shards: readonly string[];
  sharded: string;
  roles?: string;
  env: Record<string, string>;
}): Promise<MeshFixture> {
  const nodes = ["coord", ...opts.shards];
  const m = await meshFixture({
    name: opts.name,
    ports: nodes.length,
    env: opts.env,
    yaml: (ports) => `version: 1
nodes:
${nodes.map((n, i) => `  ${n}: { port: ${ports[i]} }`).join("\n")}
roles:
  lib: { password: env:LIB_PASSWORD, nodes: [${nodes.join(", ")}], from: [127.0.0.1] }
${opts.roles ?? ""}databases:
  library: { node: coord, owner: lib }
${opts.shards.map((n) => `  library_${n}: { node: ${n}, name: library, owner: lib }`).join("\n")}
sharded:
${opts.sharded}`,
  });
  const up = await m.run("up");
  if (up.code !== 0) {
    await m.destroy();
    throw new Error(`dbmesh up failed:\n${up.stdout}${up.stderr}`);
  }
  return m;
}

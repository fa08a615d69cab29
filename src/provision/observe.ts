import {
  isPgAdminError,
  type ObservedDatabaseContent,
  type ObservedServer,
  observeDatabase,
  observeServer,
  PgAdminError,
} from "../pgadmin/index.js";
import {
  boundsProbes,
  type ObservedSharding,
  observeSharding,
  observesSharding,
  shardingSchemas,
} from "../sharding/index.js";
import { type Topology, TopologyError } from "../topology/index.js";
import { type MeshAccess, maintenanceDb } from "./mesh-access.js";

export interface NodeState {
  readonly server: ObservedServer | undefined;
  /** Why the node could not be read. */
  readonly error: PgAdminError | undefined;
  /** Content of each declared database that exists. */
  readonly databases: Map<string, ObservedDatabaseContent>;
  /** Sequences and settings of each database that coordinates sharded tables. */
  readonly sharding?: Map<string, ObservedSharding>;
}

export type MeshState = Map<string, NodeState>;

/** Schemas whose relations matter in each database: link targets on both ends. */
export function schemasOfInterest(t: Topology): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const add = (node: string, db: string, schema: string) => {
    const key = `${node}/${db}`;
    const set = out.get(key) ?? new Set<string>();
    set.add(schema);
    out.set(key, set);
  };
  for (const l of t.links) {
    const local = (s: string) => add(l.from.node, l.from.database, s);
    const remote = (s: string) => add(l.to.node, l.to.database, s);
    if (l.import) {
      local(l.import.into);
      remote(l.import.schema);
    }
    if (l.views) {
      local(l.views.into);
      for (const v of l.views.tables) remote(v.schema);
    }
    if (l.copies) {
      local(l.copies.into);
      for (const c of l.copies.tables) remote(c.schema);
    }
  }
  for (const [where, schema] of shardingSchemas(t)) {
    const [node = "", db = ""] = where.split("/");
    add(node, db, schema);
  }
  return out;
}

/** Reads every node (in parallel) and each of its declared databases that exists. */
export async function observeMesh(
  access: MeshAccess,
  nodes?: readonly string[],
): Promise<MeshState> {
  const t = access.topology;
  const schemas = schemasOfInterest(t);
  // MariaDB nodes are read by observeMariadbMesh.
  const names = (nodes ?? [...t.nodes.keys()]).filter(
    (n) => !access.skip?.has(n) && t.nodes.get(n)?.engine !== "mariadb",
  );
  const entries = await Promise.all(
    names.map(async (name): Promise<[string, NodeState]> => {
      const databases = new Map<string, ObservedDatabaseContent>();
      const sharding = new Map<string, ObservedSharding>();
      try {
        // The server's catalog and each declared database are read at once: one connect and
        // one query deep per node instead of two. A database that does not exist yet fails its
        // connect with 3D000 and is left out.
        const reads = t.databases
          .filter((d) => d.node === name)
          .map((d) => {
            const wanted = [...(schemas.get(`${name}/${d.name}`) ?? [])];
            const read = access.connections
              .session(name, d.name)
              .then(async (s) => ({
                content: await observeDatabase(s, wanted),
                sharding: observesSharding(t, name, d.name)
                  ? await observeSharding(s, boundsProbes(t, name, d.name))
                  : undefined,
              }))
              .then(
                (r) => ({ ...r, error: undefined }),
                (error: unknown) => ({ content: undefined, sharding: undefined, error }),
              );
            return { name: d.name, read };
          });
        const server = await observeServer(await access.connections.session(name, maintenanceDb));
        for (const { name: db, read } of reads) {
          const r = await read;
          if (!server.databases.has(db)) continue;
          if (r.error) throw r.error;
          if (r.content) databases.set(db, r.content);
          if (r.sharding) sharding.set(db, r.sharding);
        }
        return [name, { server, error: undefined, databases, sharding }];
      } catch (e) {
        // A bad secret reference is the file's fault, reported with its position (exit 2).
        if (e instanceof TopologyError) throw e;
        const error = isPgAdminError(e)
          ? e
          : new PgAdminError("sql", name, `node ${name}: ${(e as Error).message}`, "see above", {
              cause: e,
            });
        await access.connections.drop(name, maintenanceDb);
        return [name, { server: undefined, error, databases, sharding }];
      }
    }),
  );
  return new Map(entries);
}

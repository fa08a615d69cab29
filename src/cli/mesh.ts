import { readFileSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import {
  adminPassword,
  ensureServerUser,
  hasData,
  type LocalNode,
  nodePaths,
  readHba,
  renderConf,
  renderHba,
  writeConfig,
  writeFileAtomic,
} from "../cluster/index.js";
import { hasMariadbData, type LocalMariadb, MariadbConnections } from "../mariadb/index.js";
import { Connections, PgAdminError } from "../pgadmin/index.js";
import {
  type ConfigFiles,
  type HbaLine,
  hbaRules,
  type MeshAccess,
  passfileLine,
  replicationSettings,
} from "../provision/index.js";
import { publishesReferences } from "../sharding/index.js";
import {
  loadTopology,
  type MeshNode,
  secretValue,
  type Topology,
  withCurrentPrimaries,
} from "../topology/index.js";
import { type Args, UsageError } from "./args.js";

/** The topology file: -f FILE, else $DBMESH_FILE, else ./dbmesh.yaml. */
export function topologyPath(args: Args): string {
  return resolve(args.file ?? process.env.DBMESH_FILE ?? "dbmesh.yaml");
}

export function loadFromArgs(args: Args): Topology {
  return effectiveTopology(loadTopology(topologyPath(args)));
}

/** The file plus the promotions recorded in .dbmesh/primaries.json. */
export function effectiveTopology(t: Topology): Topology {
  return withCurrentPrimaries(t, readPrimaries(t));
}

/** Where promotions are recorded: .dbmesh/primaries.json. */
export function primariesFile(t: Topology): string {
  return join(t.stateDir, "primaries.json");
}

/** Replication group (its declared primary) → the node that is its primary now. */
export function readPrimaries(t: Topology): Record<string, string> {
  try {
    return JSON.parse(readFileSync(primariesFile(t), "utf8")) as Record<string, string>;
  } catch {
    return {};
  }
}

/** Back to the roles the file declares (the demo's reset). */
export async function forgetPromotions(t: Topology): Promise<void> {
  await rm(primariesFile(t), { force: true });
}

export async function recordPrimary(t: Topology, group: string, primary: string): Promise<void> {
  const all = { ...readPrimaries(t), [group]: primary };
  if (primary === group) delete all[group];
  await mkdir(t.stateDir, { recursive: true, mode: 0o755 });
  await writeFile(primariesFile(t), `${JSON.stringify(all, null, 2)}\n`);
}

/** How the cluster layer sees a managed node: its state directory and generated pg_hba. */
export function localNode(t: Topology, node: MeshNode): LocalNode {
  return {
    name: node.name,
    host: node.host,
    port: node.port,
    stateDir: join(t.stateDir, node.name),
    binaries: node.binaries,
    adminUser: node.admin.user,
    adminPassword: declaredAdminPassword(t, node),
    settings: {
      // Reference tables are copied by logical replication from the node that holds them.
      ...(publishesReferences(t, node.name) ? { wal_level: "logical" } : {}),
      ...replicationSettings(
        t,
        node,
        passfilePath(t, node),
        (sb) => !sb.managed || isCreated(t, sb),
      ),
      ...node.settings,
    },
    hba: hbaRules(t, node.name),
  };
}

/** A managed node whose data directory exists on this host. */
function isCreated(t: Topology, node: MeshNode): boolean {
  return hasData({ stateDir: join(t.stateDir, node.name) });
}

/** The libpq password file a standby's walreceiver reads (owned by the server user, 0600). */
export function passfilePath(t: Topology, node: MeshNode): string {
  return join(t.stateDir, node.name, "replication.pgpass");
}

/**
 * The admin password the file declares for a node's replication group (on its declared
 * primary, or on the node itself): what every host of the group must share.
 */
function declaredAdminPassword(t: Topology, node: MeshNode): string | undefined {
  const ref = t.nodes.get(node.group)?.admin.password ?? node.admin.password;
  return ref && secretValue(t, ref);
}

/** Admin credentials: declared in the file, or generated for managed nodes. */
export async function adminCredentials(
  t: Topology,
  node: MeshNode,
): Promise<{ user: string; password: string }> {
  const declared = declaredAdminPassword(t, node);
  if (declared !== undefined) return { user: node.admin.user, password: declared };
  if (node.engine === "mariadb") {
    const local = localMariadb(t, node);
    if (!hasMariadbData(local)) {
      throw new PgAdminError(
        "unreachable",
        node.name,
        `MariaDB node ${node.name} has not been created yet`,
        `run \`dbmesh up\` (or \`dbmesh up --node ${node.name}\` on its host)`,
      );
    }
    return { user: node.admin.user, password: await adminPassword(local) };
  }
  const local = localNode(t, node);
  if (!hasData(local)) {
    throw new PgAdminError(
      "unreachable",
      node.name,
      `node ${node.name} has not been created yet`,
      `run \`dbmesh up\` (or \`dbmesh up --node ${node.name}\` on its host)`,
    );
  }
  // Every node of a replication group is a copy of its declared primary: same superuser, same
  // password, kept in that primary's state directory.
  const primary = t.nodes.get(node.group) ?? node;
  return { user: node.admin.user, password: await adminPassword(localNode(t, primary)) };
}

/** How the mariadb layer sees a managed MariaDB node: its state directory and admin account. */
export function localMariadb(t: Topology, node: MeshNode): LocalMariadb {
  return {
    name: node.name,
    host: node.host,
    port: node.port,
    stateDir: join(t.stateDir, node.name),
    adminUser: node.admin.user,
    adminPassword: declaredAdminPassword(t, node),
  };
}

/** Where and as whom to connect to node `name` as its admin, on either engine. */
async function adminTarget<D extends string | undefined>(t: Topology, name: string, database: D) {
  const node = t.nodes.get(name);
  if (!node) throw new UsageError(`unknown node ${name}`);
  const { user, password } = await adminCredentials(t, node);
  return { node: name, host: node.host, port: node.port, database, user, password };
}

/**
 * Admin connections for a command: PostgreSQL nodes through Connections, MariaDB nodes through
 * `mariadb`; closeAll closes both.
 */
export class MeshConnections extends Connections {
  readonly mariadb: MariadbConnections;

  constructor(t: Topology) {
    super((name, database) => adminTarget(t, name, database));
    this.mariadb = new MariadbConnections((name, database) => adminTarget(t, name, database));
  }

  override async closeAll(): Promise<void> {
    await Promise.all([super.closeAll(), this.mariadb.closeAll()]);
  }
}

export function connectionsFor(t: Topology): MeshConnections {
  return new MeshConnections(t);
}

/** The pg_hba.conf and postgresql.conf include dbmesh writes for managed nodes. */
function configFiles(t: Topology): ConfigFiles {
  const local = (name: string, hba: readonly HbaLine[]) => ({
    ...localNode(t, t.nodes.get(name)!),
    hba,
  });
  const read = (file: string) => readFile(file, "utf8").catch(() => null);
  return {
    compare: async (name, hba) => {
      const node = local(name, hba);
      const files: Awaited<ReturnType<ConfigFiles["compare"]>> = [
        { file: "pg_hba.conf", have: await readHba(node), want: renderHba(hba) },
        { file: "dbmesh.conf", have: await read(nodePaths(node).confFile), want: renderConf(node) },
      ];
      const pass = standbyPassfile(t, t.nodes.get(name)!);
      if (pass) files.push({ ...pass, have: await read(pass.path), secret: true });
      return files;
    },
    write: async (name, hba) => {
      await writeConfig(local(name, hba));
      const pass = standbyPassfile(t, t.nodes.get(name)!);
      if (pass) await writeServerFile(pass.path, pass.want);
    },
  };
}

/** A standby's password file: where it is and what it should hold. */
function standbyPassfile(t: Topology, node: MeshNode) {
  const sb = node.standby;
  const upstream = sb && t.nodes.get(sb.upstream);
  const role = sb && t.roles.get(sb.role);
  if (!upstream || !role) return undefined;
  const path = passfilePath(t, node);
  return {
    file: "replication.pgpass",
    path,
    want: passfileLine(upstream, role.name, secretValue(t, role.password)),
  };
}

/** A file only the server user may read (mode 0600, owned by it when dbmesh runs as root). */
export async function writeServerFile(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  await writeFileAtomic(path, text, { mode: 0o600, owner: await ensureServerUser() });
}

export function meshAccess(t: Topology, prune: boolean): MeshAccess {
  const connections = connectionsFor(t);
  return {
    topology: t,
    connections,
    mariadb: connections.mariadb,
    config: configFiles(t),
    prune,
  };
}

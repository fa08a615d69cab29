import type { Topology } from "../topology/index.js";

/** The declared owner of database `db` on `node`: whom its sharded tables belong to. */
export function ownerOf(t: Topology, node: string, db: string): string | undefined {
  return t.databases.find((d) => d.node === node && d.name === db)?.owner;
}

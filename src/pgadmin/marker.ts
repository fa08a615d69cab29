// Objects dbmesh creates carry a comment starting with this marker, so `--prune` drops only
// what dbmesh made. Objects that existed before the file declared them are used, never marked.

export const managedMarker = "managed by dbmesh";

export function isManaged(comment: string | null | undefined): boolean {
  return comment?.startsWith(managedMarker) ?? false;
}

/** The database setting that records the seed files already run in a database. */
export const seedsSetting = "dbmesh.seeds";

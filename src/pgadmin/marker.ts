// Objects dbmesh creates carry a comment starting with this marker, so `--prune` drops only
// what dbmesh made. Objects that existed before the file declared them are used, never marked.

export const managedMarker = "managed by dbmesh";

export function isManaged(comment: string | null | undefined): boolean {
  return comment?.startsWith(managedMarker) ?? false;
}

/**
 * What sharding makes (shard tables, parents, partitions, reference tables and their copies)
 * says so in its marker: `--prune` of links leaves it alone, as its rows are users' data.
 */
export const shardingMarker = `${managedMarker} (sharding)`;

export function isShardingObject(comment: string | null | undefined): boolean {
  return comment?.startsWith(shardingMarker) ?? false;
}

/** The database setting that records the seed files already run in a database. */
export const seedsSetting = "dbmesh.seeds";

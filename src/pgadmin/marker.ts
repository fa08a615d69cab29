// Objects dbmesh creates carry a comment starting with this marker, so `--prune` drops only
// what dbmesh made. A database's comment also lists the seed files already run in it.

export const managedMarker = "managed by dbmesh";

export function isManaged(comment: string | null | undefined): boolean {
  return comment?.startsWith(managedMarker) ?? false;
}

export function databaseComment(seeds: readonly string[]): string {
  return seeds.length ? `${managedMarker}; seeds: ${JSON.stringify(seeds)}` : managedMarker;
}

/** Seed files recorded as run in a database comment. */
export function seedsRun(comment: string | null | undefined): string[] {
  const m = comment?.match(/; seeds: (\[.*\])$/);
  if (!m) return [];
  try {
    const v: unknown = JSON.parse(m[1]!);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
  } catch {
    return [];
  }
}

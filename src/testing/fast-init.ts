/**
 * Integration tests that initialise nodes must call this (or set DBMESH_FAST_INIT=1) before
 * initNode: initdb then runs with --no-sync, skipping fsync of the new cluster's files, which
 * saves time on disks with slow fsync. Never set it for real data.
 */
export function enableFastInit(): void {
  process.env.DBMESH_FAST_INIT = "1";
}

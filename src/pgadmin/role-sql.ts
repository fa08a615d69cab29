import { managedMarker } from "./marker.js";
import { ident, literal } from "./quote.js";
import { scramVerifier } from "./scram.js";

export interface RoleSpec {
  name: string;
  password: string;
  createdb: boolean;
  connectionLimit: number;
  replication: boolean;
}

/** The password is sent as a SCRAM verifier computed here, never as plaintext. */
export function createRole(r: RoleSpec): string {
  return `CREATE ROLE ${ident(r.name)} ${roleOptions(r)} PASSWORD ${literal(scramVerifier(r.password))}`;
}

export function alterRole(r: RoleSpec, password: boolean): string {
  const pw = password ? ` PASSWORD ${literal(scramVerifier(r.password))}` : "";
  return `ALTER ROLE ${ident(r.name)} ${roleOptions(r)}${pw}`;
}

export function commentOnRole(name: string): string {
  return `COMMENT ON ROLE ${ident(name)} IS ${literal(managedMarker)}`;
}

export function dropRole(name: string): string {
  return `DROP ROLE IF EXISTS ${ident(name)}`;
}

function roleOptions(r: RoleSpec): string {
  const createdb = r.createdb ? "CREATEDB" : "NOCREATEDB";
  const replication = r.replication ? "REPLICATION" : "NOREPLICATION";
  return `LOGIN ${createdb} ${replication} NOSUPERUSER NOCREATEROLE CONNECTION LIMIT ${r.connectionLimit}`;
}

/** Statements shown to users: SCRAM verifiers and passwords replaced by a mask. */
export function maskSecrets(sql: string): string {
  return sql
    .replace(/'SCRAM-SHA-256\$[^']*'/g, "'********'")
    .replace(/(\bpassword"?\s+)(E?'(?:[^']|'')*')/gi, "$1'********'");
}

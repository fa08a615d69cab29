import { readFileSync } from "node:fs";
import { relative } from "node:path";
import type { Step } from "../pgadmin/index.js";
import {
  createSchema,
  type ObservedDatabaseContent,
  type ObservedServer,
  recordSeeds,
  setRole,
} from "../pgadmin/index.js";
import type { MeshDatabase } from "../topology/index.js";
import type { MeshAccess } from "./mesh-access.js";

export const emptyDatabase: ObservedDatabaseContent = {
  schemas: new Map(),
  extensions: new Set(),
  servers: new Map(),
  relations: new Map(),
};

/** Phase 2 for one database: its schemas and seed files. */
export function planDatabase(
  access: MeshAccess,
  db: MeshDatabase,
  server: ObservedServer | undefined,
  content: ObservedDatabaseContent | undefined,
): Step[] {
  const steps: Step[] = [];
  const have = content ?? emptyDatabase;
  const step = (summary: string, sql: string[], display?: string[]) =>
    steps.push({
      node: db.node,
      database: db.name,
      phase: 2,
      summary,
      sql,
      display,
      transaction: true,
      shapesTables: true,
    });
  for (const schema of db.schemas) {
    if (!have.schemas.has(schema))
      step(`create schema ${schema}`, [createSchema(schema, db.owner)]);
  }
  const done = server?.databases.get(db.name)?.seeds ?? [];
  const base = access.topology.file.replace(/[^/]+$/, "");
  const recorded = [...done];
  for (const file of db.seed) {
    const name = relative(base, file);
    if (done.includes(name)) continue;
    recorded.push(name);
    const sql = [
      setRole(db.owner),
      readFileSync(file, "utf8"),
      "RESET ROLE",
      recordSeeds(db.name, recorded),
    ];
    step(`run seed ${name} as ${db.owner}`, sql, [
      sql[0]!,
      `-- the statements of ${name}`,
      sql[2]!,
      sql[3]!,
    ]);
  }
  return steps;
}

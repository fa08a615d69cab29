import type pg from "pg";
import { createServer, createUserMapping, ident, literal } from "../src/pgadmin/index.js";
import {
  COLUMNS,
  client,
  close,
  DB,
  KEYS,
  mesh,
  PASSWORD_ENV,
  PLACEMENT,
  ROLE,
  SHARD_NODES,
  TUTORIAL,
} from "./sharding-mesh.js";

// The tutorial's routing the sharding benchmark compares dbmesh with, built by hand.

export const tutorialChild = (key: string) => `${TUTORIAL}_${key}`;
const tutorialServer = (node: string) => `tutorial_${node}`;

/**
 * The tutorial's routing, built by hand on the same coordinator and shard nodes: a plain table
 * per key on its shard node (no CHECK there, as in the tutorial), and on the coordinator one
 * untuned postgres_fdw server per shard node (host, port, dbname only), the parent, one
 * foreign child per key that INHERITS it with CHECK (location = key), and the BEFORE INSERT
 * row trigger that inserts NEW into the child of its location and returns NULL.
 */
export async function buildTutorial(coordAdmin: pg.Client, coordApp: pg.Client): Promise<void> {
  const t = mesh.topology!;
  for (const n of SHARD_NODES) {
    const c = await client(n, "app");
    try {
      for (const [k, node] of PLACEMENT)
        if (node === n) await c.query(`CREATE TABLE ${ident(tutorialChild(k))} (${COLUMNS})`);
    } finally {
      await close(c);
    }
    const node = t.nodes.get(n)!;
    const server = tutorialServer(n);
    await coordAdmin.query(
      createServer(server, "postgres_fdw", {
        host: node.host,
        port: String(node.port),
        dbname: DB,
      }),
    );
    await coordAdmin.query(
      createUserMapping(ROLE, server, { user: ROLE, password: process.env[PASSWORD_ENV]! }),
    );
    await coordAdmin.query(`ALTER SERVER ${ident(server)} OWNER TO ${ident(ROLE)}`);
  }
  await coordApp.query(`CREATE TABLE ${ident(TUTORIAL)} (${COLUMNS})`);
  for (const [k, n] of PLACEMENT)
    await coordApp.query(
      `CREATE FOREIGN TABLE ${ident(tutorialChild(k))} (CHECK (location = ${literal(k)})) INHERITS (${ident(TUTORIAL)}) SERVER ${ident(tutorialServer(n))}`,
    );
  const branches = KEYS.map(
    (k, i) =>
      `${i === 0 ? "IF" : "ELSIF"} new.location = ${literal(k)} THEN\n    INSERT INTO ${ident(tutorialChild(k))} VALUES (new.*);`,
  ).join("\n  ");
  const fn = ident(`${TUTORIAL}_trigger_fn`);
  await coordApp.query(
    `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger AS $tutorial$
BEGIN
  ${branches}
  END IF;
  RETURN NULL;
END
$tutorial$ LANGUAGE plpgsql`,
  );
  await coordApp.query(
    `CREATE TRIGGER ${ident(`${TUTORIAL}_trigger`)} BEFORE INSERT ON ${ident(TUTORIAL)} FOR EACH ROW EXECUTE PROCEDURE ${fn}()`,
  );
}

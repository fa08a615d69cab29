import pg from "pg";
import { ident, literal } from "../src/pgadmin/index.js";
import { textRows } from "../src/testing/index.js";
import type { Topology } from "../src/topology/index.js";
import {
  BenchFailure,
  checkInterrupt,
  median,
  ms,
  out,
  perSec,
  round,
  table,
  timed,
} from "./harness.js";
import {
  BATCH,
  COLUMN_NAMES,
  expected,
  INSERT_ROUNDS,
  KEYS,
  PLACEMENT,
  ROWS,
  row,
  SHARD_NODES,
  shardsOf,
  TABLE,
  TUTORIAL,
} from "./sharding-mesh.js";
import { tutorialChild } from "./sharding-tutorial.js";

// Part 1 of the sharding benchmark: the same rows inserted through the coordinator into
// dbmesh's sharded table and into the tutorial's trigger-routed parent, by multi-row INSERT
// and by COPY, each run counted on the shard nodes.

export type Target = "dbmesh" | "tutorial";
type InsertPath = "insert" | "copy";
const targetTable = (t: Target) => (t === "dbmesh" ? TABLE : TUTORIAL);
/** Shard table of `key` for `target`, and its node. */
export type ShardTables = (target: Target, key: string) => { table: string; node: string };

/** The statements, built once: multi-row INSERTs with parameters, and COPY text. */
interface Payload {
  batches: (string | boolean | number)[][];
  copyChunks: Buffer[];
}

function payload(n: number): Payload {
  const batches: (string | boolean | number)[][] = [];
  let params: (string | boolean | number)[] = [];
  const copy: string[] = [];
  let chunk = "";
  const copyChunks: Buffer[] = [];
  for (let i = 1; i <= n; i++) {
    const r = row(i);
    params.push(r.id, r.state, r.lendable, r.location, r.book_id);
    if (params.length === BATCH * 5) {
      batches.push(params);
      params = [];
    }
    chunk += `${r.id}\t${r.state}\t${r.lendable ? "t" : "f"}\t${r.location}\t${r.book_id}\n`;
    // A CopyData message per ~64 kB, as client libraries stream it.
    if (chunk.length >= 65_536) {
      copy.push(chunk);
      chunk = "";
    }
  }
  if (params.length) batches.push(params);
  if (chunk) copy.push(chunk);
  for (const c of copy) copyChunks.push(Buffer.from(c));
  return { batches, copyChunks };
}

function insertSql(table: string, rowsInBatch: number): string {
  const values: string[] = [];
  for (let r = 0; r < rowsInBatch; r++)
    values.push(`(${COLUMN_NAMES.map((_, c) => `$${r * 5 + c + 1}`).join(", ")})`);
  return `INSERT INTO ${ident(table)} (${COLUMN_NAMES.map(ident).join(", ")}) VALUES ${values.join(", ")}`;
}

/** pg.Query's hooks for the CopyIn sub-protocol (pg-copy-streams uses the same ones). */
interface CopyConnection {
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
}

/** COPY … FROM STDIN fed from `chunks`: a Query that answers CopyInResponse with the data. */
function copyIn(c: pg.Client, sql: string, chunks: readonly Buffer[]): Promise<number> {
  return new Promise((resolve, reject) => {
    class CopyIn extends pg.Query {
      handleCopyInResponse(connection: CopyConnection): void {
        for (const chunk of chunks) connection.sendCopyFromChunk(chunk);
        connection.endCopyFrom();
      }
    }
    const q = new CopyIn(sql, undefined, (err: Error | undefined, res: pg.QueryResult) =>
      err ? reject(err) : resolve(res.rowCount ?? 0),
    );
    void c.query(q as unknown as pg.QueryConfig);
  });
}

async function insertAll(
  c: pg.Client,
  target: Target,
  path: InsertPath,
  p: Payload,
): Promise<number> {
  const table = targetTable(target);
  if (path === "copy")
    return copyIn(
      c,
      `COPY ${ident(table)} (${COLUMN_NAMES.map(ident).join(", ")}) FROM STDIN`,
      p.copyChunks,
    );
  let done = 0;
  const full = insertSql(table, BATCH);
  for (const params of p.batches) {
    checkInterrupt();
    const n = params.length / 5;
    const r = await c.query(n === BATCH ? full : insertSql(table, n), params);
    done += r.rowCount ?? 0;
  }
  return done;
}

/** Counts on each shard node, queried there directly; a wrong count is a failure. */
export async function verifyShards(
  shardAdmins: Map<string, pg.Client>,
  coordAdmin: pg.Client,
  target: Target,
  tables: ShardTables,
  n: number,
  what: string,
): Promise<{ node: string; rows: number }[]> {
  const want = expected(n);
  const problems: string[] = [];
  const perNode = new Map<string, number>(SHARD_NODES.map((x) => [x, 0]));
  for (const k of KEYS) {
    const { table: tbl, node } = tables(target, k);
    const [[count, ids, strays]] = (await textRows(
      shardAdmins.get(node)!,
      `SELECT count(*), coalesce(sum(id), 0), count(*) FILTER (WHERE location IS DISTINCT FROM ${literal(k)}) FROM ${ident(tbl)}`,
    )) as [[string, string, string]];
    const e = want.get(k)!;
    if (Number(count) !== e.count || BigInt(ids) !== e.ids || strays !== "0")
      problems.push(
        `  ${node} ${tbl}: ${count} rows (sum(id) ${ids}, ${strays} of another key), expected ${e.count} (sum(id) ${e.ids})`,
      );
    perNode.set(node, perNode.get(node)! + Number(count));
  }
  if (target === "tutorial") {
    const [[parent]] = (await textRows(
      coordAdmin,
      `SELECT count(*) FROM ONLY ${ident(TUTORIAL)}`,
    )) as [[string]];
    if (parent !== "0")
      problems.push(`  coord ${TUTORIAL} (the parent itself): ${parent} rows, expected 0`);
  }
  if (problems.length)
    throw new BenchFailure(`${what}: wrong rows on the shard nodes:\n${problems.join("\n")}`);
  return [...perNode].map(([node, r]) => ({ node, rows: r }));
}

async function truncateShards(
  shardAdmins: Map<string, pg.Client>,
  target: Target,
  tables: ShardTables,
): Promise<void> {
  for (const k of KEYS) {
    const { table: tbl, node } = tables(target, k);
    await shardAdmins.get(node)!.query(`TRUNCATE ${ident(tbl)}`);
  }
}

/** Shard table of each key for both targets: dbmesh's shards (checked against PLACEMENT), the tutorial's children. */
export function shardTables(t: Topology): ShardTables {
  const shards = shardsOf(t);
  return (target, key) =>
    target === "dbmesh"
      ? { table: shards.get(key)!.name, node: shards.get(key)!.node }
      : {
          table: tutorialChild(key),
          node: PLACEMENT.find(([k]) => k === key)![1],
        };
}

/** The insert part: both targets and both paths, alternated, every run verified on the shards. */
export async function measureInserts(
  coordAdmin: pg.Client,
  coordApp: pg.Client,
  shardAdmins: Map<string, pg.Client>,
  tables: ShardTables,
) {
  out(
    `\n1. Inserting ${ROWS.toLocaleString("en-US")} rows through the coordinator (${INSERT_ROUNDS} round${INSERT_ROUNDS > 1 ? "s" : ""}; every run verified on the shard nodes)`,
  );
  out(
    `   insert: multi-row INSERT … VALUES with parameters, ${BATCH} rows a statement, each its own transaction`,
  );
  out("   copy:   one COPY … FROM STDIN (text format) of all rows, CopyData per ~64 kB");
  out(
    "   the tutorial's trigger runs one INSERT per row into a foreign child: a remote round trip per row, which batch_size cannot batch (it batches within one statement)",
  );
  const p = payload(ROWS);
  const paths: InsertPath[] = ["insert", "copy"];
  const targets: Target[] = ["dbmesh", "tutorial"];
  const insertMs = new Map<string, number[]>();
  const errors = new Map<string, string>();
  const perNode = new Map<string, { node: string; rows: number }[]>();
  // One unmeasured warm-up batch each, so both paths start with open shard connections.
  for (const target of targets) {
    await insertAll(coordApp, target, "insert", payload(Math.min(ROWS, BATCH)));
    await truncateShards(shardAdmins, target, tables);
  }
  for (let round = 0; round < INSERT_ROUNDS; round++) {
    for (const path of paths) {
      // Alternate which goes first, so drift in the machine's load does not favour one.
      const order = round % 2 ? [...targets].reverse() : targets;
      for (const target of order) {
        checkInterrupt();
        const key = `${target} ${path}`;
        const run = await timed(() => insertAll(coordApp, target, path, p)).catch(
          (e: Error & { code?: string }) => {
            errors.set(key, `${e.code ?? ""} ${e.message}`.trim());
            return undefined;
          },
        );
        if (!run) {
          out(`   ${key}: failed: ${errors.get(key)}`);
          await truncateShards(shardAdmins, target, tables);
          continue;
        }
        // The tutorial's trigger returns NULL, so its statements report 0 rows (INSERT 0 0):
        // the rows are counted on the shard nodes below either way.
        const reported = target === "tutorial" ? 0 : ROWS;
        if (run.value !== reported)
          throw new BenchFailure(
            `${key}: the statements reported ${run.value} rows, not ${reported}`,
          );
        perNode.set(
          key,
          await verifyShards(
            shardAdmins,
            coordAdmin,
            target,
            tables,
            ROWS,
            `${key} (run ${round + 1})`,
          ),
        );
        const list = insertMs.get(key) ?? [];
        list.push(run.ms);
        insertMs.set(key, list);
        out(
          `   ${key.padEnd(16)} ${ms(run.ms).padStart(7)} ms  ${perSec((ROWS * 1000) / run.ms).padStart(9)} rows/s   rows on s1/s2/s3: ${perNode
            .get(key)!
            .map((x) => x.rows)
            .join("/")} ✓`,
        );
        await truncateShards(shardAdmins, target, tables);
      }
    }
  }
  const rate = (key: string) => {
    const xs = insertMs.get(key);
    return xs ? (ROWS * 1000) / median(xs) : undefined;
  };
  const insertRows: string[][] = [["", "dbmesh rows/s", "tutorial rows/s", "dbmesh / tutorial"]];
  const insertRatios: Record<string, number | undefined> = {};
  for (const path of paths) {
    const d = rate(`dbmesh ${path}`);
    const tu = rate(`tutorial ${path}`);
    insertRatios[path] = d && tu ? d / tu : undefined;
    insertRows.push([
      path === "insert" ? `multi-row INSERT (${BATCH} rows)` : "COPY FROM STDIN",
      d ? perSec(d) : "failed",
      tu ? perSec(tu) : "failed",
      d && tu ? `${(d / tu).toFixed(1)}×` : "",
    ]);
  }
  out(`\n${table(insertRows)}`);
  const bestInsert = Math.max(...Object.values(insertRatios).map((x) => x ?? 0));
  out(
    `   aim: dbmesh ≥ 5× the tutorial's rows/s — ${paths
      .map(
        (x) =>
          `${x}: ${insertRatios[x] ? `${insertRatios[x]!.toFixed(1)}× ${insertRatios[x]! >= 5 ? "met" : "NOT met"}` : "n/a"}`,
      )
      .join(", ")}`,
  );
  return {
    inserts: Object.fromEntries(
      paths.flatMap((path) =>
        targets.map((target) => {
          const key = `${target} ${path}`;
          const xs = insertMs.get(key);
          return [
            key,
            xs
              ? {
                  medianMs: round(median(xs)),
                  rowsPerSecond: Math.round(rate(key)!),
                  samplesMs: xs.map(round),
                  rowsPerNode: perNode.get(key),
                }
              : { error: errors.get(key) },
          ];
        }),
      ),
    ),
    insertRatios: Object.fromEntries(
      Object.entries(insertRatios).map(([k, v]) => [k, v === undefined ? null : round(v)]),
    ),
    insertAimMet: bestInsert >= 5,
  };
}

import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { stopNode } from "../../cluster/index.js";
import { connectAs } from "../../pgadmin/index.js";
import { loadTopology, secretValue, type Topology } from "../../topology/index.js";
import type { Args } from "../args.js";
import { effectiveTopology, localNode, meshAccess } from "../mesh.js";
import type { Output } from "../output.js";
import { demoPasswords, runQuery } from "./demo.js";
import { explainCommand } from "./explain.js";
import { bringUp } from "./up-down.js";

const libraryFile = fileURLToPath(
  new URL("../../../../examples/library/dbmesh.yaml", import.meta.url),
);

/** The demo's rows, inserted through the coordinator (ids 1-4 from its sequence). */
export const libraryInserts = [
  `INSERT INTO books VALUES (101, 'Les Misérables', 'Victor Hugo'), (102, 'Nana', 'Émile Zola'),
  (201, 'Things Fall Apart', 'Chinua Achebe'), (202, 'Purple Hibiscus', 'Chimamanda Ngozi Adichie')`,
  "INSERT INTO students VALUES (7, 'Amina'), (8, 'Louis'), (9, 'Ngozi')",
  `INSERT INTO booksample (state, lendable, location, book_id) VALUES
  ('new', true, 'paris', 101), ('used', true, 'paris', 102),
  ('new', true, 'lagos', 201), ('worn', false, 'lagos', 202)
  RETURNING id, location, book_id`,
  "INSERT INTO lend (student_id, booksample_id) VALUES (7, 1), (8, 3), (9, 4) RETURNING student_id, booksample_id, location",
];

/** On a shard node: its booksamples and lends joined with the local copies of the reference tables. */
export const shardLocalJoin = (node: string) =>
  `SELECT s.id, b.title, st.name AS lent_to FROM public.booksample_${node} s JOIN public.books b ON b.id = s.book_id LEFT JOIN public.lend_${node} l ON l.booksample_id = s.id LEFT JOIN public.students st ON st.id = l.student_id ORDER BY s.id`;

/** A key-filtered query: the plan touches the paris shard only. */
export const keyFilteredQuery = "SELECT count(*) FROM booksample WHERE location = 'paris'";

/** Waits (up to 5 s) until a shard node's copies hold the rows just written on the coordinator. */
async function waitForCopies(t: Topology, node: string): Promise<void> {
  const n = t.nodes.get(node)!;
  const role = t.roles.get("librarian")!;
  const client = await connectAs({
    node,
    host: n.host,
    port: n.port,
    database: "library",
    user: role.name,
    password: secretValue(t, role.password),
  });
  try {
    for (let i = 0; i < 50; i++) {
      const r = await client.query(
        "SELECT (SELECT count(*) FROM public.books) + (SELECT count(*) FROM public.students) AS n",
      );
      if (Number(r.rows[0].n) >= 7) return;
      await sleep(100);
    }
  } finally {
    await client.end();
  }
}

/**
 * Workflow 7: a coordinator and two shard nodes built by `up`; rows inserted through the
 * coordinator (lend rows with only booksample_id), then read on each shard node directly to
 * show where they landed, an aggregate through the coordinator, and the plan of a key-filtered
 * query touching one shard.
 */
export async function libraryDemo(args: Args, out: Output): Promise<number> {
  const t = effectiveTopology(loadTopology(libraryFile));
  demoPasswords(t);
  out.line(`\ntopology: ${t.file}`);
  out.line(
    "\n== up: the coordinator `library` and the shard nodes paris and lagos; apply builds the shard tables and the coordinator's partitioned parents",
  );
  let code = 0;
  const access = meshAccess(t, false);
  const coordinator = { node: "library", role: "librarian", database: "library" };
  try {
    code = await bringUp(t, [...t.nodes.values()], access, out);
    await access.connections.closeAll();
    const [bookRows, studentRows, books, lends] = libraryInserts as [
      string,
      string,
      string,
      string,
    ];
    const queries: (Parameters<typeof runQuery>[1] & { before?: () => Promise<void> })[] = [
      {
        ...coordinator,
        title: "Start from empty tables (a previous run's rows are deleted on the shards)",
        sql: "DELETE FROM lend; DELETE FROM booksample; DELETE FROM books; DELETE FROM students; SELECT setval('booksample_id_seq', 1, false)",
      },
      {
        ...coordinator,
        title: "Reference tables: books and students, written on the coordinator",
        sql: `${bookRows}; ${studentRows}`,
      },
      { ...coordinator, title: "Insert booksamples through the coordinator", sql: books },
      {
        ...coordinator,
        title: "Insert lends with only booksample_id: each follows its booksample",
        sql: lends,
      },
      ...["paris", "lagos"].map((node) => ({
        node,
        role: "librarian",
        database: "library",
        title: `Where the rows landed: ${node}, queried directly`,
        sql: `SELECT 'booksample' AS "table", id, location, book_id AS "book_id / student_id" FROM public.booksample_${node} UNION ALL SELECT 'lend', booksample_id, location, student_id FROM public.lend_${node} ORDER BY 1, 2`,
      })),
      ...["paris", "lagos"].map((node) => ({
        node,
        role: "librarian",
        database: "library",
        title: `On ${node}, a join with the reference tables' local copies (kept by logical replication)`,
        sql: shardLocalJoin(node),
        before: () => waitForCopies(t, node),
      })),
      {
        ...coordinator,
        title: "An aggregate through the coordinator: booksamples and lends per location",
        sql: "SELECT b.location, count(DISTINCT b.id) AS booksamples, count(l.student_id) AS lends FROM booksample b LEFT JOIN lend l ON l.booksample_id = b.id GROUP BY b.location ORDER BY b.location",
      },
    ];
    for (const q of queries) {
      await q.before?.();
      code = Math.max(code, await runQuery(t, q, out));
    }
    out.line(
      `\n== A key-filtered query touches one shard\n$ dbmesh explain library/library "${keyFilteredQuery}"`,
    );
    try {
      const quiet: Output = { json: out.json, line: (s) => out.line(s), data: () => {} };
      code = Math.max(
        code,
        await explainCommand(
          {
            ...args,
            command: "explain",
            file: t.file,
            positional: ["library/library", keyFilteredQuery],
          },
          quiet,
        ),
      );
    } catch (e) {
      out.line(`FAILED: ${(e as Error).message}`);
      code = 1;
    }
  } finally {
    await access.connections.closeAll();
    if (!args.flags.has("--keep")) {
      for (const n of t.nodes.values()) await stopNode(localNode(t, n));
      out.line("\nnodes stopped (run `dbmesh demo library --keep` to leave them running)");
    } else {
      out.line(`\nnodes left running; stop them with: dbmesh -f ${t.file} down`);
    }
  }
  return code;
}

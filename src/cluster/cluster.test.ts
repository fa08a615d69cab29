import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import pg from "pg";
import { enableFastInit, freePorts, removeDir, tempDir, testNode } from "../testing/index.js";
import {
  adminPassword,
  findBinaries,
  type HbaLine,
  initNode,
  isClusterError,
  type LocalNode,
  nodePaths,
  nodeProcess,
  purgeNode,
  readHba,
  reloadNode,
  startNode,
  stopNode,
  writeConfig,
} from "./index.js";

const execFileAsync = promisify(execFile);

const HBA: readonly HbaLine[] = [
  { type: "local", database: "all", user: "postgres", method: "scram-sha-256" },
  {
    type: "host",
    database: "all",
    user: "postgres",
    address: "127.0.0.1/32",
    method: "scram-sha-256",
    comment: "admin over loopback",
  },
  { type: "host", database: "app_db", user: "all", address: "0.0.0.0/0", method: "reject" },
];

interface Rule {
  type: string;
  database: string[];
  user_name: string[];
  address: string | null;
  netmask: string | null;
  auth_method: string;
  error: string | null;
}

async function query<T extends pg.QueryResultRow>(
  node: LocalNode,
  sql: string,
  database = "postgres",
): Promise<T[]> {
  const client = new pg.Client({
    host: "127.0.0.1",
    port: node.port,
    user: node.adminUser,
    password: await adminPassword(node),
    database,
    connectionTimeoutMillis: 5000,
  });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

async function hbaRules(node: LocalNode): Promise<Rule[]> {
  return query<Rule>(
    node,
    "SELECT type, database, user_name, address, netmask, auth_method, error FROM pg_hba_file_rules ORDER BY line_number",
  );
}

/** Starts the node from a separate Node process that exits right after startNode returns. */
async function startInChildProcess(node: LocalNode): Promise<unknown> {
  const script = `
    const { startNode } = await import(process.env.CLUSTER_INDEX);
    const r = await startNode(JSON.parse(process.env.NODE_JSON));
    process.stdout.write(JSON.stringify(r));
  `;
  const { stdout } = await execFileAsync(process.execPath, ["--input-type=module", "-e", script], {
    env: {
      ...process.env,
      CLUSTER_INDEX: new URL("./index.js", import.meta.url).href,
      NODE_JSON: JSON.stringify(node),
    },
    timeout: 60_000,
  });
  return JSON.parse(stdout);
}

describe("local cluster node lifecycle", () => {
  let dir = "";
  let a: LocalNode;
  let b: LocalNode;
  let systemMajor: number | undefined;

  before(async () => {
    enableFastInit();
    dir = await tempDir("dbmesh-cluster-test");
    const [port = 0] = await freePorts(1);
    a = testNode(dir, "alpha", port, {
      hba: HBA,
      settings: { max_connections: 20, "dbmesh.note": "it's a \\ test\nline 2" },
    });
    // Same port as alpha, to collide with it; system binaries when this machine has them.
    systemMajor = (await findBinaries("system").catch(() => undefined))?.major;
    b = testNode(dir, "beta", port, {
      binaries: systemMajor === undefined ? "embedded" : "system",
    });
  });

  after(async () => {
    for (const node of [a, b]) {
      if (!node) continue;
      await stopNode(node, { mode: "immediate" }).catch(() => {});
    }
    if (dir) await removeDir(dir);
  });

  it("initialises both nodes", async () => {
    // Leftover of an interrupted initdb.
    const leftover = `${nodePaths(b).dataDir}.init-tmp`;
    await mkdir(leftover, { recursive: true });
    await writeFile(join(leftover, "PG_VERSION"), "17\n");
    const [ra, rb] = await Promise.all([initNode(a), initNode(b)]);
    assert.deepEqual(ra, { created: true });
    assert.deepEqual(rb, { created: true });
    const st = await stat(nodePaths(a).dataDir);
    assert.equal(st.mode & 0o777, 0o700);
    await assert.rejects(stat(`${nodePaths(a).dataDir}.init-tmp`));
    await assert.rejects(stat(leftover));
    const secret = await stat(nodePaths(a).secretFile);
    assert.equal(secret.mode & 0o777, 0o600);
    assert.equal(secret.uid, process.getuid?.());
    assert.equal((await nodeProcess(a)).running, false);
  });

  it("starts a server that outlives the process that started it", async () => {
    assert.deepEqual(await startInChildProcess(a), { started: true });
    const proc = await nodeProcess(a);
    assert.equal(proc.running, true);
    assert.equal(proc.port, a.port);
  });

  it("accepts the admin user over TCP with the configured settings", async () => {
    const [row] = await query<{ version: string }>(a, "SELECT version()");
    assert.match(row?.version ?? "", /^PostgreSQL \d+/);
    const show = async (name: string) =>
      (await query<Record<string, string>>(a, `SHOW ${name}`))[0]?.[name];
    assert.equal(await show("listen_addresses"), "127.0.0.1");
    assert.equal(await show("port"), String(a.port));
    assert.equal(await show("password_encryption"), "scram-sha-256");
    assert.equal(await show("max_connections"), "20");
    assert.equal(await show("dbmesh.note"), "it's a \\ test\nline 2");
    assert.equal(await show("unix_socket_directories"), nodePaths(a).socketDir);
  });

  it("loads exactly the given pg_hba.conf lines", async () => {
    assert.deepEqual(await hbaRules(a), [
      {
        type: "local",
        database: ["all"],
        user_name: ["postgres"],
        address: null,
        netmask: null,
        auth_method: "scram-sha-256",
        error: null,
      },
      {
        type: "host",
        database: ["all"],
        user_name: ["postgres"],
        address: "127.0.0.1",
        netmask: "255.255.255.255",
        auth_method: "scram-sha-256",
        error: null,
      },
      {
        type: "host",
        database: ["app_db"],
        user_name: ["all"],
        address: "0.0.0.0",
        netmask: "0.0.0.0",
        auth_method: "reject",
        error: null,
      },
    ]);
  });

  it("treats a second init and start as no-ops", async () => {
    assert.deepEqual(await initNode(a), { created: false });
    assert.deepEqual(await startNode(a), { started: false });
    assert.deepEqual(await writeConfig(a), { changed: false });
  });

  it("refuses to start a second node on a taken port, naming the port and holder", async () => {
    const holder = await nodeProcess(a);
    await assert.rejects(startNode(b), (e: unknown) => {
      assert.ok(isClusterError(e), String(e));
      assert.equal(e.kind, "port-in-use");
      assert.equal(e.node, "beta");
      assert.match(e.message, new RegExp(`port ${a.port}\\b`));
      if (process.getuid?.() === 0) assert.match(e.message, new RegExp(`pid ${holder.pid}\\b`));
      return true;
    });
    assert.equal((await nodeProcess(b)).running, false);
  });

  it("applies a changed pg_hba.conf on reload", async () => {
    const blockTemplate1: HbaLine = {
      type: "host",
      database: "template1",
      user: "postgres",
      address: "127.0.0.1/32",
      method: "reject",
    };
    const changed = { ...a, hba: [blockTemplate1, ...HBA] };
    await query(a, "SELECT 1", "template1");
    assert.deepEqual(await writeConfig(changed), { changed: true });
    assert.match(
      (await readHba(changed)) ?? "",
      /^host\s+template1\s+postgres\s+127\.0\.0\.1\/32\s+reject$/m,
    );
    await reloadNode(changed);

    const rules = await hbaRules(a);
    assert.equal(rules.length, 4);
    assert.deepEqual(rules[0]?.database, ["template1"]);
    assert.equal(rules[0]?.auth_method, "reject");

    // The postmaster handles SIGHUP asynchronously; new connections see the new rules once it has.
    const deadline = Date.now() + 5000;
    let lastError: unknown;
    for (;;) {
      try {
        await query(a, "SELECT 1", "template1");
      } catch (e) {
        lastError = e;
        break;
      }
      assert.ok(Date.now() < deadline, "template1 still reachable 5s after reload");
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(String(lastError), /pg_hba\.conf rejects connection/);
    await query(a, "SELECT 1");
  });

  it("stops the server", async () => {
    assert.deepEqual(await stopNode(a), { stopped: true });
    assert.equal((await nodeProcess(a)).running, false);
    assert.deepEqual(await stopNode(a), { stopped: false });
  });

  it("starts the second node on the freed port with its own binaries", async () => {
    if (systemMajor !== undefined && systemMajor !== 17) {
      await assert.rejects(startNode({ ...b, binaries: "embedded" }), (e: unknown) => {
        assert.ok(isClusterError(e), String(e));
        assert.equal(e.kind, "start-failed");
        assert.match(e.message, new RegExp(`created by PostgreSQL ${systemMajor}\\b`));
        return true;
      });
    }
    assert.deepEqual(await startNode(b), { started: true });
    const [row] = await query<{ version: string }>(b, "SELECT version()");
    assert.match(row?.version ?? "", new RegExp(`^PostgreSQL ${systemMajor ?? 17}\\.`));
    assert.deepEqual(await stopNode(b), { stopped: true });
  });

  it("purges the nodes' state directories", async () => {
    await purgeNode(a);
    await purgeNode(b);
    await assert.rejects(stat(a.stateDir), { code: "ENOENT" });
    await assert.rejects(stat(b.stateDir), { code: "ENOENT" });
    assert.equal(await readHba(a), null);
  });

  it("names the directory to open when the server user cannot reach the state dir", {
    skip: process.getuid?.() !== 0 && "only root runs servers as another user",
  }, async () => {
    const closed = await mkdtemp(join(tmpdir(), "dbmesh-closed-"));
    try {
      await assert.rejects(initNode(testNode(closed, "gamma", a.port)), (e: unknown) => {
        assert.ok(isClusterError(e), String(e));
        assert.equal(e.kind, "dir-not-accessible");
        assert.equal(e.hint, `run: chmod o+x ${closed}`);
        assert.match(e.message, /node "gamma"/);
        return true;
      });
    } finally {
      await removeDir(closed);
    }
  });
});

import * as assert from "node:assert/strict";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import {
  adminPassword,
  ensureServerUser,
  type HbaLine,
  initNode,
  type LocalNode,
  nodePaths,
  startNode,
  stopNode,
  writeConfig,
} from "../cluster/index.js";
import {
  ADMIN_HBA,
  enableFastInit,
  freePorts,
  removeDir,
  tempDir,
  testNode,
} from "../testing/index.js";
import {
  type BackupProgress,
  ReplicationConnection,
  ReplicationError,
  type ReplicationTarget,
  takeBaseBackup,
} from "./index.js";

function replicationLine(user: string): HbaLine {
  return {
    type: "host",
    database: "replication",
    user,
    address: "127.0.0.1/32",
    method: "scram-sha-256",
  };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  ms = 20_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("takeBaseBackup from a real primary", { timeout: 180_000 }, () => {
  let dir = "";
  let primary: LocalNode | undefined;
  let standby: LocalNode | undefined;
  let password = "";
  let owner: { uid: number; gid: number } | undefined;
  let source: ReplicationTarget;

  async function sql<T extends pg.QueryResultRow>(node: LocalNode, text: string): Promise<T[]> {
    const c = new pg.Client({
      host: "127.0.0.1",
      port: node.port,
      user: "postgres",
      password,
      database: "postgres",
    });
    await c.connect();
    try {
      return (await c.query<T>(text)).rows;
    } finally {
      await c.end();
    }
  }

  async function assertNothingLeft(dataDir: string) {
    assert.equal(await exists(dataDir), false, `${dataDir} must not exist`);
    assert.equal(
      await exists(`${dataDir}.backup-tmp`),
      false,
      "the .backup-tmp directory must be gone",
    );
  }

  function standbyOptions(extra: Partial<Parameters<typeof takeBaseBackup>[0]> = {}) {
    return {
      source,
      dataDir: nodePaths(standby!).dataDir,
      owner,
      primaryConninfo: `host=127.0.0.1 port=${primary!.port} user=postgres password=${password} application_name=standby`,
      ...extra,
    };
  }

  before(async () => {
    enableFastInit();
    dir = await tempDir("dbmesh-base-backup-test");
    const [p1 = 0, p2 = 0] = await freePorts(2);
    primary = testNode(dir, "primary", p1, {
      settings: { wal_level: "replica", max_wal_senders: 5, max_replication_slots: 5 },
      hba: [...ADMIN_HBA, replicationLine("postgres"), replicationLine("norepl")],
    });
    standby = testNode(dir, "standby", p2);
    await initNode(primary);
    await startNode(primary);
    password = await adminPassword(primary);
    source = { node: "primary", host: "127.0.0.1", port: p1, user: "postgres", password };
    const user = await ensureServerUser();
    owner = user ? { uid: user.uid, gid: user.gid } : undefined;
    await sql(
      primary,
      `CREATE TABLE seed AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 50000) g;
       CREATE TABLE ticks (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now());
       CREATE ROLE norepl LOGIN PASSWORD 'norepl-secret';
       CREATE ROLE nohba LOGIN REPLICATION PASSWORD 'nohba-secret';`,
    );
  });

  after(async () => {
    for (const node of [standby, primary]) {
      if (node) await stopNode(node, { mode: "immediate" }).catch(() => {});
    }
    if (dir) await removeDir(dir);
  });

  it("ReplicationConnection: IDENTIFY_SYSTEM, slots, and a usable connection after an error", async () => {
    const conn = await ReplicationConnection.connect(source);
    try {
      const id = await conn.identifySystem();
      assert.match(id.systemId, /^\d{15,20}$/);
      assert.equal(id.timeline, 1);
      assert.match(id.xlogpos, /^[0-9A-F]+\/[0-9A-F]+$/);
      assert.equal(id.dbname, null);
      assert.deepEqual(
        await conn.createPhysicalSlot("probe", { reserveWal: true, temporary: true }),
        {
          slotName: "probe",
          consistentPoint: null,
        },
      );
      await assert.rejects(conn.dropSlot("no_such_slot"), (e: unknown) => {
        assert.ok(e instanceof ReplicationError);
        assert.equal(e.kind, "server");
        assert.equal(e.sqlstate, "42704");
        return true;
      });
      assert.equal((await conn.identifySystem()).systemId, id.systemId);
    } finally {
      await conn.close();
    }
  });

  it("reports a refused connection as kind connect", async () => {
    const [port = 0] = await freePorts(1);
    await assert.rejects(ReplicationConnection.connect({ ...source, port }), (e: unknown) => {
      assert.ok(e instanceof ReplicationError);
      assert.equal(e.kind, "connect");
      assert.match(e.message, /ECONNREFUSED/);
      assert.match(e.hint, /is running and listens on 127\.0\.0\.1:\d+/);
      return true;
    });
  });

  it("refuses a non-empty data directory (target-exists)", async () => {
    const dataDir = `${dir}/occupied/data`;
    await mkdir(dataDir, { recursive: true });
    await writeFile(`${dataDir}/keep`, "mine");
    await assert.rejects(takeBaseBackup(standbyOptions({ dataDir })), (e: unknown) => {
      assert.ok(e instanceof ReplicationError);
      assert.equal(e.kind, "target-exists");
      assert.ok(e.message.includes(dataDir), e.message);
      return true;
    });
    assert.equal(await readFile(`${dataDir}/keep`, "utf8"), "mine");
    assert.equal(await exists(`${dataDir}.backup-tmp`), false);
  });

  it("names the exact pg_hba.conf line when none admits the replication connection", async () => {
    const dataDir = nodePaths(standby!).dataDir;
    const opts = standbyOptions({ source: { ...source, user: "nohba", password: "nohba-secret" } });
    await assert.rejects(takeBaseBackup(opts), (e: unknown) => {
      assert.ok(e instanceof ReplicationError);
      assert.equal(e.kind, "hba");
      assert.equal(e.sqlstate, "28000");
      assert.equal(e.fields?.code, "28000");
      assert.ok(e.hint.includes('"host replication nohba 127.0.0.1/32 scram-sha-256"'), e.hint);
      return true;
    });
    await assertNothingLeft(dataDir);
  });

  it("reports a role without REPLICATION as a permission error", async () => {
    const opts = standbyOptions({
      source: { ...source, user: "norepl", password: "norepl-secret" },
    });
    await assert.rejects(takeBaseBackup(opts), (e: unknown) => {
      assert.ok(e instanceof ReplicationError);
      assert.equal(e.kind, "permission");
      assert.equal(e.sqlstate, "42501");
      assert.ok(e.hint.includes('ALTER ROLE "norepl" REPLICATION'), e.hint);
      return true;
    });
    await assertNothingLeft(nodePaths(standby!).dataDir);
  });

  it("reports a wrong password as an auth error without printing it", async () => {
    const wrong = "not-the-password-8f3a";
    await assert.rejects(
      ReplicationConnection.connect({ ...source, password: wrong }),
      (e: unknown) => {
        assert.ok(e instanceof ReplicationError);
        assert.equal(e.kind, "auth");
        assert.equal(e.sqlstate, "28P01");
        assert.ok(!JSON.stringify({ ...e, message: e.message }).includes(wrong));
        return true;
      },
    );
  });

  it("aborts cleanly on the AbortSignal and drops the slot it created", async () => {
    const controller = new AbortController();
    const opts = standbyOptions({
      slot: "abort_slot",
      signal: controller.signal,
      maxRate: 20_480,
      onProgress: () => controller.abort(),
    });
    await assert.rejects(takeBaseBackup(opts), (e: unknown) => {
      assert.ok(e instanceof ReplicationError);
      assert.equal(e.kind, "aborted");
      return true;
    });
    await assertNothingLeft(nodePaths(standby!).dataDir);
    const slots = await sql(primary!, "SELECT slot_name FROM pg_replication_slots");
    assert.deepEqual(slots, []);
  });

  it("fails cleanly when the upstream dies during the backup", async () => {
    let stopping: Promise<unknown> | undefined;
    const opts = standbyOptions({
      slot: "standby1",
      maxRate: 10_240,
      onProgress: () => {
        stopping ??= stopNode(primary!, { mode: "immediate" });
      },
    });
    await assert.rejects(takeBaseBackup(opts), (e: unknown) => {
      assert.ok(e instanceof ReplicationError, String(e));
      assert.ok(["connect", "protocol", "server"].includes(e.kind), `${e.kind}: ${e.message}`);
      return true;
    });
    assert.ok(stopping, "the backup reported progress");
    await stopping;
    await assertNothingLeft(nodePaths(standby!).dataDir);
    await startNode(primary!);
  });

  it("after the restart, backs up while rows are written; the standby streams them", async () => {
    const writer = new pg.Client({
      host: "127.0.0.1",
      port: primary!.port,
      user: "postgres",
      password,
      database: "postgres",
    });
    await writer.connect();
    let writing = true;
    let written = 0;
    const writes = (async () => {
      while (writing) {
        await writer.query("INSERT INTO ticks DEFAULT VALUES");
        written++;
      }
    })();
    const progress: { at: number; p: BackupProgress }[] = [];
    let result: Awaited<ReturnType<typeof takeBaseBackup>>;
    let writtenAtStart = 0;
    try {
      // An existing empty data directory is replaced.
      await mkdir(nodePaths(standby!).dataDir, { recursive: true });
      await waitFor("the writer to start", async () => (written > 0 ? true : undefined));
      writtenAtStart = written;
      result = await takeBaseBackup(
        standbyOptions({
          slot: "standby1",
          label: "dbmesh 'test' \\ backup",
          onProgress: (p) => progress.push({ at: performance.now(), p }),
        }),
      );
    } finally {
      writing = false;
      await writes;
      await writer.end();
    }
    assert.ok(written > writtenAtStart, "rows were inserted while the backup ran");
    assert.match(result.startLsn, /^[0-9A-F]+\/[0-9A-F]+$/);
    assert.ok(result.files > 900, `${result.files} files`);
    assert.ok(result.bytes > 20 * 1024 * 1024, `${result.bytes} bytes`);
    assert.ok(progress.length >= 1);
    assert.equal(progress.at(-1)?.p.doneBytes, result.bytes);

    const dataDir = nodePaths(standby!).dataDir;
    assert.equal(await exists(`${dataDir}.backup-tmp`), false);
    const st = await stat(dataDir);
    assert.equal(st.mode & 0o777, 0o700);
    if (owner) assert.equal(st.uid, owner.uid);
    assert.equal((await stat(`${dataDir}/standby.signal`)).size, 0);
    assert.equal((await stat(`${dataDir}/backup_manifest`)).mode & 0o777, 0o600);
    const auto = await readFile(`${dataDir}/postgresql.auto.conf`, "utf8");
    assert.match(
      auto,
      /^primary_conninfo = 'host=127\.0\.0\.1 port=\d+ user=postgres password=.* application_name=standby'$/m,
    );
    assert.match(auto, /^primary_slot_name = 'standby1'$/m);

    // The copied postgresql.conf includes dbmesh.conf; the standby's own one sets its port.
    await writeConfig(standby!);
    await startNode(standby!);
    const [recovery] = await sql<{ r: boolean; id: string }>(
      standby!,
      "SELECT pg_is_in_recovery() AS r, system_identifier::text AS id FROM pg_control_system()",
    );
    assert.equal(recovery?.r, true);
    assert.equal(recovery?.id, result.systemId);
    await waitFor("the WAL receiver to stream", async () => {
      const [row] = await sql<{ status: string }>(
        standby!,
        "SELECT status FROM pg_stat_wal_receiver",
      );
      return row?.status === "streaming" ? true : undefined;
    });

    const [before] = await sql<{ n: string; lsn: string }>(
      primary!,
      "SELECT (SELECT count(*) FROM ticks)::text AS n, pg_current_wal_lsn()::text AS lsn",
    );
    const caughtUp = async (lsn: string) =>
      waitFor(`replay up to ${lsn}`, async () => {
        const [row] = await sql<{ ok: boolean }>(
          standby!,
          `SELECT pg_last_wal_replay_lsn() >= '${lsn}'::pg_lsn AS ok`,
        );
        return row?.ok ? true : undefined;
      });
    await caughtUp(before!.lsn);
    const [copied] = await sql<{ ticks: string; seed: string }>(
      standby!,
      "SELECT (SELECT count(*) FROM ticks)::text AS ticks, (SELECT count(*) FROM seed)::text AS seed",
    );
    assert.deepEqual(copied, { ticks: before!.n, seed: "50000" });

    const [late] = await sql<{ id: string; lsn: string }>(
      primary!,
      "INSERT INTO ticks DEFAULT VALUES RETURNING id::text, pg_current_wal_lsn()::text AS lsn",
    );
    await caughtUp(late!.lsn);
    const arrived = await sql(standby!, `SELECT 1 FROM ticks WHERE id = ${Number(late!.id)}`);
    assert.equal(arrived.length, 1);

    const slots = await sql<{ slot_name: string; active: boolean }>(
      primary!,
      "SELECT slot_name, active FROM pg_replication_slots",
    );
    assert.deepEqual(slots, [{ slot_name: "standby1", active: true }]);
  });
});

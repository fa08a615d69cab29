import * as assert from "node:assert/strict";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { FrameParser } from "../protocol/index.js";
import { removeDir, tempDir } from "../testing/index.js";
import { ManifestError, parseBackupManifest } from "./backup-manifest.js";
import { type BackupProgress, BackupStream } from "./backup-stream.js";
import { backupAnswer, buildManifest, type ManifestFixtureFile } from "./backup-stream-fixture.js";
import { crc32c } from "./crc32c.js";
import type { BackendMessage } from "./message-queue.js";
import { ReplicationError } from "./replication-error.js";
import { TarExtractor } from "./tar-extractor.js";
import { buildTar, type TarFixtureEntry } from "./tar-fixture.js";
import { verifyBackup } from "./verify-backup.js";

const SYSTEM_ID = "7710787489278784411";

function content(size: number, seed: number): Buffer {
  return Buffer.from(Array.from({ length: size }, (_, i) => (i * 31 + seed * 17) & 0xff));
}

const FILES: ManifestFixtureFile[] = [
  { path: "backup_label", content: Buffer.from("START WAL LOCATION: 0/200028\n") },
  { path: "PG_VERSION", content: Buffer.from("17\n") },
  { path: "base/1/empty", content: Buffer.alloc(0) },
  { path: "base/1/b511", content: content(511, 1) },
  { path: "base/1/b513", content: content(513, 2) },
  { path: "global/pg_control", content: content(8192, 3) },
];

function tarOf(files: readonly ManifestFixtureFile[], wal: TarFixtureEntry[] = []): Buffer {
  return buildTar([
    { type: "dir", name: "base" },
    { type: "dir", name: "base/1" },
    { type: "dir", name: "global" },
    { type: "dir", name: "pg_wal" },
    ...files.map((f) => ({ type: "file" as const, name: f.path, content: f.content })),
    ...wal,
  ]);
}

/**
 * Feeds the byte stream, cut into `chunks`, through FrameParser into a BackupStream. Each chunk
 * is overwritten once its messages were handled, as MessageQueue reuses its read buffers: a view
 * kept past its message shows up as wrong bytes.
 */
async function run(chunks: Buffer[], stream: BackupStream): Promise<void> {
  const parser = new FrameParser();
  for (const chunk of chunks) {
    const read = Buffer.from(chunk);
    const messages: BackendMessage[] = [];
    parser.parse(read, (code, body) => messages.push({ code, body }));
    for (const m of messages) await stream.handle(m);
    read.fill(0xee);
  }
}

/** The BASE_BACKUP answer for all of FILES, 0/200028 to 0/200120, without WAL. */
function filesAnswer(opts: { chunk?: number; tablespaces?: [string, string][] } = {}): Buffer[] {
  return backupAnswer({
    archive: tarOf(FILES),
    manifest: buildManifest(FILES, { systemId: SYSTEM_ID }),
    startLsn: "0/200028",
    endLsn: "0/200120",
    sizeKb: 8,
    ...opts,
  });
}

function memorySink() {
  const parts: Buffer[] = [];
  return {
    parts,
    write: async (chunk: Buffer) => {
      parts.push(Buffer.from(chunk));
    },
  };
}

describe("BackupStream", () => {
  let dir = "";
  before(async () => {
    dir = await tempDir("dbmesh-backup-stream-test");
  });
  after(async () => {
    if (dir) await removeDir(dir);
  });

  it("follows the BASE_BACKUP answer cut at every byte", async () => {
    const archive = tarOf(FILES.slice(0, 4));
    const manifest = buildManifest(FILES.slice(0, 4), { systemId: SYSTEM_ID });
    const bytes = Buffer.concat(
      backupAnswer({
        archive,
        manifest,
        startLsn: "0/200028",
        endLsn: "0/200120",
        sizeKb: 3,
        chunk: 700,
      }),
    );
    for (let cut = 1; cut < bytes.length; cut++) {
      const sink = memorySink();
      let clock = 0;
      const progress: BackupProgress[] = [];
      const stream = new BackupStream({
        node: "primary",
        archive: sink,
        onProgress: (p) => progress.push(p),
        now: () => (clock += 100),
      });
      await run([bytes.subarray(0, cut), bytes.subarray(cut)], stream);
      const r = stream.result();
      assert.deepEqual(Buffer.concat(sink.parts), archive, `cut ${cut}`);
      assert.deepEqual(r.manifest, manifest, `cut ${cut}`);
      assert.deepEqual(
        [r.startLsn, r.startTimeline, r.endLsn, r.endTimeline, r.totalBytes, r.archiveBytes],
        ["0/200028", 1, "0/200120", 1, 3072, archive.length],
      );
      const last = progress.at(-1);
      assert.equal(last?.doneBytes, archive.length);
      assert.equal(last?.totalBytes, archive.length);
      assert.ok((last?.bytesPerSecond ?? 0) > 0);
    }
  });

  it("reports progress at most once per interval", async () => {
    const messages = filesAnswer({ chunk: 512 });
    let clock = 0;
    const calls: number[] = [];
    const stream = new BackupStream({
      node: "primary",
      archive: memorySink(),
      onProgress: () => calls.push(clock),
      now: () => (clock += 50),
    });
    await run([Buffer.concat(messages)], stream);
    assert.ok(calls.length >= 3, `${calls.length} calls`);
    for (let i = 1; i < calls.length - 1; i++) assert.ok(calls[i]! - calls[i - 1]! >= 200);
  });

  it("extracts, verifies and accepts a complete backup cut at random places", async () => {
    const segment = content(1024 * 1024, 4);
    const wal: TarFixtureEntry[] = [
      { type: "file", name: "pg_wal/000000010000000000000002", content: segment },
      { type: "dir", name: "pg_wal/archive_status" },
      {
        type: "file",
        name: "pg_wal/archive_status/000000010000000000000002.done",
        content: Buffer.alloc(0),
      },
    ];
    const archive = tarOf(FILES, wal);
    const manifest = buildManifest(FILES, {
      systemId: SYSTEM_ID,
      walRanges: [{ timeline: 1, start: "0/200028", end: "0/200120" }],
    });
    const bytes = Buffer.concat(
      backupAnswer({ archive, manifest, startLsn: "0/200028", endLsn: "0/200120", sizeKb: 1100 }),
    );
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let runNo = 0; runNo < 10; runNo++) {
      const cuts = [
        ...new Set(Array.from({ length: 1 + random(60) }, () => 1 + random(bytes.length - 1))),
      ].sort((a, b) => a - b);
      const chunks = cuts.map((c, i) => bytes.subarray(i === 0 ? 0 : cuts[i - 1], c));
      chunks.push(bytes.subarray(cuts.at(-1)));
      const root = join(dir, `run${runNo}`);
      await mkdir(root, { mode: 0o700 });
      const extractor = new TarExtractor({ root, sync: false });
      const stream = new BackupStream({ node: "primary", archive: extractor });
      await run(chunks, stream);
      await extractor.finish();
      const r = stream.result();
      const parsed = parseBackupManifest(r.manifest);
      assert.equal(parsed.systemId, SYSTEM_ID);
      assert.deepEqual(
        verifyBackup({ manifest: parsed, files: extractor.files, systemId: SYSTEM_ID }),
        [],
      );
      assert.deepEqual(await readFile(join(root, "pg_wal/000000010000000000000002")), segment);
      await removeDir(root);
    }
  });

  it("refuses tablespaces other than the default ones", async () => {
    const messages = filesAnswer({ tablespaces: [["16384", "/srv/fast"]] });
    const stream = new BackupStream({ node: "primary", archive: memorySink() });
    await assert.rejects(run([Buffer.concat(messages)], stream), (e: unknown) => {
      assert.ok(e instanceof ReplicationError);
      assert.equal(e.kind, "server");
      assert.match(e.problem, /tablespaces outside its data directory: \/srv\/fast \(oid 16384\)/);
      return true;
    });
  });

  it("notices an answer that ends before the copy is complete", async () => {
    const messages = filesAnswer();
    const stream = new BackupStream({ node: "primary", archive: memorySink() });
    await run([Buffer.concat(messages.slice(0, -6))], stream);
    assert.throws(() => stream.result(), /ended before the copy was complete/);
  });
});

describe("backup manifest verification", () => {
  const extracted = () =>
    new Map(FILES.map((f) => [f.path, { size: f.content.length, crc32c: crc32c(f.content) }]));

  it("accepts a manifest that matches", () => {
    const m = parseBackupManifest(buildManifest(FILES, { systemId: SYSTEM_ID }));
    assert.equal(m.version, 2);
    assert.equal(m.files.length, FILES.length);
    assert.deepEqual(verifyBackup({ manifest: m, files: extracted(), systemId: SYSTEM_ID }), []);
  });

  it("detects a file whose checksum does not match", () => {
    const tampered = FILES.map((f) =>
      f.path === "base/1/b513" ? { path: f.path, content: content(513, 99) } : f,
    );
    const m = parseBackupManifest(buildManifest(tampered, { systemId: SYSTEM_ID }));
    assert.deepEqual(verifyBackup({ manifest: m, files: extracted(), systemId: SYSTEM_ID }), [
      "base/1/b513 has a CRC-32C checksum mismatch",
    ]);
  });

  it("detects wrong sizes, missing and unlisted files, another system and missing WAL", () => {
    const listed = [
      ...FILES.filter((f) => f.path !== "PG_VERSION").map((f) =>
        f.path === "base/1/b511" ? { path: f.path, content: content(510, 1) } : f,
      ),
      { path: "base/1/gone", content: Buffer.from("x") },
    ];
    const m = parseBackupManifest(
      buildManifest(listed, {
        systemId: "1",
        walRanges: [{ timeline: 1, start: "0/200028", end: "0/200120" }],
      }),
    );
    assert.deepEqual(verifyBackup({ manifest: m, files: extracted(), systemId: SYSTEM_ID }), [
      `manifest system identifier 1 is not the server's ${SYSTEM_ID}`,
      "base/1/b511 has size 511, the manifest says 510",
      "base/1/gone is in the manifest but not in the archive",
      "PG_VERSION is in the archive but not in the manifest",
      "the archive has no WAL segments in pg_wal",
    ]);
  });

  it("detects a corrupted Manifest-Checksum and a changed manifest body", () => {
    const good = buildManifest(FILES, { systemId: SYSTEM_ID });
    const text = good.toString("utf8");
    const badSum = text.replace(
      /"Manifest-Checksum": "([0-9a-f])/,
      (_, c) => `"Manifest-Checksum": "${c === "0" ? "1" : "0"}`,
    );
    assert.throws(
      () => parseBackupManifest(Buffer.from(badSum)),
      (e: unknown) => {
        assert.ok(e instanceof ManifestError);
        assert.match(e.message, /manifest checksum mismatch/);
        return true;
      },
    );
    const badBody = text.replace('"Size": 511', '"Size": 512');
    assert.throws(() => parseBackupManifest(Buffer.from(badBody)), /manifest checksum mismatch/);
    assert.throws(() => parseBackupManifest(Buffer.from(text.trimEnd())), /newline-terminated/);
  });
});

import * as assert from "node:assert/strict";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { removeDir, tempDir } from "../testing/index.js";
import { crc32c } from "./crc32c.js";
import { TarExtractor } from "./tar-extractor.js";
import { buildTar, type TarFixtureEntry, tarHeader } from "./tar-fixture.js";
import { TarFormatError } from "./tar-header.js";

function content(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    b[i] = x >>> 16;
  }
  return b;
}

const SMALL: TarFixtureEntry[] = [
  { type: "dir", name: "base" },
  { type: "dir", name: "base/1" },
  { type: "file", name: "PG_VERSION", content: Buffer.from("17\n") },
  { type: "file", name: "base/1/empty", content: Buffer.alloc(0) },
  { type: "file", name: "base/1/one", content: content(1, 1) },
  { type: "file", name: "base/1/b511", content: content(511, 2) },
  { type: "file", name: "base/1/b512", content: content(512, 3) },
  { type: "file", name: "base/1/b513", content: content(513, 4) },
  // PostgreSQL writes some names with a leading "./".
  { type: "dir", name: "./pg_wal/archive_status" },
  { type: "pax-path", path: `base/${"p".repeat(120)}` },
  { type: "file", name: "ignored-by-pax", content: content(40, 5) },
  { type: "gnu-longname", path: `base/${"g".repeat(150)}` },
  { type: "file", name: "ignored-by-gnu", content: content(600, 6) },
];

const LARGE: TarFixtureEntry[] = [
  ...SMALL,
  { type: "file", name: "base/1/b70000", content: content(70000, 7) },
  { type: "file", name: "global/pg_control", content: content(8192, 8) },
];

// Above the small-file size (written as it arrives, several writes in flight) and above two
// write batches.
const HUGE: TarFixtureEntry[] = [
  ...LARGE,
  { type: "file", name: "base/1/b600000", content: content(600_000, 9) },
  { type: "file", name: "base/1/after", content: content(3000, 10) },
];

/** Path as extracted, to content. */
function expectedFiles(entries: readonly TarFixtureEntry[]): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let next: string | undefined;
  for (const e of entries) {
    if (e.type === "pax-path" || e.type === "gnu-longname") next = e.path;
    else if (e.type === "file") {
      out.set(next ?? e.name, e.content);
      next = undefined;
    }
  }
  return out;
}

async function listTree(root: string, rel = ""): Promise<Map<string, "dir" | Buffer>> {
  const out = new Map<string, "dir" | Buffer>();
  for (const d of await readdir(join(root, rel), { withFileTypes: true })) {
    const path = rel ? `${rel}/${d.name}` : d.name;
    if (d.isDirectory()) {
      out.set(path, "dir");
      for (const [k, v] of await listTree(root, path)) out.set(k, v);
    } else out.set(path, await readFile(join(root, path)));
  }
  return out;
}

/** Extracts `archive` fed in the given chunks into a fresh directory under `dir`. */
async function extract(
  dir: string,
  name: string,
  chunks: Buffer[],
  buffer: { slotBytes?: number; slots?: number } = {},
): Promise<TarExtractor> {
  const root = join(dir, name);
  await removeDir(root);
  await (await import("node:fs/promises")).mkdir(root, { mode: 0o700 });
  const x = new TarExtractor({ root, sync: false, ...buffer });
  for (const c of chunks) await x.write(c);
  await x.finish();
  return x;
}

function cutAt(buf: Buffer, cuts: number[]): Buffer[] {
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of [...cuts].sort((a, b) => a - b)) {
    out.push(buf.subarray(prev, c));
    prev = c;
  }
  out.push(buf.subarray(prev));
  return out;
}

describe("TarExtractor", () => {
  let dir = "";
  before(async () => {
    dir = await tempDir("dbmesh-tar-test");
  });
  after(async () => {
    if (dir) await removeDir(dir);
  });

  async function assertExtracted(x: TarExtractor, root: string, entries: TarFixtureEntry[]) {
    const expected = expectedFiles(entries);
    const tree = await listTree(root);
    const files = [...tree].filter(([, v]) => v !== "dir");
    assert.deepEqual(files.map(([k]) => k).sort(), [...expected.keys()].sort());
    for (const [path, data] of expected) {
      assert.deepEqual(tree.get(path), data, path);
      assert.deepEqual(x.files.get(path), { size: data.length, crc32c: crc32c(data) }, path);
      assert.equal((await stat(join(root, path))).mode & 0o777, 0o600, path);
    }
    for (const [path, v] of tree) {
      if (v === "dir") assert.equal((await stat(join(root, path))).mode & 0o777, 0o700, path);
    }
    assert.ok(tree.get("pg_wal/archive_status") === "dir");
    assert.equal(x.ended, true);
  }

  it("extracts an archive fed one byte at a time (a cut at every byte)", async () => {
    const tar = buildTar(SMALL);
    const chunks = Array.from({ length: tar.length }, (_, i) => tar.subarray(i, i + 1));
    const x = await extract(dir, "bytewise", chunks);
    await assertExtracted(x, join(dir, "bytewise"), SMALL);
    assert.equal(x.bytes, tar.length);
  });

  it("extracts the same with two chunks cut around every block boundary", async () => {
    const tar = buildTar(SMALL);
    const cuts = new Set<number>();
    for (let b = 0; b <= tar.length; b += 512) {
      for (const d of [-1, 0, 1, 150]) {
        if (b + d > 0 && b + d < tar.length) cuts.add(b + d);
      }
    }
    for (const cut of cuts) {
      const x = await extract(dir, "cut", cutAt(tar, [cut]));
      await assertExtracted(x, join(dir, "cut"), SMALL);
    }
  });

  it("extracts a larger archive cut at random places", async () => {
    const tar = buildTar(LARGE);
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let run = 0; run < 25; run++) {
      const cuts = Array.from({ length: 1 + random(40) }, () => 1 + random(tar.length - 1));
      const x = await extract(dir, "random", cutAt(tar, cuts));
      await assertExtracted(x, join(dir, "random"), LARGE);
    }
  });

  it("extracts through receive buffers of every shape, cut at random places", async () => {
    // Slots of 1000 bytes: a file waits for slots freed by its own writes and checksums (a small
    // file is then created early); 4099 bytes: slots at odd offsets of the shared buffer; the
    // default: CRC-32C of the last, partial slot on this thread.
    const tar = buildTar(HUGE);
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (const buffer of [{ slotBytes: 1000, slots: 4 }, { slotBytes: 4099, slots: 5 }, {}]) {
      for (let run = 0; run < 4; run++) {
        const cuts = Array.from({ length: 1 + random(200) }, () => 1 + random(tar.length - 1));
        const x = await extract(dir, "ring", cutAt(tar, cuts), buffer);
        await assertExtracted(x, join(dir, "ring"), HUGE);
      }
    }
  });

  async function rejects(entries: TarFixtureEntry[] | Buffer, pattern: RegExp) {
    const tar = Buffer.isBuffer(entries) ? entries : buildTar(entries);
    await assert.rejects(extract(dir, "bad", [tar]), (e: unknown) => {
      assert.ok(e instanceof TarFormatError, String(e));
      assert.match(e.message, pattern);
      return true;
    });
  }

  it("refuses symbolic links, naming a tablespace link as such", async () => {
    await rejects(
      [
        { type: "dir", name: "pg_tblspc" },
        { type: "symlink", name: "pg_tblspc/16384", target: "/srv/space" },
      ],
      /symbolic link pg_tblspc\/16384 \(a tablespace\) -> \/srv\/space is not supported/,
    );
    await rejects(
      [{ type: "symlink", name: "pg_wal", target: "/elsewhere" }],
      /symbolic link pg_wal /,
    );
  });

  it("refuses hard links and paths that leave the directory", async () => {
    await rejects([{ type: "hardlink", name: "a", target: "b" }], /hard link a is not supported/);
    await rejects(
      [{ type: "file", name: "../escape", content: Buffer.from("x") }],
      /unsafe entry name/,
    );
    await rejects(
      [{ type: "file", name: "/etc/x", content: Buffer.from("x") }],
      /unsafe entry name/,
    );
    await rejects([{ type: "file", name: "a//b", content: Buffer.from("x") }], /unsafe entry name/);
    await rejects(
      [
        { type: "file", name: "twice", content: Buffer.from("x") },
        { type: "file", name: "twice", content: Buffer.from("y") },
      ],
      /duplicate entry twice/,
    );
  });

  it("detects a corrupted header checksum", async () => {
    const tar = buildTar([{ type: "file", name: "a", content: Buffer.from("x") }]);
    tar[0] = "b".charCodeAt(0);
    await rejects(tar, /header checksum/);
  });

  it("detects a truncated archive and data after the end marker", async () => {
    const tar = buildTar([{ type: "file", name: "a", content: content(1000, 9) }], false);
    await rejects(tar.subarray(0, 700), /archive truncated inside a after 700 bytes/);
    await rejects(tar.subarray(0, 300), /archive truncated inside an entry/);
    const trailing = Buffer.concat([buildTar([]), tarHeader("late", "0", 0)]);
    await rejects(trailing, /data after the end-of-archive marker/);
  });

  it("does not write through an existing file", async () => {
    const root = join(dir, "existing");
    await (await import("node:fs/promises")).mkdir(root);
    await writeFile(join(root, "PG_VERSION"), "old");
    const x = new TarExtractor({ root, sync: false });
    const tar = buildTar([{ type: "file", name: "PG_VERSION", content: Buffer.from("17\n") }]);
    // Small files are created in the background: the failure surfaces by finish() at the latest.
    await assert.rejects(
      (async () => {
        await x.write(tar);
        await x.finish();
      })(),
      { code: "EEXIST" },
    );
    assert.equal(await readFile(join(root, "PG_VERSION"), "utf8"), "old");
  });
});

// Builds ustar archives for tests, byte for byte as PostgreSQL's tarCreateHeader lays them out.
// https://pubs.opengroup.org/onlinepubs/9799919799/utilities/pax.html#tag_20_94_13_06
import { TAR_BLOCK } from "./tar-header.js";

export type TarFixtureEntry =
  | { readonly type: "file"; readonly name: string; readonly content: Buffer }
  | { readonly type: "dir"; readonly name: string }
  | { readonly type: "symlink"; readonly name: string; readonly target: string }
  | { readonly type: "hardlink"; readonly name: string; readonly target: string }
  /** A pax 'x' header giving `path` to the next entry. */
  | { readonly type: "pax-path"; readonly path: string }
  /** A GNU 'L' header giving the next entry's name. */
  | { readonly type: "gnu-longname"; readonly path: string };

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, "0")}\0`;
}

export function tarHeader(
  name: string,
  typeflag: string,
  size: number,
  linkName = "",
  mode = 0o600,
): Buffer {
  const h = Buffer.alloc(TAR_BLOCK);
  h.write(name, 0, 100, "utf8");
  h.write(octal(mode, 8), 100, "latin1");
  h.write(octal(0, 8), 108, "latin1");
  h.write(octal(0, 8), 116, "latin1");
  h.write(octal(size, 12), 124, "latin1");
  h.write(octal(1_700_000_000, 12), 136, "latin1");
  h.write(typeflag, 156, "latin1");
  h.write(linkName, 157, 100, "utf8");
  h.write("ustar\x00", 257, "latin1");
  h.write("00", 263, "latin1");
  h.write("postgres", 265, "latin1");
  h.write("postgres", 297, "latin1");
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
  return h;
}

function padded(data: Buffer): Buffer[] {
  const pad = (TAR_BLOCK - (data.length % TAR_BLOCK)) % TAR_BLOCK;
  return pad === 0 ? [data] : [data, Buffer.alloc(pad)];
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body) + 1;
  while (String(length).length + Buffer.byteLength(body) !== length) length++;
  return `${length}${body}`;
}

/** The archive, terminated by two zero blocks unless `terminate` is false. */
export function buildTar(entries: readonly TarFixtureEntry[], terminate = true): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    switch (e.type) {
      case "file":
        parts.push(tarHeader(e.name, "0", e.content.length), ...padded(e.content));
        break;
      case "dir":
        parts.push(tarHeader(`${e.name}/`, "5", 0, "", 0o700));
        break;
      case "symlink":
        parts.push(tarHeader(`${e.name}/`, "2", 0, e.target, 0o777));
        break;
      case "hardlink":
        parts.push(tarHeader(e.name, "1", 0, e.target));
        break;
      case "pax-path": {
        const data = Buffer.from(paxRecord("path", e.path));
        parts.push(tarHeader("PaxHeader/x", "x", data.length), ...padded(data));
        break;
      }
      case "gnu-longname": {
        const data = Buffer.from(`${e.path}\0`);
        parts.push(tarHeader("././@LongLink", "L", data.length), ...padded(data));
        break;
      }
    }
  }
  if (terminate) parts.push(Buffer.alloc(2 * TAR_BLOCK));
  return Buffer.concat(parts);
}

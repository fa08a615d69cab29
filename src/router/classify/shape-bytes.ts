// shapeOf (shape.ts) over the bytes of an ASCII statement text, written into a caller's buffer:
// the same scan, the same give-ups, the same markers, so that for ASCII text the bytes it writes
// are exactly shapeOf's string. The router's per-message path uses it to find a cached
// classification without decoding the Query message or building strings.
import { isDigit, isIdentChar } from "./shape.js";

const MARK = 0x01;
const MARK_STRING = 0x73; // s
const MARK_NUMBER = 0x6e; // n

/** src[k], or -1 past the end (as charCodeAt reads NaN there: no character matches). */
function at(src: Buffer, k: number, n: number): number {
  return k < n ? src[k]! : -1;
}

/** Copies src[from, to) to out at o; returns the position after it. A loop: the spans are short. */
function copy(src: Buffer, from: number, to: number, out: Buffer, o: number): number {
  for (let i = from; i < to; i++) out[o++] = src[i]!;
  return o;
}

/**
 * Writes the shape of src[start, end) into `out` (at least 2 × (end - start) + 1 bytes) and
 * returns its length; -1 when shapeOf would return undefined (no literal, or not safe to say).
 * The text must be ASCII without NUL (the caller checks).
 */
export function shapeBytes(src: Buffer, start: number, end: number, out: Buffer): number {
  const n = end;
  out[0] = MARK;
  let o = 1;
  let from = start; // src[from, i) is still to be copied
  let i = start;
  while (i < n) {
    const c = src[i]!;
    if (c === 0x5c || c === MARK) return -1; // backslash, or the marker itself
    if (c === 0x2d && at(src, i + 1, n) === 0x2d) {
      // -- comment: kept as it is
      const nl = src.indexOf(0x0a, i);
      i = nl < 0 || nl >= n ? n : nl + 1;
    } else if (c === 0x2f && at(src, i + 1, n) === 0x2a) {
      // /* comment */, nested
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (src[i] === 0x2f && at(src, i + 1, n) === 0x2a) {
          depth++;
          i += 2;
        } else if (src[i] === 0x2a && at(src, i + 1, n) === 0x2f) {
          depth--;
          i += 2;
        } else i++;
      }
      if (depth > 0) return -1;
    } else if (c === 0x22) {
      // "quoted identifier": kept
      i++;
      for (;;) {
        const q = src.indexOf(0x22, i);
        if (q < 0 || q >= n) return -1;
        i = q + 1;
        if (at(src, i, n) !== 0x22) break;
        i++;
      }
    } else if (c === 0x27) {
      // 'string' with '' for a quote; a letter right before it makes it E'', B'', X'' or U&''
      if (i > start && isIdentChar(src[i - 1]!)) return -1;
      let j = i + 1;
      for (;;) {
        const q = src.indexOf(0x27, j);
        if (q < 0 || q >= n) return -1;
        j = q + 1;
        if (at(src, j, n) !== 0x27) break;
        j++;
      }
      const backslash = src.indexOf(0x5c, i);
      if (backslash >= 0 && backslash < j) return -1;
      o = copy(src, from, i, out, o);
      out[o++] = MARK;
      out[o++] = MARK_STRING;
      i = from = j;
    } else if (c === 0x24) {
      // $1 parameters are kept; anything else may open a dollar quote
      if (!isDigit(at(src, i + 1, n))) return -1;
      i++;
      while (i < n && isDigit(src[i]!)) i++;
    } else if (isIdentChar(c) && !isDigit(c)) {
      i++;
      while (i < n && isIdentChar(src[i]!)) i++;
    } else if (isDigit(c) || (c === 0x2e && isDigit(at(src, i + 1, n)))) {
      let j = i;
      while (j < n && isDigit(src[j]!)) j++;
      if (at(src, j, n) === 0x2e) {
        j++;
        while (j < n && isDigit(src[j]!)) j++;
      }
      if (at(src, j, n) === 0x65 || at(src, j, n) === 0x45) {
        j++;
        if (at(src, j, n) === 0x2b || at(src, j, n) === 0x2d) j++;
        if (!isDigit(at(src, j, n))) return -1;
        while (j < n && isDigit(src[j]!)) j++;
      }
      if (j < n && (isIdentChar(src[j]!) || src[j] === 0x2e)) return -1;
      o = copy(src, from, i, out, o);
      out[o++] = MARK;
      out[o++] = MARK_NUMBER;
      i = from = j;
    } else i++;
  }
  if (from === start) return -1;
  o = copy(src, from, n, out, o);
  return o;
}

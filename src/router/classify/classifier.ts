// The router's read/write classifier: PostgreSQL's grammar (libpg_query, wasm) behind a cache
// keyed by statement text. A hit is one Map lookup and a generation compare, and returns the
// same frozen object every time. The oracle's answers are not parsed facts: a pg_proc reload
// bumps the generation, and the next lookup of each text re-checks its stored function names
// without parsing again.
//
// Cost per call, measured with `npm run bench:classify` (bench/classify.ts) on the 2-core dev
// machine (AMD EPYC, Node 20.20, libpg-query 18.1.5, load average ~6 from other work, so
// ranges over three runs):
//   miss (parse + walk + oracle): pgbench's SELECT/UPDATE (52-67 bytes) 7-20 µs, a join with
//     aggregates (174 bytes) 29-74 µs, a 40-column ORM SELECT (1.2 KB) 90-240 µs; nearly all of
//     it is libpg_query itself (parseSync alone costs the same: the tree crosses from wasm as
//     JSON text and is JSON.parse'd);
//   hit on a fresh string (as decoded from each Query/Parse message): 11-33 ns for the short
//     statements, 60-155 ns for the 1.2 KB one (V8 hashes the new string's text once);
//   hit on the same string object: 7-27 ns.
// So the cache, not the parser, is what the per-message path pays: 1000x cheaper than a parse.

import { analyze, type Facts, type FunctionName } from "./analyze.js";
import type { Effect, RouteSetting } from "./effect.js";
import type { RouteHint } from "./hint.js";
import { loadParser, parserLoaded } from "./parser.js";
import { shapeOf } from "./shape.js";
import { shapeBytes } from "./shape-bytes.js";
import { unknownVolatility, type Volatility, type VolatilityOracle } from "./volatility.js";

/** A function the verdict asked the oracle about, with its answer. */
export interface CheckedFunction extends FunctionName {
  readonly volatility: Volatility;
}

/** The classification of one statement string (one or several statements). Frozen. */
export interface Classification {
  /** true: send to the primary. Includes the leading comment hint. */
  readonly write: boolean;
  /**
   * true when no hint or session setting may send the text to a standby: it writes (DML, DDL,
   * SELECT INTO, COPY FROM ...), locks rows or objects, calls a function known to write
   * (nextval, setval, advisory locks), needs a read-write or serializable transaction, or could
   * not be parsed. Volatile or unknown functions alone don't set it: a standby refuses any real
   * write anyway, so the user's hint may overrule the oracle.
   */
  readonly hardWrite: boolean;
  /** Short reason for logs and SHOW: "SELECT", "INSERT", "FOR UPDATE", "volatile function random()". */
  readonly reason: string;
  /** The leading comment hint, if any. */
  readonly hint: RouteHint | undefined;
  /** false when the text could not be parsed (then write and hardWrite are true, effects empty). */
  readonly parsed: boolean;
  /** Number of statements in the text (0 for an empty query). */
  readonly statements: number;
  /** Functions the oracle was asked about, with its answers (empty when hardWrite). */
  readonly functions: readonly CheckedFunction[];
  /** Session and transaction effects of each statement, in order. */
  readonly effects: readonly Effect[];
}

/**
 * Whether a statement goes to the primary given the session's `SET dbmesh.route`. A comment
 * hint is more specific and wins over the session setting; writes win over both.
 */
export function wantsPrimary(c: Classification, session: RouteSetting): boolean {
  if (session === "auto" || c.hint !== undefined) return c.write;
  return session === "primary" || c.hardWrite;
}

function display(f: FunctionName): string {
  return f.schema === undefined ? `${f.name}()` : `${f.schema}.${f.name}()`;
}

function ask(oracle: VolatilityOracle, f: FunctionName): Volatility {
  try {
    return oracle(f.schema, f.name);
  } catch {
    return "unknown";
  }
}

/** Facts plus the oracle's answers, with the hint applied. */
export function verdict(f: Facts, oracle: VolatilityOracle): Classification {
  let write = false;
  let hardWrite = false;
  let reason = f.readReason;
  const functions: CheckedFunction[] = [];
  if (f.hardReason !== undefined) {
    write = hardWrite = true;
    reason = f.hardReason;
  } else {
    if (f.softReason !== undefined) {
      write = true;
      reason = f.softReason;
    }
    for (const fn of f.functions) {
      const volatility = ask(oracle, fn);
      functions.push(Object.freeze({ schema: fn.schema, name: fn.name, volatility }));
      if (!write && (volatility === "volatile" || volatility === "unknown")) {
        write = true;
        reason = `${volatility} function ${display(fn)}`;
      }
    }
  }
  if (f.hint === "primary" && !write) {
    write = true;
    reason = "hint primary";
  } else if (f.hint === "standby" && write && !hardWrite) {
    write = false;
    reason = `hint standby over ${reason}`;
  }
  return Object.freeze({
    write,
    hardWrite,
    reason,
    hint: f.hint,
    parsed: f.parsed,
    statements: f.statements,
    functions: Object.freeze(functions),
    effects: f.effects,
  });
}

export interface ClassifierOptions {
  /** Function volatility; default: every function unknown, so any call goes to the primary. */
  readonly oracle?: VolatilityOracle;
  /** Cached statement texts at most; default 10,000. */
  readonly maxEntries?: number;
  /** Cached text in characters at most, over all entries; default 8 Mi (16 MiB as UTF-16). */
  readonly maxCachedChars?: number;
  /** Longer texts are classified but not cached (bulk INSERTs rarely repeat); default 16 Ki. */
  readonly maxTextLength?: number;
}

interface Entry {
  readonly facts: Facts;
  result: Classification;
  generation: number;
}

/** A cache key (an ASCII text or shape) as bytes, chained by hash. */
interface ByteKey {
  readonly bytes: Buffer;
  /** The same key as the string maps have it. */
  readonly key: string;
  readonly entry: Entry;
  readonly next: ByteKey | undefined;
}

/** FNV-1a over b[start, end). */
function hashBytes(b: Buffer, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h;
}

function findBytes(
  map: Map<number, ByteKey>,
  hash: number,
  b: Buffer,
  start: number,
  end: number,
): ByteKey | undefined {
  for (let k = map.get(hash); k !== undefined; k = k.next) {
    if (sameBytes(k.bytes, b, start, end)) return k;
  }
  return undefined;
}

/** Whether `bytes` equals b[start, end). A loop: keys are short, Buffer.compare is a native call. */
function sameBytes(bytes: Buffer, b: Buffer, start: number, end: number): boolean {
  if (bytes.length !== end - start) return false;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== b[start + i]) return false;
  return true;
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) return false;
  return true;
}

/**
 * Classifies statement texts, caching by text. The cache is two generations of at most half the
 * bound each: lookups hit the young one, or move an entry up from the old one; when the young one
 * is full it becomes the old one and the old one is dropped. Close to LRU with no bookkeeping on
 * a hit.
 */
export class Classifier {
  private oracle: VolatilityOracle;
  private generation = 0;
  private young = new Map<string, Entry>();
  private old = new Map<string, Entry>();
  // The ASCII keys of `young` and `old` as bytes, by hash, rotated and promoted with them: a
  // Query message's text is looked up without decoding it (classifyUtf8).
  private byteYoung = new Map<number, ByteKey>();
  private byteOld = new Map<number, ByteKey>();
  private readonly scratch: Buffer;
  private youngChars = 0;
  private readonly half: number;
  private readonly halfChars: number;
  private readonly maxTextLength: number;

  /** Call loadParser() first (createClassifier does). */
  constructor(options: ClassifierOptions = {}) {
    if (!parserLoaded()) throw new Error("the SQL parser is not loaded: await loadParser() first");
    this.oracle = options.oracle ?? unknownVolatility;
    this.half = Math.max(1, Math.floor((options.maxEntries ?? 10_000) / 2));
    this.halfChars = Math.max(1, Math.floor((options.maxCachedChars ?? 8 * 1024 * 1024) / 2));
    this.maxTextLength = options.maxTextLength ?? 16 * 1024;
    // A shape is at most twice its text plus the marker (a one-character literal becomes two).
    this.scratch = Buffer.allocUnsafe(2 * this.maxTextLength + 1);
  }

  /**
   * classify() of the UTF-8 text src[start, end) (a Query message's), the same answer: the bytes
   * are looked up as the text, then as its shape, among the ASCII keys of the cache, without
   * decoding or building strings (two short hash loops instead of a decode, a shape string and
   * two string hashes: about 1 µs less per message). Undefined when the text is not ASCII or
   * holds NUL or the marker: then the caller decodes it and calls classify().
   */
  classifyUtf8(src: Buffer, start: number, end: number): Classification | undefined {
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) {
      const c = src[i]!;
      if (c >= 0x80 || c <= 0x01) return undefined;
      h = Math.imul(h ^ c, 0x01000193);
    }
    let e = this.lookupBytes(h, src, start, end);
    if (e === undefined && end - start <= this.maxTextLength) {
      const n = shapeBytes(src, start, end, this.scratch);
      if (n >= 0) e = this.lookupBytes(hashBytes(this.scratch, 0, n), this.scratch, 0, n);
    }
    if (e === undefined) return this.classify(src.toString("latin1", start, end));
    if (e.generation !== this.generation) {
      e.result = verdict(e.facts, this.oracle);
      e.generation = this.generation;
    }
    return e.result;
  }

  /** lookup() of the key whose bytes are b[start, end), by `hash`. */
  private lookupBytes(hash: number, b: Buffer, start: number, end: number): Entry | undefined {
    const k = findBytes(this.byteYoung, hash, b, start, end);
    if (k !== undefined) return k.entry;
    const o = findBytes(this.byteOld, hash, b, start, end);
    // In the old generation: lookup() moves it up, in both key kinds.
    return o === undefined ? undefined : this.lookup(o.key);
  }

  /** The classification of a Query message's text or a Parse message's statement. */
  classify(text: string): Classification {
    // Shape keys start with the marker: a text that does is never looked up (nor cached).
    if (text.charCodeAt(0) === 1) return verdict(analyze(text), this.oracle);
    let e = this.lookup(text);
    if (e === undefined) {
      // Statements that differ only in literal values (the simple protocol inlines them) share
      // an entry under their shape, when they have no session effects.
      const shape = text.length <= this.maxTextLength ? shapeOf(text) : undefined;
      e = shape === undefined ? undefined : this.lookup(shape);
      if (e === undefined) return this.miss(text, shape);
    }
    if (e.generation !== this.generation) {
      e.result = verdict(e.facts, this.oracle);
      e.generation = this.generation;
    }
    return e.result;
  }

  private lookup(key: string): Entry | undefined {
    let e = this.young.get(key);
    if (e === undefined) {
      e = this.old.get(key);
      if (e === undefined) return undefined;
      this.old.delete(key);
      this.remember(key, e);
    }
    return e;
  }

  /** Replaces the oracle (pg_proc reloaded); cached texts are re-checked on their next lookup. */
  setOracle(oracle: VolatilityOracle): void {
    this.oracle = oracle;
    this.invalidate();
  }

  /** The oracle's answers changed: re-check every cached text's functions on its next lookup. */
  invalidate(): void {
    this.generation++;
  }

  /** Number of cached texts. */
  get size(): number {
    return this.young.size + this.old.size;
  }

  clear(): void {
    this.young = new Map();
    this.old = new Map();
    this.byteYoung = new Map();
    this.byteOld = new Map();
    this.youngChars = 0;
  }

  private miss(text: string, shape: string | undefined): Classification {
    const facts = analyze(text);
    const e: Entry = { facts, result: verdict(facts, this.oracle), generation: this.generation };
    if (text.length > this.maxTextLength || facts.transient) return e.result;
    this.remember(shape !== undefined && facts.parsed && !facts.effects.length ? shape : text, e);
    return e.result;
  }

  private remember(text: string, e: Entry): void {
    if (this.young.size >= this.half || this.youngChars + text.length > this.halfChars) {
      this.old = this.young;
      this.young = new Map();
      this.byteOld = this.byteYoung;
      this.byteYoung = new Map();
      this.youngChars = 0;
    }
    this.young.set(text, e);
    this.youngChars += text.length;
    if (isAscii(text)) {
      const bytes = Buffer.from(text, "latin1");
      const hash = hashBytes(bytes, 0, bytes.length);
      const next = this.byteYoung.get(hash);
      this.byteYoung.set(hash, { bytes, key: text, entry: e, next });
    }
  }
}

/** Loads the parser and returns a classifier. */
export async function createClassifier(options: ClassifierOptions = {}): Promise<Classifier> {
  await loadParser();
  return new Classifier(options);
}

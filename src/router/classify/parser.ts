// PostgreSQL's parser (libpg_query compiled to wasm), kept usable after a bad input.
// A deep enough tree (SELECT -1 + -1 + ... with ~10,000 terms) exhausts the JS stack inside the
// wasm code; the RangeError unwinds past C frames that never restore the wasm stack pointer or
// PostgreSQL's memory contexts, and every later call fails ("memory access out of bounds").
// So after any error that is not the parser's own SqlError, the instance is dropped for a spare
// one loaded beforehand, and a new spare loads in the background. libpg-query instantiates its
// module when its index.cjs is evaluated, so a fresh instance is a fresh require of it.

import { createRequire } from "node:module";
import type { ParseResult, ScanResult } from "libpg-query";

type Api = typeof import("libpg-query");

const require = createRequire(import.meta.url);

async function instance(): Promise<Api> {
  const path = require.resolve("libpg-query");
  const old = require.cache[path];
  if (old !== undefined) {
    delete require.cache[path];
    // the requiring module lists what it loaded: drop the old one so it can be collected
    const siblings = old.parent?.children;
    siblings?.splice(siblings.indexOf(old) >>> 0, 1);
  }
  const api = require("libpg-query") as Api;
  await api.loadModule();
  return api;
}

let current: Api | undefined;
let spare: Api | undefined;
let loadingSpare: Promise<void> | undefined;

function loadSpare(): Promise<void> {
  loadingSpare ??= instance().then(
    (api) => {
      spare = api;
      loadingSpare = undefined;
    },
    () => {
      loadingSpare = undefined;
    },
  );
  return loadingSpare;
}

/** Loads the parser (and its spare) once; parse() and scan() are synchronous after that. */
export async function loadParser(): Promise<void> {
  current ??= await instance();
  if (spare === undefined) await loadSpare();
}

export function parserLoaded(): boolean {
  return current !== undefined;
}

let replacements = 0;

/** How many times a parser instance was dropped after an abnormal error (for tests and metrics). */
export function parserReplacements(): number {
  return replacements;
}

function use<T>(call: (api: Api) => T, expected: (e: unknown, api: Api) => boolean): T {
  const api = current;
  if (api === undefined) {
    throw new Error(
      replacements > 0
        ? "the SQL parser is reloading after a failure"
        : "the SQL parser is not loaded: await loadParser() first",
    );
  }
  try {
    return call(api);
  } catch (e) {
    if (!expected(e, api)) {
      // the instance may be corrupt: never use it again
      current = spare;
      spare = undefined;
      replacements++;
      void loadSpare().then(() => {
        if (current === undefined) {
          current = spare;
          spare = undefined;
          void loadSpare();
        }
      });
    }
    throw e;
  }
}

/** The raw parse tree of one or more statements; throws SqlError on a syntax error. */
export function parse(text: string): ParseResult {
  return use(
    (api) => api.parseSync(text),
    (e, api) => e instanceof api.SqlError,
  );
}

/** The tokens of a text, comments included, with UTF-8 byte offsets. */
export function scan(text: string): ScanResult {
  return use(
    (api) => api.scanSync(text),
    // scanSync reports a lexer error as a plain Error with the lexer's message
    (e) => e instanceof Error && /^(syntax error|ERROR)/.test(e.message),
  );
}

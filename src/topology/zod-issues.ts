import type { z } from "zod";
import type { TopologyIssue } from "./topology-error.js";
import type { YamlSource } from "./yaml-source.js";

/** Turns schema validation issues into positioned issues with what was expected and a hint. */
export function schemaIssues(
  source: YamlSource,
  schema: z.ZodType,
  issues: readonly z.core.$ZodIssue[],
): TopologyIssue[] {
  return issues.flatMap((issue): TopologyIssue[] => {
    const path = issue.path;
    const where = path.length ? path.join(".") : "the file";
    switch (issue.code) {
      case "unrecognized_keys": {
        const known = knownKeys(schema, path);
        return issue.keys.map((k) => {
          const close = closest(k, known);
          return {
            at: source.positionOf([...path, k], true),
            message: `unknown key "${k}" in ${where}`,
            expected: known.length ? `one of ${known.join(", ")}` : "no key here",
            hint: close ? `did you mean "${close}"?` : "remove it; `dbmesh schema` lists every key",
          };
        });
      }
      case "invalid_type":
        if (issue.input === undefined) {
          return [
            {
              at: source.positionOf(path.slice(0, -1)),
              message: `missing required key "${String(path.at(-1))}" in ${path.slice(0, -1).join(".") || "the file"}`,
              expected: issue.expected,
              hint: `add ${String(path.at(-1))}: …`,
            },
          ];
        }
        return [
          {
            at: source.positionOf(path),
            message: `wrong type at ${where}`,
            expected: issue.expected,
            hint: `got ${String(path.at(-1)) === "password" ? "a value that is not a reference (not shown)" : describe(issue.input)}`,
          },
        ];
      case "invalid_value":
        return [
          {
            at: source.positionOf(path),
            message: `invalid value at ${where}`,
            expected: `one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`,
          },
        ];
      default:
        return [
          {
            at: source.positionOf(path),
            message: `invalid value at ${where}`,
            expected: issue.message.replace(/^Invalid input: /, ""),
          },
        ];
    }
  });
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** Keys the schema allows for the object at `path`. */
function knownKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let s: unknown = schema;
  const unwrap = () => {
    for (;;) {
      const def = (s as { _zod?: { def?: { type: string; innerType?: unknown } } })._zod?.def;
      if (def && (def.type === "default" || def.type === "optional" || def.type === "pipe")) {
        s = def.innerType ?? (def as unknown as { in: unknown }).in;
      } else return def;
    }
  };
  for (const _step of path) {
    const def = unwrap() as
      | { type: string; shape?: Record<string, unknown>; valueType?: unknown; element?: unknown }
      | undefined;
    if (!def) return [];
    if (def.type === "object") s = def.shape?.[String(_step)];
    else if (def.type === "record") s = def.valueType;
    else if (def.type === "array") s = def.element;
    else return [];
  }
  const def = unwrap() as { type: string; shape?: Record<string, unknown> } | undefined;
  return def?.type === "object" && def.shape ? Object.keys(def.shape) : [];
}

/** The known key within edit distance 2, if any. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

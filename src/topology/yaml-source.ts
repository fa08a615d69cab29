import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, visit } from "yaml";
import type { Position } from "./model.js";
import type { TopologyIssue } from "./topology-error.js";

/** A parsed YAML file that can say where any path of it was written. */
export interface YamlSource {
  readonly value: unknown;
  readonly issues: readonly TopologyIssue[];
  /** Position of the value at `path`, or of its key when `key` is set. */
  positionOf(path: readonly PropertyKey[], key?: boolean): Position | undefined;
}

export function parseYaml(file: string, text: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const at = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, col };
  };
  const issues: TopologyIssue[] = doc.errors.map((e) => ({
    at: at(e.pos[0]),
    message:
      e.code === "DUPLICATE_KEY"
        ? "duplicate key: every name must be unique"
        : firstLine(e.message),
    expected: e.code === "DUPLICATE_KEY" ? "a name used once" : "valid YAML",
    hint:
      e.code === "DUPLICATE_KEY"
        ? "rename or merge the two entries"
        : "check indentation and quoting near this line",
  }));
  // YAML tells 1 and "1" apart, but as names they are the same string and the second would
  // silently replace the first (a list shard lost, a node merged away): report it as a duplicate.
  if (!issues.length) {
    visit(doc, {
      Map(_, map) {
        const seen = new Map<string, unknown>();
        for (const p of map.items) {
          if (!isScalar(p.key)) continue;
          const k = String(p.key.value);
          if (seen.has(k) && seen.get(k) !== p.key.value && p.key.range) {
            issues.push({
              at: at(p.key.range[0]),
              message: `duplicate key: ${JSON.stringify(seen.get(k))} and ${JSON.stringify(p.key.value)} are the same name`,
              expected: "a name used once",
              hint: "rename or merge the two entries",
            });
          }
          seen.set(k, p.key.value);
        }
      },
    });
  }

  function positionOf(path: readonly PropertyKey[], key = false): Position | undefined {
    let node: unknown = doc.contents;
    let keyNode: unknown;
    for (const step of path) {
      keyNode = undefined;
      if (isMap(node)) {
        const pair = node.items.find(
          (p) => isScalar(p.key) && String(p.key.value) === String(step),
        );
        if (!pair) break;
        keyNode = pair.key;
        node = pair.value;
      } else if (isSeq(node) && typeof step === "number") {
        node = node.items[step];
      } else break;
    }
    const target = (key && keyNode) || node || keyNode;
    const range = (target as Node | undefined)?.range;
    return range ? at(range[0]) : undefined;
  }

  return { value: issues.length ? undefined : doc.toJS(), issues, positionOf };
}

function firstLine(s: string): string {
  return s.split("\n")[0] ?? s;
}

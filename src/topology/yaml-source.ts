import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
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

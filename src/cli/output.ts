import { formatIssue, type TopologyError } from "../topology/index.js";

/** Where a command writes: text for people, or one JSON document with --json. */
export interface Output {
  readonly json: boolean;
  /** Prints a line of text (nothing under --json, nothing for undefined). */
  line(text: string | undefined): void;
  data(value: unknown): void;
}

export function makeOutput(json: boolean): Output {
  return {
    json,
    line: (text) => {
      if (!json && text !== undefined) process.stdout.write(`${text}\n`);
    },
    data: (value) => {
      if (json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    },
  };
}

export function topologyErrorText(e: TopologyError): string {
  return `error: the topology file cannot be used\n${e.issues.map(formatIssue).join("\n")}`;
}

import {
  formatPosition,
  parseTopology,
  TopologyError,
  type TopologyIssue,
} from "../topology/index.js";

/** An issue as the user reads it: position as file:line:col, message, expected, hint. */
export interface ShownIssue {
  at: string;
  message: string;
  expected: string | undefined;
  hint: string | undefined;
}

function shownIssue(i: TopologyIssue): ShownIssue {
  return { at: formatPosition(i.at), message: i.message, expected: i.expected, hint: i.hint };
}

/** Every issue parseTopology reports for `text`; throws if the file loads. */
export function issuesOf(text: string, file = "/mesh/dbmesh.yaml"): ShownIssue[] {
  try {
    parseTopology(file, text);
  } catch (e) {
    if (e instanceof TopologyError) return e.issues.map(shownIssue);
    throw e;
  }
  throw new Error("expected a TopologyError");
}

import { formatPosition, type Position } from "./model.js";

/** One problem in a topology file: where, what is wrong, what was expected, how to fix it. */
export interface TopologyIssue {
  readonly at: Position | undefined;
  readonly message: string;
  readonly expected?: string;
  readonly hint?: string;
}

/** The file cannot be used. Carries every issue found, each with its position. */
export class TopologyError extends Error {
  readonly kind = "topology" as const;
  constructor(readonly issues: readonly TopologyIssue[]) {
    super(issues.map(formatIssue).join("\n"));
    this.name = "TopologyError";
  }
}

export function formatIssue(issue: TopologyIssue): string {
  const where = formatPosition(issue.at);
  const lines = [`${where ? `${where}: ` : ""}${issue.message}`];
  if (issue.expected) lines.push(`  expected: ${issue.expected}`);
  if (issue.hint) lines.push(`  hint: ${issue.hint}`);
  return lines.join("\n");
}

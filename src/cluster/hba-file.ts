import type { HbaLine } from "../pgadmin/step.js";
import { ClusterError } from "./cluster-error.js";

export type { HbaLine };

export const HBA_HEADER = "# managed by dbmesh: edit the topology file, not this file";

function invalid(problem: string): ClusterError {
  return new ClusterError({
    kind: "config-invalid",
    problem: `invalid pg_hba.conf line: ${problem}`,
    hint: "fix the access rule in the topology file",
  });
}

/**
 * pg_hba.conf fields are separated by whitespace; double quotes protect whitespace, commas and
 * keywords inside a token, and "#" outside quotes starts a comment. A record cannot span lines
 * (except with a trailing backslash, PostgreSQL 16+).
 * https://www.postgresql.org/docs/current/auth-pg-hba-conf.html
 */
function checkToken(field: string, token: string): void {
  if (token === "") throw invalid(`${field} is empty`);
  let quoted = false;
  for (const ch of token) {
    if (ch === "\n" || ch === "\r")
      throw invalid(`${field} ${JSON.stringify(token)} has a newline`);
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === "#" || /\s/.test(ch))) {
      throw invalid(
        `${field} ${JSON.stringify(token)} has ${ch === "#" ? 'an unquoted "#"' : "unquoted whitespace"}; double-quote it`,
      );
    }
  }
  if (quoted) throw invalid(`${field} ${JSON.stringify(token)} has an unterminated double quote`);
  if (token.endsWith("\\"))
    throw invalid(`${field} ${JSON.stringify(token)} ends with a backslash`);
}

function columns(line: HbaLine): string[] {
  checkToken("database", line.database);
  checkToken("user", line.user);
  if (line.type === "local") {
    if (line.address !== undefined) throw invalid("local lines take no address");
    return [line.type, line.database, line.user, "", line.method];
  }
  if (line.address === undefined) throw invalid(`${line.type} lines need an address`);
  if (line.address === "" || /[\s#"]/.test(line.address)) {
    throw invalid(`address ${JSON.stringify(line.address)} is not a single CIDR token`);
  }
  return [line.type, line.database, line.user, line.address, line.method];
}

/** The whole pg_hba.conf text: header comment, then one aligned record per line. */
export function renderHba(lines: readonly HbaLine[]): string {
  const header = ["# TYPE", "DATABASE", "USER", "ADDRESS", "METHOD"];
  const rows = lines.map(columns);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const format = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  const out = [HBA_HEADER, "", format(header)];
  lines.forEach((line, i) => {
    if (line.comment !== undefined) {
      for (const c of line.comment.split(/\r?\n|\r/)) out.push(c === "" ? "#" : `# ${c}`);
    }
    out.push(format(rows[i] ?? []));
  });
  return `${out.join("\n")}\n`;
}

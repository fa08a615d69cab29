// A routing hint is a word in the comments before the first token: `/* dbmesh:primary */`,
// `/* dbmesh:standby */` or `-- dbmesh:primary`. Comments later in the text are not hints, so a
// hint can't be smuggled in through a literal or an ORM's trailing tag.
// Block comments nest in PostgreSQL: https://www.postgresql.org/docs/17/sql-syntax-lexical.html#SQL-SYNTAX-COMMENTS

/** Where a leading comment hint sends the statement. */
export type RouteHint = "primary" | "standby";

const hintWord = /\bdbmesh:(primary|standby)\b/g;

function hintIn(comment: string, found: RouteHint | undefined): RouteHint | undefined {
  if (!comment.includes("dbmesh:")) return found;
  for (const m of comment.matchAll(hintWord)) {
    // primary wins over standby when a text carries both
    if (m[1] === "primary") return "primary";
    found = "standby";
  }
  return found;
}

/** The hint in the comments that lead `text`, if any. */
export function leadingHint(text: string): RouteHint | undefined {
  let found: RouteHint | undefined;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0c) {
      i++;
    } else if (c === 0x2d && text.charCodeAt(i + 1) === 0x2d) {
      // -- to end of line
      const eol = text.indexOf("\n", i + 2);
      const end = eol < 0 ? n : eol;
      found = hintIn(text.slice(i + 2, end), found);
      i = end;
    } else if (c === 0x2f && text.charCodeAt(i + 1) === 0x2a) {
      // /* ... */, nesting
      let depth = 1;
      let j = i + 2;
      while (j < n && depth > 0) {
        if (text.charCodeAt(j) === 0x2f && text.charCodeAt(j + 1) === 0x2a) {
          depth++;
          j += 2;
        } else if (text.charCodeAt(j) === 0x2a && text.charCodeAt(j + 1) === 0x2f) {
          depth--;
          j += 2;
        } else {
          j++;
        }
      }
      // an unterminated comment is a syntax error: no hint from it
      if (depth > 0) return found;
      found = hintIn(text.slice(i + 2, j - 2), found);
      i = j;
    } else {
      break;
    }
  }
  return found;
}

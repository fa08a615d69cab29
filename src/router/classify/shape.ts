// The shape of a statement text: the text with its number and simple string literals replaced
// by a marker, so that `SELECT abalance FROM pgbench_accounts WHERE aid = 4711` and `... = 815`
// share one cache entry. Literal values never change where a statement without session effects
// goes (effects — SET values, set_config arguments, advisory lock keys — are cached by exact
// text instead). The scan gives up (undefined) on anything whose literal boundaries it cannot
// be sure of as PostgreSQL's lexer sees them: backslashes, E'' / U&'' / B'' / X'' strings, dollar
// quotes, and the marker character itself (a text that holds it is never cached). https://www.postgresql.org/docs/17/sql-syntax-lexical.html

const MARK = "\u0001";

export function isIdentChar(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x39) || // 0-9
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x61 && c <= 0x7a) || // a-z
    c === 0x5f || // _
    c === 0x24 || // $
    c >= 0x80
  );
}

export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** The text with literals replaced; undefined when it has none or it is not safe to say. */
export function shapeOf(text: string): string | undefined {
  const n = text.length;
  let out = "";
  let from = 0; // text[from, i) is still to be copied
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x5c || c === 0x01) return undefined; // backslash, or the marker itself
    if (c === 0x2d && text.charCodeAt(i + 1) === 0x2d) {
      // -- comment: kept as it is (hints live in comments)
      const end = text.indexOf("\n", i);
      i = end < 0 ? n : end + 1;
    } else if (c === 0x2f && text.charCodeAt(i + 1) === 0x2a) {
      // /* comment */, nested as PostgreSQL allows
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (text.charCodeAt(i) === 0x2f && text.charCodeAt(i + 1) === 0x2a) {
          depth++;
          i += 2;
        } else if (text.charCodeAt(i) === 0x2a && text.charCodeAt(i + 1) === 0x2f) {
          depth--;
          i += 2;
        } else i++;
      }
      if (depth > 0) return undefined;
    } else if (c === 0x22) {
      // "quoted identifier": kept
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) return undefined;
        i = q + 1;
        if (text.charCodeAt(i) !== 0x22) break;
        i++;
      }
    } else if (c === 0x27) {
      // 'string' with '' for a quote; a letter right before it makes it E'', B'', X'' or U&''
      if (i > 0 && isIdentChar(text.charCodeAt(i - 1))) return undefined;
      let j = i + 1;
      for (;;) {
        const q = text.indexOf("'", j);
        if (q < 0) return undefined;
        j = q + 1;
        if (text.charCodeAt(j) !== 0x27) break;
        j++;
      }
      if (text.slice(i, j).includes("\\")) return undefined;
      out += `${text.slice(from, i)}${MARK}s`;
      i = from = j;
    } else if (c === 0x24) {
      // $1 parameters are kept; anything else may open a dollar quote
      if (!isDigit(text.charCodeAt(i + 1))) return undefined;
      i++;
      while (i < n && isDigit(text.charCodeAt(i))) i++;
    } else if (isIdentChar(c) && !isDigit(c)) {
      // identifier or keyword, digits included
      i++;
      while (i < n && isIdentChar(text.charCodeAt(i))) i++;
    } else if (isDigit(c) || (c === 0x2e && isDigit(text.charCodeAt(i + 1)))) {
      // number: digits, fraction, exponent; anything glued to it (0x1F, 1_000, 1e) gives up
      let j = i;
      while (j < n && isDigit(text.charCodeAt(j))) j++;
      if (text.charCodeAt(j) === 0x2e) {
        j++;
        while (j < n && isDigit(text.charCodeAt(j))) j++;
      }
      if (text.charCodeAt(j) === 0x65 || text.charCodeAt(j) === 0x45) {
        j++;
        if (text.charCodeAt(j) === 0x2b || text.charCodeAt(j) === 0x2d) j++;
        if (!isDigit(text.charCodeAt(j))) return undefined;
        while (j < n && isDigit(text.charCodeAt(j))) j++;
      }
      if (j < n && (isIdentChar(text.charCodeAt(j)) || text.charCodeAt(j) === 0x2e)) {
        return undefined;
      }
      out += `${text.slice(from, i)}${MARK}n`;
      i = from = j;
    } else i++;
  }
  // No literal: the text is its own key. A shape starts with the marker, so it never equals a
  // statement text that is cached as is.
  return from === 0 ? undefined : `${MARK}${out}${text.slice(from)}`;
}

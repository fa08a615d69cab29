// SASLprep (RFC 4013) of a SCRAM password, as PostgreSQL applies it (src/common/saslprep.c):
// ASCII passwords are used as they are; otherwise non-ASCII spaces map to U+0020, the
// "commonly mapped to nothing" characters are removed, the result is NFKC-normalised, and if it
// holds a prohibited character the original password is used unchanged, as PostgreSQL does.
// The bidirectional-text rule (RFC 3454 section 6) is not checked: JavaScript regular
// expressions have no Bidi_Class property.

// RFC 3454 table C.1.2: non-ASCII space characters.
const nonAsciiSpace = /[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/gu;
// RFC 3454 table B.1: characters commonly mapped to nothing.
const mappedToNothing = /[\u00AD\u034F\u1806\u180B-\u180D\u200B-\u200D\u2060\uFE00-\uFE0F\uFEFF]/gu;
// RFC 3454 tables C.1.2, C.2.1, C.2.2, C.3, C.4, C.5, C.6, C.7, C.8, C.9.
const prohibited =
  /[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000\u0000-\u001F\u007F\u0080-\u009F\u06DD\u070F\u180E\u200C-\u200F\u2028-\u202E\u2060-\u2063\u206A-\u206F\uFEFF\uFFF9-\uFFFD\u2FF0-\u2FFB\u0340\u0341\uE000-\uF8FF\uFDD0-\uFDEF\uFFFE\uFFFF\u{1D173}-\u{1D17A}\u{F0000}-\u{FFFFD}\u{100000}-\u{10FFFD}\u{E0001}\u{E0020}-\u{E007F}\u{1FFFE}\u{1FFFF}\u{2FFFE}\u{2FFFF}\u{3FFFE}\u{3FFFF}\u{4FFFE}\u{4FFFF}\u{5FFFE}\u{5FFFF}\u{6FFFE}\u{6FFFF}\u{7FFFE}\u{7FFFF}\u{8FFFE}\u{8FFFF}\u{9FFFE}\u{9FFFF}\u{AFFFE}\u{AFFFF}\u{BFFFE}\u{BFFFF}\u{CFFFE}\u{CFFFF}\u{DFFFE}\u{DFFFF}\u{EFFFE}\u{EFFFF}\uD800-\uDFFF]/u;

export function saslprep(password: string): string {
  if (/^[\x00-\x7F]*$/.test(password)) return password;
  const prepared = password
    .replace(nonAsciiSpace, " ")
    .replace(mappedToNothing, "")
    .normalize("NFKC");
  return prohibited.test(prepared) ? password : prepared;
}

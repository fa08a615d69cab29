// SASLprep (RFC 4013) of a SCRAM password, as PostgreSQL applies it (src/common/saslprep.c):
// ASCII passwords are used as they are; otherwise non-ASCII spaces map to U+0020, the
// "commonly mapped to nothing" characters are removed, the result is NFKC-normalised, and if it
// holds a prohibited character the original password is used unchanged, as PostgreSQL does.
// The bidirectional-text rule (RFC 3454 section 6) is not checked.

type Range = readonly [number, number];

// RFC 3454 table C.1.2: non-ASCII space characters.
const nonAsciiSpace: Range[] = [
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200b],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
];
// RFC 3454 table B.1: commonly mapped to nothing.
const mappedToNothing: Range[] = [
  [0xad, 0xad],
  [0x34f, 0x34f],
  [0x1806, 0x1806],
  [0x180b, 0x180d],
  [0x200b, 0x200d],
  [0x2060, 0x2060],
  [0xfe00, 0xfe0f],
  [0xfeff, 0xfeff],
];
// RFC 3454 tables C.1.2, C.2.1, C.2.2, C.3, C.4, C.5, C.6, C.7, C.8 and C.9.
const prohibited: Range[] = [
  ...nonAsciiSpace,
  [0x0, 0x1f],
  [0x7f, 0x9f],
  [0x6dd, 0x6dd],
  [0x70f, 0x70f],
  [0x180e, 0x180e],
  [0x200c, 0x200f],
  [0x2028, 0x202e],
  [0x2060, 0x2063],
  [0x206a, 0x206f],
  [0xfeff, 0xfeff],
  [0xfff9, 0xfffd],
  [0x1d173, 0x1d17a],
  [0xe000, 0xf8ff],
  [0xf0000, 0xffffd],
  [0x100000, 0x10fffd],
  [0xfdd0, 0xfdef],
  [0xd800, 0xdfff],
  [0x2ff0, 0x2ffb],
  [0x340, 0x341],
  [0xe0001, 0xe0001],
  [0xe0020, 0xe007f],
];

const within = (cp: number, ranges: readonly Range[]) =>
  ranges.some(([a, b]) => cp >= a && cp <= b);
/** U+xFFFE and U+xFFFF of every plane are non-characters (table C.4). */
const nonCharacter = (cp: number) => (cp & 0xfffe) === 0xfffe;

export function saslprep(password: string): string {
  const points = [...password].map((c) => c.codePointAt(0)!);
  if (points.every((cp) => cp < 0x80)) return password;
  const mapped = points
    .filter((cp) => !within(cp, mappedToNothing))
    .map((cp) => (within(cp, nonAsciiSpace) ? 0x20 : cp));
  const prepared = String.fromCodePoint(...mapped).normalize("NFKC");
  const bad = [...prepared].some((c) => {
    const cp = c.codePointAt(0)!;
    return within(cp, prohibited) || nonCharacter(cp);
  });
  return bad ? password : prepared;
}

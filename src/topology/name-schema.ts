import { z } from "zod";

/** A name from the file: a PostgreSQL identifier, quoted wherever it is used, never folded. */
export const name = z
  .string()
  .min(1)
  .refine((s) => ![...s].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f), {
    message: "a name without control characters",
  })
  .refine((s) => Buffer.byteLength(s) <= 63, {
    message: "expected at most 63 bytes: PostgreSQL truncates longer names",
  })
  .describe("A PostgreSQL identifier (1 to 63 bytes); it is quoted wherever it is used");

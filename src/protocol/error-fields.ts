/**
 * Field type letter of each ErrorResponse/NoticeResponse field PostgreSQL 17 defines, in the
 * order they are written. S, C and M are always present; V since 9.6.
 * https://www.postgresql.org/docs/17/protocol-error-fields.html
 */
export const errorFieldLetters = {
  severity: "S",
  severityNonLocalized: "V",
  code: "C",
  message: "M",
  detail: "D",
  hint: "H",
  position: "P",
  internalPosition: "p",
  internalQuery: "q",
  where: "W",
  schema: "s",
  table: "t",
  column: "c",
  dataType: "d",
  constraint: "n",
  file: "F",
  line: "L",
  routine: "R",
} as const;

export type ErrorFieldName = keyof typeof errorFieldLetters;

/** The fields of an ErrorResponse or NoticeResponse, by name; values as sent. */
export interface ErrorFieldValues {
  /** S: ERROR, FATAL, PANIC, WARNING, NOTICE, DEBUG, INFO or LOG, possibly localized. */
  severity: string;
  /** V: the severity, never localized. */
  severityNonLocalized?: string;
  /** C: the SQLSTATE. */
  code: string;
  /** M */
  message: string;
  /** D */
  detail?: string;
  /** H */
  hint?: string;
  /** P: 1-based character index into the query string. */
  position?: string;
  /** p */
  internalPosition?: string;
  /** q */
  internalQuery?: string;
  /** W */
  where?: string;
  /** s */
  schema?: string;
  /** t */
  table?: string;
  /** c */
  column?: string;
  /** d */
  dataType?: string;
  /** n */
  constraint?: string;
  /** F */
  file?: string;
  /** L */
  line?: string;
  /** R */
  routine?: string;
}

/** A decoded ErrorResponse or NoticeResponse. */
export interface ErrorFields extends ErrorFieldValues {
  /** Every field received, by its type letter, including letters this module does not know. */
  readonly fields: Readonly<Record<string, string>>;
}

/** What errorResponse/noticeResponse write: the named fields, then any other letters in `fields`. */
export interface ErrorFieldsInit extends ErrorFieldValues {
  readonly fields?: Readonly<Record<string, string>>;
}

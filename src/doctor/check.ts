/** One check's outcome. A failure carries its cause and the fix. */
export interface CheckResult {
  /** e.g. "reachable", "login", "hba", "extension", "link". */
  readonly check: string;
  /** What was checked, e.g. "postgre1" or "links[0] postgre2/db_postgre2 → postgre1/db_postgre1". */
  readonly subject: string;
  readonly ok: boolean;
  readonly detail: string;
  readonly cause?: string;
  readonly fix?: string;
  readonly ms?: number;
}

export function pass(check: string, subject: string, detail: string, ms?: number): CheckResult {
  return { check, subject, ok: true, detail, ms };
}

export function fail(
  check: string,
  subject: string,
  detail: string,
  cause: string,
  fix: string,
): CheckResult {
  return { check, subject, ok: false, detail, cause, fix };
}

export async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const v = await f();
  return [v, Math.round((performance.now() - t0) * 10) / 10];
}

/** A failure caused by an error: its message is the cause, its hint (or `fix`) the fix. */
export function failWith(
  check: string,
  subject: string,
  detail: string,
  e: unknown,
  fix: string,
): CheckResult {
  const err = e as { message?: string; hint?: string };
  return fail(check, subject, detail, err.message ?? String(e), err.hint ?? fix);
}

/**
 * Runs a probe in a transaction that is always rolled back, so what it creates (a probe foreign
 * table, SET ROLE) never outlives it on the shared admin session.
 */
export async function rolledBack<T>(
  s: { query(sql: string): Promise<unknown> },
  probe: () => Promise<T>,
): Promise<T> {
  await s.query("BEGIN");
  try {
    return await probe();
  } finally {
    await s.query("ROLLBACK");
  }
}

// Whether a standby can follow its upstream, judged from timelines as PostgreSQL does: the
// upstream's timeline history file lists, for each earlier timeline, the WAL position where
// it ended. A standby on an earlier timeline can follow only if it has not gone past that point.
// https://www.postgresql.org/docs/17/continuous-archiving.html#BACKUP-TIMELINES

export interface TimelineSwitch {
  readonly timeline: number;
  /** Where this timeline ended and the next began. */
  readonly switchpoint: string;
}

/** Where a server is: its timeline, WAL position, and the history of its timeline. */
export interface TimelinePosition {
  readonly timeline: number;
  /** Furthest WAL known: flushed on a primary, received or replayed on a standby. */
  readonly position: string | null;
  /** Contents of the server's newest timeline history file, null on timeline 1. */
  readonly history: string | null;
}

/** Parses a timeline history file: `parentTLI <tab> switchpoint <tab> reason` per line. */
export function parseHistory(text: string | null): TimelineSwitch[] {
  if (!text) return [];
  const out: TimelineSwitch[] = [];
  for (const line of text.split("\n")) {
    const m = /^\s*(\d+)\s+([0-9A-Fa-f]+\/[0-9A-Fa-f]+)/.exec(line);
    if (m) out.push({ timeline: Number(m[1]), switchpoint: m[2]!.toUpperCase() });
  }
  return out;
}

/** An LSN ("16/B374D848") as a number of bytes. */
export function lsnBytes(lsn: string): bigint {
  const [hi = "0", lo = "0"] = lsn.split("/");
  return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`);
}

/**
 * Why `standby` cannot stream from `upstream`, or undefined when it can. A standby that is
 * behind on the same timeline, or stopped before the point where its timeline ended in the
 * upstream's history, catches up; one that went further wrote WAL the upstream never had.
 */
export function divergence(
  standby: TimelinePosition,
  upstream: TimelinePosition,
  upstreamName: string,
): string | undefined {
  const at = standby.position ?? "0/0";
  if (standby.timeline > upstream.timeline) {
    return `it is on timeline ${standby.timeline}, newer than ${upstreamName}'s timeline ${upstream.timeline}`;
  }
  if (standby.timeline === upstream.timeline) {
    if (upstream.position && lsnBytes(at) > lsnBytes(upstream.position)) {
      return `it has WAL up to ${at} on timeline ${standby.timeline}, beyond ${upstreamName}'s ${upstream.position}`;
    }
    return undefined;
  }
  const ended = parseHistory(upstream.history).find((s) => s.timeline === standby.timeline);
  if (!ended) {
    return `its timeline ${standby.timeline} is not in the history of ${upstreamName}'s timeline ${upstream.timeline}`;
  }
  if (lsnBytes(at) > lsnBytes(ended.switchpoint)) {
    return `it has WAL up to ${at} on timeline ${standby.timeline}, but ${upstreamName} left that timeline at ${ended.switchpoint}`;
  }
  return undefined;
}

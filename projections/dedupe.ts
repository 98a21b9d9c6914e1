/**
 * Event-id dedupe (contract section 2): an event whose id was already applied is skipped, ids being
 * remembered for a window. The window is measured on the time each copy entered the log (Kafka's
 * message timestamp, `logMs`; the event time when there is none): a copy produced again within the
 * window is skipped, however old the event itself is. A rebuild reads the same timestamps from the
 * log, so it decides exactly as the live projector did.
 */

export const DEFAULT_DEDUPE_WINDOW_MS = 7 * 24 * 3600 * 1000;

export interface SeenIds {
  /** event id -> log time (ms) of its first application */
  ids: Map<string, number>;
  /** newest log time applied so far in the account */
  newestMs: number;
  /**
   * No time in `ids` is older than this (unset: not known yet). Lets a prune with nothing to forget
   * skip the walk over every id: a small round's commit pruned the account's whole window each time.
   */
  oldestMs?: number;
}

export function emptySeen(): SeenIds {
  return { ids: new Map(), newestMs: Number.NEGATIVE_INFINITY };
}

/**
 * Ids first applied before this are forgotten. Two windows back, not one: a copy read late from a
 * lagging topic can carry a log time well before the newest one seen, and must still be recognised.
 */
export function dedupeHorizon(seen: SeenIds, windowMs: number): number {
  return seen.newestMs - 2 * windowMs;
}

/** True when the id was first applied no more than a window before this copy entered the log. */
export function isDuplicate(seen: SeenIds, id: string, logMs: number, windowMs: number): boolean {
  const at = seen.ids.get(id);
  return at !== undefined && at >= logMs - windowMs;
}

/** Remembers an applied event. */
export function remember(seen: SeenIds, id: string, logMs: number): void {
  seen.ids.set(id, logMs);
  if (logMs > seen.newestMs) seen.newestMs = logMs;
  if (seen.oldestMs !== undefined && logMs < seen.oldestMs) seen.oldestMs = logMs;
}

/** Forgets ids older than the horizon; returns them so a store can forget them too. */
export function pruneSeen(seen: SeenIds, windowMs: number): string[] {
  const horizon = dedupeHorizon(seen, windowMs);
  if (seen.oldestMs !== undefined && seen.oldestMs >= horizon) return [];
  const pruned: string[] = [];
  let oldest = Number.POSITIVE_INFINITY;
  for (const [id, at] of seen.ids) {
    if (at < horizon) pruned.push(id);
    else if (at < oldest) oldest = at;
  }
  for (const id of pruned) seen.ids.delete(id);
  seen.oldestMs = oldest;
  return pruned;
}

/** The time a copy of an event entered the log, for the dedupe window. */
export function logTime(event: { timeMs: number; logMs?: number | undefined }): number {
  return event.logMs ?? event.timeMs;
}

/**
 * Event-id dedupe (contract section 2): an event whose id was already applied is skipped, ids being
 * remembered for a window. The window is measured in event time, not wall-clock time, so a rebuild
 * that replays months of history in minutes decides exactly as the live projector did.
 */

export const DEFAULT_DEDUPE_WINDOW_MS = 7 * 24 * 3600 * 1000;

export interface SeenIds {
  /** event id -> event time (ms) of its first application */
  ids: Map<string, number>;
  /** newest event time applied so far in the account */
  newestMs: number;
}

export function emptySeen(): SeenIds {
  return { ids: new Map(), newestMs: Number.NEGATIVE_INFINITY };
}

/** The oldest event time still remembered: ids first applied before it are forgotten. */
export function dedupeHorizon(seen: SeenIds, windowMs: number): number {
  return seen.newestMs - windowMs;
}

/**
 * True when the id was applied within the window. The check does not depend on when forgotten ids
 * are pruned, so pruning is only a memory matter.
 */
export function isDuplicate(seen: SeenIds, id: string, windowMs: number): boolean {
  const at = seen.ids.get(id);
  return at !== undefined && at >= dedupeHorizon(seen, windowMs);
}

/** Remembers an applied event. */
export function remember(seen: SeenIds, id: string, timeMs: number): void {
  seen.ids.set(id, timeMs);
  if (timeMs > seen.newestMs) seen.newestMs = timeMs;
}

/** Forgets ids older than the window; returns them so a store can forget them too. */
export function pruneSeen(seen: SeenIds, windowMs: number): string[] {
  const horizon = dedupeHorizon(seen, windowMs);
  const pruned: string[] = [];
  for (const [id, at] of seen.ids) if (at < horizon) pruned.push(id);
  for (const id of pruned) seen.ids.delete(id);
  return pruned;
}

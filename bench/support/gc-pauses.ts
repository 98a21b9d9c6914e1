/**
 * The process's garbage collection pauses, as `PerformanceObserver` reports them: by kind (total ms
 * and count) and the longest, from the watch's start or its last `take`. The drain bench sums a
 * whole drain; a live projector's window (bench/support/live-pipeline.ts) takes one window at a time.
 */
import { constants, type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';

export type GcKind = 'minor' | 'major' | 'incremental' | 'weak';

export interface GcPauses {
  byKind: Record<GcKind, { ms: number; count: number }>;
  /** the longest single pause (ms) */
  maxMs: number;
}

const GC_KINDS: Record<number, GcKind> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak',
};

const none = (): GcPauses => ({ byKind: { minor: { ms: 0, count: 0 }, major: { ms: 0, count: 0 }, incremental: { ms: 0, count: 0 }, weak: { ms: 0, count: 0 } }, maxMs: 0 });

/** The total ms of every kind's pauses. */
export const gcTotalMs = (pauses: GcPauses): number => Object.values(pauses.byKind).reduce((ms, k) => ms + k.ms, 0);

export function watchGc(): { take: () => GcPauses; stop: () => GcPauses } {
  let pauses = none();
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = GC_KINDS[(entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? -1];
      if (kind === undefined) continue;
      pauses.byKind[kind].ms += entry.duration;
      pauses.byKind[kind].count += 1;
      pauses.maxMs = Math.max(pauses.maxMs, entry.duration);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const take = () => {
    const taken = pauses;
    pauses = none();
    return taken;
  };
  return {
    take,
    stop: () => {
      observer.disconnect();
      return take();
    },
  };
}

/**
 * The process's memory budget (ACCESS_INDEX_MEMORY_MB, decision 38). V8 lets its heap grow to up to
 * four times what survived the last full collection before it collects again (on a machine with
 * much memory its limit is 4 GiB): a projector whose live heap was a few hundred MiB sat at 1.6 GiB
 * resident, and a rebuild reached 3.3 GiB, mostly garbage not yet collected. After each full
 * collection this sets V8's heap growing factor (its `--heap-growing-percent` flag, which V8 reads at
 * every collection) so that the next collection comes before the process outgrows its budget; far
 * below it V8 keeps its own factor. Between collections it checks the heap in use every 100 ms and
 * collects at once when that has passed the budget (decision 69). What the process really keeps
 * alive (the account cache, rounds in flight) is bounded by the other budgets; this one bounds the
 * garbage.
 */
import { constants, type PerformanceEntry, performance, PerformanceObserver } from 'node:perf_hooks';
import * as v8 from 'node:v8';
import { runInNewContext } from 'node:vm';

/** V8's largest growing factor (4×), as a percent over the live heap. */
export const V8_MAX_GROWING_PERCENT = 300;
/** The least room left between collections: below it the process collects almost continuously. */
export const MIN_GROWING_PERCENT = 10;
/**
 * The least counted for Node's own memory outside the heap (the runtime, libuv, the allocator's
 * arenas) beside the buffers it reports: the resident memory outside the heap is counted when more.
 * On the full history the projector's was about 300 MiB (the allocator's heap 160 MiB, thread
 * arenas 100 MiB, the node binary 45 MiB).
 */
export const NATIVE_BYTES = 96 * 2 ** 20;
/** A warning that the budget is too small is repeated at most this often. */
const WARN_EVERY_MS = 10 * 60_000;
/** How often the heap in use is checked against the budget between V8's own collections. */
export const CHECK_EVERY_MS = 100;
/** The least time between two collections the budget forces (each stops the process for a moment). */
export const FORCE_AT_MOST_EVERY_MS = 2_000;

export interface HeapReading {
  /** heap bytes in use right after a full collection: what is alive */
  live: number;
  /** bytes outside V8's heap (buffers, Node's own): they count in the budget too */
  outsideHeap: number;
}

export interface GrowthDecision {
  /** V8's heap growing percent to set; 0 lets V8 choose (its default) */
  percent: number;
  /** what is alive already fills the budget: more collections cannot keep the process within it */
  over: boolean;
}

/**
 * The growing percent that keeps live × (1 + percent / 100) + outsideHeap within the budget: 0 (V8's
 * own choice) while even its largest factor fits, never less than MIN_GROWING_PERCENT.
 */
export function heapGrowth(reading: HeapReading, budgetBytes: number): GrowthDecision {
  const room = budgetBytes - reading.outsideHeap;
  const live = Math.max(reading.live, 1);
  if (live * (1 + V8_MAX_GROWING_PERCENT / 100) <= room) return { percent: 0, over: false };
  const percent = Math.floor((room / live - 1) * 100);
  // Below 4×, so below V8_MAX_GROWING_PERCENT: only the floor needs a bound.
  return { percent: Math.max(MIN_GROWING_PERCENT, percent), over: percent < MIN_GROWING_PERCENT };
}

/** What the process holds outside V8's heap: its resident memory outside the heap, at least the buffers and NATIVE_BYTES. */
export function outsideHeap(usage: NodeJS.MemoryUsage): number {
  return Math.max(usage.rss - usage.heapTotal, usage.external + NATIVE_BYTES);
}

/**
 * Whether to collect now: the heap in use (garbage included) and what lies outside it have passed
 * the budget, although what was alive at the last full collection fitted it. The growing factor
 * sets where V8 starts its next collection, but V8 marks concurrently and the process allocates on
 * until the marking ends: a process that makes garbage fast (the rebuild's verify step) passed its
 * limit by 100–150 MiB that way (decision 69). When what is alive fills the budget, a collection
 * cannot help (the warning says so).
 */
export function pastBudget(usage: NodeJS.MemoryUsage, last: HeapReading | undefined, budgetBytes: number): boolean {
  if (last && roomLeft(last, budgetBytes) <= 0) return false;
  return usage.heapUsed + outsideHeap(usage) > budgetBytes;
}

export interface MemoryBudgetDeps {
  /** what is alive does not fit the budget (at most every ten minutes) */
  warn?: (message: string, fields: Record<string, number>) => void;
  /** after each full collection */
  observe?: (reading: HeapReading, decision: GrowthDecision) => void;
  /** after each collection the budget forced (pastBudget) */
  forced?: () => void;
}

/**
 * Bytes left under the budget once what is alive and what lies outside the heap are counted: what
 * one more piece of work that holds memory for a while may take (negative: over the budget).
 */
export function roomLeft(reading: HeapReading, budgetBytes: number): number {
  return budgetBytes - reading.live - reading.outsideHeap;
}

export interface MemoryHold {
  /**
   * The room left under the budget after the last full collection (roomLeft); before the first,
   * the budget less the resident memory now (garbage counted as alive: the safe side).
   */
  room(): number;
  /** stops holding the process within the budget */
  release(): void;
}

/** Holds the process within `budgetBytes` from now on. */
export function holdMemoryBudget(budgetBytes: number, deps: MemoryBudgetDeps = {}): MemoryHold {
  let percent = 0;
  let warnedAt = -Infinity;
  let last: HeapReading | undefined;
  const observer = new PerformanceObserver((list) => {
    const major = list.getEntries().some((entry) => (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR);
    if (!major) return;
    const usage = process.memoryUsage();
    // V8 lets the old generation reach its limit plus the young generation's capacity, beside the young generation itself.
    const young = v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0;
    const reading = { live: usage.heapUsed, outsideHeap: outsideHeap(usage) + 2 * young };
    last = reading;
    const decision = heapGrowth(reading, budgetBytes);
    if (decision.percent !== percent) {
      v8.setFlagsFromString(`--heap-growing-percent=${decision.percent}`);
      percent = decision.percent;
    }
    if (decision.over && performance.now() - warnedAt >= WARN_EVERY_MS) {
      warnedAt = performance.now();
      deps.warn?.('what the process keeps alive fills its memory budget: raise ACCESS_INDEX_MEMORY_MB or lower ACCESS_INDEX_ACCOUNT_CACHE_MB', {
        liveMiB: Math.round(reading.live / 2 ** 20),
        outsideHeapMiB: Math.round(reading.outsideHeap / 2 ** 20),
        budgetMiB: Math.round(budgetBytes / 2 ** 20),
      });
    }
    deps.observe?.(reading, decision);
  });
  observer.observe({ entryTypes: ['gc'] });
  let forcedAt = -Infinity;
  const check = setInterval(() => {
    if (performance.now() - forcedAt < FORCE_AT_MOST_EVERY_MS || !pastBudget(process.memoryUsage(), last, budgetBytes)) return;
    forcedAt = performance.now();
    collectNow();
    deps.forced?.();
  }, CHECK_EVERY_MS);
  check.unref();
  return {
    room: () => (last ? roomLeft(last, budgetBytes) : budgetBytes - process.memoryUsage.rss()),
    release: () => {
      clearInterval(check);
      observer.disconnect();
      if (percent !== 0) v8.setFlagsFromString('--heap-growing-percent=0');
    },
  };
}

/**
 * A full collection now: when the heap in use passes the budget (pastBudget), and for a process that
 * has just let go of much of what it kept alive (the rebuild's account cache before it verifies):
 * V8 sets the next collection's limit from what was alive at the last one, and until then the
 * memory let go sits beside whatever comes next (decision 69). V8 gives `gc` to scripts only under
 * --expose-gc; set at run time, the flag gives it to a new context (as Jest's leak detector does).
 */
export function collectNow(): void {
  v8.setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

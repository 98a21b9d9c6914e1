/**
 * The projector's health: its lifecycle state, the steps waiting for a dependency, whether
 * publishing positions works, whether the consumer is down, a stall (events wait and no step is
 * made), partitions the consumer feeds nothing of (decision 67), the fault that stopped it and the last error. `effective()` is what /health and the
 * readiness metric report: `degraded` while running with anything waiting, failing or stalled,
 * `faulted` once the stores disagreed.
 */
import type { IntegrityFault } from '../integrity/fault.ts';
import type { Metrics } from '../metrics.ts';
import type { StarvedPartition } from './progress-watch.ts';

export type ProjectorState = 'idle' | 'starting' | 'running' | 'degraded' | 'faulted' | 'stopping' | 'stopped';

/** A stall as /readyz shows it: for how long, how many events wait, and the oldest step under way (where it hangs). */
export interface Stall {
  seconds: number;
  eventsWaiting: number;
  oldestStep?: string;
}

export function createProjectorHealth(metrics?: Metrics) {
  let state: ProjectorState = 'idle';
  let waiting = 0;
  let publishFailing = false;
  let consumerDown = false;
  /** events wait and no step was made for the stall time (src/projector/progress-watch.ts) */
  let stalled: Stall | undefined;
  /** partitions the consumer hands nothing over for while Kafka holds events past them */
  let starved: readonly StarvedPartition[] | undefined;
  let fault: IntegrityFault | undefined;
  let lastError: { at: string; message: string } | undefined;
  const effective = (): ProjectorState => (fault ? 'faulted' : state === 'running' && (waiting > 0 || publishFailing || consumerDown || stalled || starved) ? 'degraded' : state);
  const refresh = () => metrics?.ready.set({ component: 'projector' }, effective() === 'running' ? 1 : 0);
  const error = (message: string) => void (lastError = { at: new Date().toISOString(), message });

  return {
    effective,
    state: () => state,
    set(next: ProjectorState): void {
      state = next;
      refresh();
    },
    /** A step starts (+1) or stops (-1) waiting for a dependency. */
    waiting(delta: 1 | -1): void {
      waiting += delta;
      refresh();
    },
    publishing(ok: boolean): void {
      publishFailing = !ok;
      refresh();
    },
    consumerDown(down: boolean): void {
      consumerDown = down;
      refresh();
    },
    /** A stall began or goes on (`stall`), or ended (undefined). */
    stalled(stall: Stall | undefined): void {
      stalled = stall;
      refresh();
    },
    /** Partitions starved (the list), or none any more (undefined). */
    starved: (partitions: readonly StarvedPartition[] | undefined) => void ((starved = partitions), refresh()),
    error,
    fault: () => fault,
    /** Records the fault; false when one was recorded before (the first one stands). */
    enterFault(f: IntegrityFault): boolean {
      if (fault) return false;
      fault = f;
      error(f.message);
      refresh();
      return true;
    },
    status() {
      return {
        state: effective(),
        waitingSteps: waiting,
        publishFailing,
        lastError,
        ...(stalled ? { stalled } : {}),
        ...(starved ? { starvedPartitions: starved } : {}),
        ...(fault ? { fault: { code: fault.code, reason: fault.message } } : {}),
      };
    },
  };
}

export type ProjectorHealth = ReturnType<typeof createProjectorHealth>;

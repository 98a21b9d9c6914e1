/**
 * One account's history as an endless stream of drafts: the bootstrap, then churn for ever (the
 * caller stops at the account's event target). `phase` tells which one the last draft came from.
 */
import { bootstrap, drain, estimateBootstrap, type BootstrapSizes } from './bootstrap.ts';
import { churnStep, recordingPilot } from './churn.ts';
import { createAccountState } from './entities.ts';
import type { Draft } from './model.ts';
import type { Random } from './random.ts';

export interface AccountHistory {
  /** the phase of the draft `next()` returned last */
  readonly phase: 'bootstrap' | 'churn';
  /** about how many events the bootstrap takes */
  readonly estimatedBootstrap: number;
  next(): Draft;
}

/**
 * `events` is the account's planned total: it places the recording pilot (the Agent role gains a
 * recording privilege 40% into the churn and loses it at 70%), the change that fans out widest.
 */
export function createAccountHistory(sizes: BootstrapSizes, domain: string, rng: Random, events: number): AccountHistory {
  const state = createAccountState(rng, domain, sizes.queues);
  const estimatedBootstrap = estimateBootstrap(sizes);
  const plannedChurn = Math.max(0, events - estimatedBootstrap);
  const pilot = [Math.floor(plannedChurn * 0.4), Math.floor(plannedChurn * 0.7)];
  let phase: AccountHistory['phase'] = 'bootstrap';

  function* all(): Generator<Draft, never> {
    yield* bootstrap(state, sizes);
    phase = 'churn';
    const out: Draft[] = [];
    let churned = 0;
    let stage = 0;
    for (;;) {
      const due = pilot[stage];
      if (due !== undefined && churned >= due) recordingPilot(state, out, stage++ === 0);
      if (out.length === 0) churnStep(state, out);
      churned += out.length;
      yield* drain(out);
    }
  }

  const drafts = all();
  return {
    get phase() {
      return phase;
    },
    estimatedBootstrap,
    next: () => drafts.next().value,
  };
}

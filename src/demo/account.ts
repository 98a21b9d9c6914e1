/**
 * One account's history as an endless stream of drafts: the bootstrap, then churn for ever (the
 * caller stops at the account's event target). `phase` tells which one the last draft came from.
 */
import { bootstrap, drain, estimateBootstrap, type BootstrapSizes } from './bootstrap.ts';
import { churnStep } from './churn.ts';
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

export function createAccountHistory(sizes: BootstrapSizes, domain: string, rng: Random): AccountHistory {
  const state = createAccountState(rng, domain, sizes.queues);
  let phase: AccountHistory['phase'] = 'bootstrap';

  function* all(): Generator<Draft, never> {
    yield* bootstrap(state, sizes);
    phase = 'churn';
    const out: Draft[] = [];
    for (;;) {
      churnStep(state, out);
      yield* drain(out);
    }
  }

  const drafts = all();
  return {
    get phase() {
      return phase;
    },
    estimatedBootstrap: estimateBootstrap(sizes),
    next: () => drafts.next().value as Draft,
  };
}

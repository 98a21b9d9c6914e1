/**
 * One account's projection state (facts plus remembered event ids), stepped one event at a time:
 * the loop that the projector, the rebuild and the audit replay all run.
 */
import { affectedUsers } from './affected.ts';
import { applyEvent } from './apply.ts';
import { type SeenIds, emptySeen, isDuplicate, logTime, remember } from './dedupe.ts';
import { deriveUser } from './derive.ts';
import type { FactEvent } from './events.ts';
import { type AccountFacts, type FactChange, emptyFacts } from './facts.ts';
import type { UserDoc } from './model.ts';

export interface AccountState {
  facts: AccountFacts;
  seen: SeenIds;
}

export function emptyAccount(): AccountState {
  return { facts: emptyFacts(), seen: emptySeen() };
}

export type StepResult = { duplicate: true } | { duplicate: false; changes: FactChange[]; affected: Set<string> };

/** Applies an event unless its id was already applied within the dedupe window. */
export function step(state: AccountState, event: FactEvent, windowMs: number): StepResult {
  if (isDuplicate(state.seen, event.id, logTime(event), windowMs)) return { duplicate: true };
  const affected = affectedUsers(state.facts, event);
  const changes = applyEvent(state.facts, event);
  remember(state.seen, event.id, logTime(event));
  return { duplicate: false, changes, affected };
}

/** Every existing user's document (users with no entries included), in user-id order, one at a time. */
export function* eachDoc(facts: AccountFacts): Generator<UserDoc> {
  for (const userId of [...facts.users.keys()].sort()) {
    const doc = deriveUser(facts, userId);
    if (doc) yield doc;
  }
}

/** Every existing user's document (users with no entries included). */
export function allDocs(facts: AccountFacts): Map<string, UserDoc> {
  const docs = new Map<string, UserDoc>();
  for (const doc of eachDoc(facts)) docs.set(doc.user_id, doc);
  return docs;
}

/** Replays events in the given order from an empty account. */
export function replay(events: Iterable<FactEvent>, windowMs: number): AccountState {
  const state = emptyAccount();
  for (const event of events) step(state, event, windowMs);
  return state;
}

/**
 * The projector's fact intervals, without servers: each event planned alone by the projector's own
 * planBatch (one commit per event), the closed intervals as the index would hold them (a later
 * write of the same id replaces the earlier one), merged with the open ones (the raw facts Redis
 * keeps) as the readers merge them (decision 47).
 */
import { DEFAULT_DEDUPE_WINDOW_MS, type FactEvent, emptyAccount } from '../../projections/index.ts';
import { type FactIntervalRecord, emptyRaw, mergeIntervals, openRecord } from '../../src/records/fact-intervals.ts';
import { planBatch } from '../../src/projector/plan-batch.ts';

const TOPIC_OF: Record<string, string> = { user: 'zcc.users', role: 'zcc.roles', queue: 'zcc.queues', inbox: 'zcc.inboxes' };

export function topicOf(event: FactEvent): string {
  return TOPIC_OF[event.type.split('.')[0]!]!;
}

/** What each commit leaves: the records it closed, and the open intervals (raw facts) after it. */
export interface Commit {
  closed: FactIntervalRecord[];
  open: FactIntervalRecord[];
}

/** The events applied in the given order, one commit each (version i + 1), as the projector plans them. */
export function commitEach(accountId: string, events: readonly FactEvent[]): Commit[] {
  const state = emptyAccount();
  const raw = emptyRaw();
  const offsets = new Map<string, bigint>();
  return events.map((event, i) => {
    const topic = topicOf(event);
    const offset = offsets.get(topic) ?? 0n;
    offsets.set(topic, offset + 1n);
    const plan = planBatch(
      state,
      raw,
      { accountId, topic, partition: 0, version: i + 1 },
      [{ event: { ...event, time: new Date(event.timeMs).toISOString() }, offset }],
      DEFAULT_DEDUPE_WINDOW_MS,
    );
    return {
      closed: [...plan.intervals.values()].map((r) => structuredClone(r)),
      open: [...raw.opened].map(([key, f]) => openRecord(accountId, key, { v: raw.values.get(key)!, f })),
    };
  });
}

/** The fact intervals of the events applied in the given order (one account), merged as a reader merges them. */
export function simulateFacts(accountId: string, events: readonly FactEvent[]): FactIntervalRecord[] {
  const commits = commitEach(accountId, events);
  const open = commits.at(-1)?.open ?? [];
  return mergeIntervals(
    events.length,
    commits.flatMap((c) => c.closed),
    { open, closed: [] },
  );
}

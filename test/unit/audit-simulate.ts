/**
 * The projector's fact intervals, without servers: each event planned alone by the projector's own
 * planBatch (one commit per event), its intervals merged as the index would hold them (a later
 * write of the same id replaces the earlier one).
 */
import { DEFAULT_DEDUPE_WINDOW_MS, type FactEvent, emptyAccount } from '../../projections/index.ts';
import type { EventRef, FactIntervalRecord } from '../../src/records/fact-intervals.ts';
import { planBatch } from '../../src/projector/plan-batch.ts';

const TOPIC_OF: Record<string, string> = { user: 'zcc.users', role: 'zcc.roles', queue: 'zcc.queues', inbox: 'zcc.inboxes' };

export function topicOf(event: FactEvent): string {
  return TOPIC_OF[event.type.split('.')[0]!]!;
}

/** The fact intervals of the events applied in the given order (one account). */
export function simulateFacts(accountId: string, events: readonly FactEvent[]): FactIntervalRecord[] {
  const state = emptyAccount();
  const raw = { values: new Map<string, string>(), opened: new Map<string, EventRef>() };
  const records = new Map<string, FactIntervalRecord>();
  const offsets = new Map<string, bigint>();
  events.forEach((event, i) => {
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
    for (const [id, record] of plan.intervals) records.set(id, structuredClone(record));
  });
  return [...records.values()];
}

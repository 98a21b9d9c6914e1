import { describe, expect, it } from 'vitest';
import {
  CHANNELS,
  DEFAULT_DEDUPE_WINDOW_MS,
  type FactEvent,
  allDocs,
  countersFromDocs,
  inboxesFromCounters,
  queuesFromCounters,
  replay,
  reportRow,
  summarize,
} from '../../projections/index.ts';
import { decodeEvent } from '../../schemas/decode.ts';
import type { LogicalTopic } from '../../schemas/events.ts';
import { type CaseEvent, drillDownShape, expectedDrillDown, filteredRows, loadConformanceCases, sortRows } from '../support/conformance.ts';

/** Each case event goes through the real decoder, as the projector reads it from Kafka. */
function toFactEvent(e: CaseEvent): FactEvent {
  const decoded = decodeEvent({ key: e.key, value: JSON.stringify(e.value), topic: e.topic.replace('zcc.', '') as LogicalTopic });
  if (!decoded.ok) throw new Error(`case event ${e.value.id} does not decode: ${decoded.reason}`);
  return decoded.event;
}

describe('conformance cases through the pure core', () => {
  for (const c of loadConformanceCases()) {
    it(c.name, () => {
      const state = replay(c.events.map(toFactEvent), DEFAULT_DEDUPE_WINDOW_MS);
      const docs = [...allDocs(state.facts).values()];

      expect(summarize(docs)).toEqual(c.expect.summary);
      for (const channel of CHANNELS) expect(summarize(docs, channel)).toEqual(c.expect.summary_by_channel[channel]);

      const rows = (filter: { channel?: (typeof CHANNELS)[number] }) =>
        sortRows(
          docs
            .map((d) => reportRow(d, filter))
            .filter((r) => r !== null)
            .map(({ user_id, can_access, access_types }) => ({ user_id, can_access, access_types })),
        );
      expect(rows({})).toEqual(sortRows(c.expect.rows));
      for (const channel of CHANNELS) expect(rows({ channel })).toEqual(sortRows(c.expect.rows_by_channel[channel]));

      const byId = new Map(docs.map((d) => [d.user_id, d]));
      for (const [userId, expected] of Object.entries(c.expect.users)) expect(drillDownShape(byId.get(userId) ?? null), userId).toEqual(expectedDrillDown(expected));

      const queues = Object.fromEntries(queuesFromCounters(countersFromDocs(docs), {}).map((q) => [q.cc_queue_id, q.users]));
      expect(queues).toEqual(c.expect.queues);

      const inboxes = Object.fromEntries(inboxesFromCounters(countersFromDocs(docs), 'all').map((i) => [i.inbox_id, i.users]));
      expect(inboxes).toEqual(c.expect.inboxes);
      for (const [inbox_id, expected] of Object.entries(c.expect.rows_by_inbox_id)) expect(filteredRows(docs, { inbox_id }), `inbox_id ${inbox_id}`).toEqual(sortRows(expected));
      for (const [cc_queue_id, expected] of Object.entries(c.expect.rows_by_cc_queue_id))
        expect(filteredRows(docs, { cc_queue_id }), `cc_queue_id ${cc_queue_id}`).toEqual(sortRows(expected));
    });
  }
});

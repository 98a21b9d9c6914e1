import { describe, expect, it } from 'vitest';
import { type ReportFilter, countersFromDocs, filterEntries, inboxesFromCounters, reportRow } from '../../projections/index.ts';
import { createEventBuilder } from '../support/builders.ts';
import { entryLines, given } from '../support/spec.ts';

const REC = 'VoiceRecordingAccess:Read';

/**
 * One user, u1: agent of q1 (voice, automatic and ad hoc recording, overflow to i1) and of q2
 * (email), with a recording role; i1 granted to q1 and q2 and directly to u1; i2 granted to q2.
 */
function scene() {
  const e = createEventBuilder();
  const { before } = given(
    e.inbox('i1'),
    e.inbox('i2'),
    e.role('rec', [REC]),
    e.queue('q1', { channel: 'voice', inbox: 'i1', automatic: true, ad_hoc: true }),
    e.queue('q2', { channel: 'email' }),
    e.user('u1'),
    e.user('u2'),
    e.assignRole('rec', 'u1'),
    e.member('q1', 'u1'),
    e.member('q2', 'u1'),
    e.member('q2', 'u2'),
    e.grantUser('i1', 'u1'),
    e.grantQueue('i1', 'q1'),
    e.grantQueue('i1', 'q2'),
    e.grantQueue('i2', 'q2'),
  );
  const doc = (id: string) => before.docs.get(id)!;
  const lines = (id: string, filter: ReportFilter) => entryLines({ ...doc(id), entries: filterEntries(doc(id).entries, filter) });
  return { before, doc, lines };
}

describe('target filter inbox_id: only entries whose target is the inbox', () => {
  it('keeps the inbox entry with every path to it, and nothing else', () => {
    const { lines } = scene();
    expect(lines('u1', { inbox_id: 'i1' })).toEqual(['inbox:i1 <- automatic_recording_inbox@q1/agent, inbox_queue_grant@q1/agent, inbox_queue_grant@q2/agent, inbox_user_grant']);
  });

  it('combines with the channel filter: only that channel’s paths to the inbox remain', () => {
    const { lines } = scene();
    expect(lines('u1', { inbox_id: 'i1', channel: 'email' })).toEqual(['inbox:i1 <- inbox_queue_grant@q2/agent']);
    expect(lines('u2', { inbox_id: 'i1', channel: 'voice' })).toEqual([]);
  });

  it('combines with the access type: a recording type never targets an inbox', () => {
    const { doc } = scene();
    expect(reportRow(doc('u1'), { inbox_id: 'i1', access_type: 'automatic_call_recording' })).toBeNull();
    expect(reportRow(doc('u1'), { inbox_id: 'i1', access_type: 'inbox' })).toMatchObject({ can_access: 1, access_types: ['inbox'] });
  });

  it('leaves a user who does not reach the inbox without a row', () => {
    const { doc } = scene();
    expect(reportRow(doc('u2'), { inbox_id: 'i9' })).toBeNull();
    expect(reportRow(doc('u2'), { inbox_id: 'i2' })).toMatchObject({ user_id: 'u2', can_access: 1 });
  });
});

describe('target filter cc_queue_id: entries targeting the queue or coming through it', () => {
  it('keeps the queue’s recordings and the inboxes reached through it, paths and queues shrunk to it', () => {
    const { doc, lines } = scene();
    expect(lines('u1', { cc_queue_id: 'q1' })).toEqual([
      'ad_hoc_call_recording:q1 <- ad_hoc_recording@q1/agent',
      'automatic_call_recording:q1 <- automatic_recording@q1/agent',
      'inbox:i1 <- automatic_recording_inbox@q1/agent, inbox_queue_grant@q1/agent',
    ]);
    const inbox = filterEntries(doc('u1').entries, { cc_queue_id: 'q1' }).find((e) => e.access_type === 'inbox')!;
    expect(inbox.queues.map((q) => q.id)).toEqual(['q1']);
    expect(inbox.channels).toEqual(['voice']);
    expect(reportRow(doc('u1'), { cc_queue_id: 'q1' })).toMatchObject({ can_access: 2, access_types: ['ad_hoc_call_recording', 'automatic_call_recording', 'inbox'] });
  });

  it('drops a direct grant: it comes through no queue', () => {
    const { lines } = scene();
    expect(lines('u1', { cc_queue_id: 'q2' })).toEqual(['inbox:i1 <- inbox_queue_grant@q2/agent', 'inbox:i2 <- inbox_queue_grant@q2/agent']);
  });

  it('combines with channel, access type and inbox_id', () => {
    const { doc, lines } = scene();
    expect(lines('u1', { cc_queue_id: 'q1', channel: 'email' })).toEqual([]);
    expect(lines('u1', { cc_queue_id: 'q1', access_type: 'inbox' })).toEqual(['inbox:i1 <- automatic_recording_inbox@q1/agent, inbox_queue_grant@q1/agent']);
    expect(lines('u1', { cc_queue_id: 'q2', inbox_id: 'i2' })).toEqual(['inbox:i2 <- inbox_queue_grant@q2/agent']);
    expect(reportRow(doc('u2'), { cc_queue_id: 'q1' })).toBeNull();
  });
});

describe('the inboxes view', () => {
  it('counts the users who reach each inbox, per channel', () => {
    const { before } = scene();
    const counters = countersFromDocs(before.docs.values());
    expect(inboxesFromCounters(counters, 'all')).toEqual([
      { inbox_id: 'i1', users: 2 },
      { inbox_id: 'i2', users: 2 },
    ]);
    expect(inboxesFromCounters(counters, 'voice')).toEqual([{ inbox_id: 'i1', users: 1 }]);
    expect(inboxesFromCounters(counters, 'video')).toEqual([]);
  });
});

/**
 * The queues and inboxes views `as_of` an instant T: the counters a clean replay of the documents at
 * T would hold (from the fact intervals valid then, as-of-reports.ts), read by the same pure
 * functions as the live views, with the names (and queue channels) the facts had at T, and the
 * account's applied offsets of the state read (the answer's position).
 */
import { type ReportFilter, inboxesFromCounters, queuesFromCounters } from '../../projections/index.ts';
import type { IntervalSources } from '../audit/facts-at.ts';
import { type AsOfAnswer, currentAccountAt } from './as-of-reports.ts';
import type { InboxRow, QueueRow } from '../redis/counters-reader.ts';
import { byNameThenId } from '../redis/counters-reader.ts';

/** The queues view at T, as readQueues answers it live. */
export async function queuesAsOf(sources: IntervalSources, accountId: string, at: number, filter: ReportFilter): Promise<AsOfAnswer<QueueRow[]>> {
  const { value: account, offsets } = await currentAccountAt(sources, accountId, at);
  const rows = queuesFromCounters(account.counts, { channel: filter.channel, access_type: filter.access_type }).map((q) => {
    const fact = account.queues.get(q.cc_queue_id);
    // The live view's field order, so both answers read alike.
    const users = { inbox: q.users.inbox, automatic_call_recording: q.users.automatic_call_recording, ad_hoc_call_recording: q.users.ad_hoc_call_recording };
    return { cc_queue_id: q.cc_queue_id, queue_name: fact?.queue_name ?? q.cc_queue_id, channel: fact?.channel ?? null, users };
  });
  return { value: rows.sort((a, b) => byNameThenId(a.queue_name, a.cc_queue_id, b.queue_name, b.cc_queue_id)), offsets };
}

/** The inboxes view at T, as readInboxes answers it live. */
export async function inboxesAsOf(sources: IntervalSources, accountId: string, at: number, filter: Pick<ReportFilter, 'channel'>): Promise<AsOfAnswer<InboxRow[]>> {
  const { value: account, offsets } = await currentAccountAt(sources, accountId, at);
  const rows = inboxesFromCounters(account.counts, filter.channel ?? 'all').map((i) => ({
    inbox_id: i.inbox_id,
    inbox_name: account.inboxes.get(i.inbox_id)?.inbox_name ?? i.inbox_id,
    users: i.users,
  }));
  return { value: rows.sort((a, b) => byNameThenId(a.inbox_name, a.inbox_id, b.inbox_name, b.inbox_id)), offsets };
}

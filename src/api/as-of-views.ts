/**
 * The queues and inboxes views `as_of` an instant T: the counters a clean replay of the documents at
 * T would hold (from the fact intervals valid then, as-of-reports.ts), read by the same pure
 * functions as the live views, with the names (and queue channels) the facts had at T.
 */
import type { Client } from '@opensearch-project/opensearch';
import { type AccountFacts, type ReportFilter, countersFromDocs, inboxesFromCounters, queuesFromCounters } from '../../projections/index.ts';
import { docsOfFacts, factsAt, factsValidAt } from '../audit/facts-at.ts';
import type { InboxRow, QueueRow } from '../redis/counters-reader.ts';
import { byNameThenId } from '../redis/counters-reader.ts';
import { PIT_KEEP_ALIVE, closePit, openPit, translate } from './users-search.ts';

/** The account's facts at T and the counters of its documents then, read from one snapshot. */
async function countersAt(opensearch: Client, factsIndex: string, accountId: string, at: number): Promise<{ facts: AccountFacts; counts: Map<string, number> }> {
  const pit = await openPit(opensearch, factsIndex);
  try {
    const facts = await factsAt(factsValidAt(opensearch, { pit, keepAlive: PIT_KEEP_ALIVE }, accountId, at));
    return { facts, counts: countersFromDocs(docsOfFacts(facts)) };
  } catch (error) {
    throw translate(error, false);
  } finally {
    await closePit(opensearch, pit);
  }
}

/** The queues view at T, as readQueues answers it live. */
export async function queuesAsOf(opensearch: Client, factsIndex: string, accountId: string, at: number, filter: ReportFilter): Promise<QueueRow[]> {
  const { facts, counts } = await countersAt(opensearch, factsIndex, accountId, at);
  const rows = queuesFromCounters(counts, { channel: filter.channel, access_type: filter.access_type }).map((q) => {
    const fact = facts.queues.get(q.cc_queue_id);
    // The live view's field order, so both answers read alike.
    const users = { inbox: q.users.inbox, automatic_call_recording: q.users.automatic_call_recording, ad_hoc_call_recording: q.users.ad_hoc_call_recording };
    return { cc_queue_id: q.cc_queue_id, queue_name: fact?.queue_name ?? q.cc_queue_id, channel: fact?.channel ?? null, users };
  });
  return rows.sort((a, b) => byNameThenId(a.queue_name, a.cc_queue_id, b.queue_name, b.cc_queue_id));
}

/** The inboxes view at T, as readInboxes answers it live. */
export async function inboxesAsOf(opensearch: Client, factsIndex: string, accountId: string, at: number, filter: Pick<ReportFilter, 'channel'>): Promise<InboxRow[]> {
  const { facts, counts } = await countersAt(opensearch, factsIndex, accountId, at);
  const rows = inboxesFromCounters(counts, filter.channel ?? 'all').map((i) => ({
    inbox_id: i.inbox_id,
    inbox_name: facts.inboxes.get(i.inbox_id)?.inbox_name ?? i.inbox_id,
    users: i.users,
  }));
  return rows.sort((a, b) => byNameThenId(a.inbox_name, a.inbox_id, b.inbox_name, b.inbox_id));
}

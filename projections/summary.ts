/**
 * The account summary and the queues view, two ways: recomputed from all documents (the reference),
 * and kept incrementally as counters, where each document contributes a set of counter keys and a
 * document change moves the counters by the difference of its old and new sets.
 */
import { ACCESS_TYPES, type AccessType, CHANNELS, type Channel, type Entry, type ReportFilter, type UserDoc } from './model.ts';

/** `all` stands for "no channel filter". */
export type ChannelScope = Channel | 'all';
export const CHANNEL_SCOPES: readonly ChannelScope[] = ['all', ...CHANNELS];

export interface Summary {
  users: { total: number } & Record<AccessType, number>;
  queues: Record<AccessType, number>;
  inboxes: number;
}

/**
 * Counter keys of one document. Three families, each a refcount (how many users contribute):
 * - `u|scope|total`, `u|scope|<type>`: the user has at least one entry (of that type);
 * - `q|scope|<type>|<queue>`: an entry of that type comes through or targets the queue;
 * - `i|scope|<inbox>`: an Inbox entry targets the inbox.
 * Distinct queue and inbox counts are the number of `q|…` and `i|…` keys with a positive count.
 */
export function contributions(doc: UserDoc | null): Set<string> {
  const keys = new Set<string>();
  if (!doc) return keys;
  // The entries filterEntries gives per channel, read as the counts need them (channelView), in one
  // pass: an entry is in a channel's view when one of its paths is of that channel, through the
  // queues of those paths. A document's keys are computed on every change of it, twice (before
  // and after), so the fixed parts of each key are spelled once (KEY_PARTS).
  for (const e of doc.entries) {
    addEntryKeys(keys, KEY_PARTS.all, e, e.queues);
    for (const p of e.granted_by) addEntryKeys(keys, KEY_PARTS[p.channel], e, p.queue_id === null ? NO_QUEUES : [{ id: p.queue_id }]);
  }
  return keys;
}

const NO_QUEUES: readonly { id: string }[] = [];

function addEntryKeys(keys: Set<string>, parts: KeyParts, e: Entry, queues: readonly { id: string }[]): void {
  keys.add(parts.total);
  keys.add(parts.user[e.access_type]);
  const queue = parts.queue[e.access_type];
  for (const q of queues) keys.add(queue + q.id);
  if (e.target.type === 'queue') keys.add(queue + e.target.id);
  if (e.access_type === 'inbox') keys.add(parts.inbox + e.target.id);
}

interface KeyParts {
  total: string;
  user: Record<AccessType, string>;
  queue: Record<AccessType, string>;
  inbox: string;
}

/** Per scope, the keys `contributions` spells the same for every user, and the prefixes of the others. */
const KEY_PARTS = Object.fromEntries(
  CHANNEL_SCOPES.map((scope) => [
    scope,
    {
      total: `u|${scope}|total`,
      user: Object.fromEntries(ACCESS_TYPES.map((type) => [type, `u|${scope}|${type}`])) as Record<AccessType, string>,
      queue: Object.fromEntries(ACCESS_TYPES.map((type) => [type, `q|${scope}|${type}|`])) as Record<AccessType, string>,
      inbox: `i|${scope}|`,
    },
  ]),
) as Record<ChannelScope, KeyParts>;

/** Counter deltas (+1 / -1 per key) for a document going from `before` to `after`. */
export function counterDeltas(before: UserDoc | null, after: UserDoc | null): Map<string, number> {
  const old = contributions(before);
  const now = contributions(after);
  const deltas = new Map<string, number>();
  for (const k of now) if (!old.has(k)) deltas.set(k, 1);
  for (const k of old) if (!now.has(k)) deltas.set(k, -1);
  return deltas;
}

function emptySummary(): Summary {
  return {
    users: { total: 0, automatic_call_recording: 0, ad_hoc_call_recording: 0, inbox: 0 },
    queues: { automatic_call_recording: 0, ad_hoc_call_recording: 0, inbox: 0 },
    inboxes: 0,
  };
}

/** The summary as read from counters: `counts` maps counter keys to refcounts (absent = 0). */
export function summaryFromCounters(counts: ReadonlyMap<string, number>, scope: ChannelScope): Summary {
  const s = emptySummary();
  for (const [key, n] of counts) {
    if (n <= 0) continue;
    const [family, keyScope, a] = key.split('|');
    if (keyScope !== scope) continue;
    if (family === 'u') {
      if (a === 'total') s.users.total = n;
      else s.users[a as AccessType] = n;
    } else if (family === 'q') s.queues[a as AccessType] += 1;
    else if (family === 'i') s.inboxes += 1;
  }
  return s;
}

/** Sums the contributions of all documents: the counters a clean replay would hold. */
export function countersFromDocs(docs: Iterable<UserDoc>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const doc of docs) for (const k of contributions(doc)) counts.set(k, (counts.get(k) ?? 0) + 1);
  return counts;
}

/** The summary recomputed from every document (the reference for the counters). */
export function summarize(docs: Iterable<UserDoc>, channel?: Channel): Summary {
  return summaryFromCounters(countersFromDocs(docs), channel ?? 'all');
}

export interface QueueUsage {
  cc_queue_id: string;
  users: Record<AccessType, number>;
}

/**
 * The queues view from counters: queues that appear in at least one entry that counts, with the
 * number of users whose entries of each type come through or target the queue.
 */
export function queuesFromCounters(counts: ReadonlyMap<string, number>, filter: ReportFilter): QueueUsage[] {
  const scope: ChannelScope = filter.channel ?? 'all';
  const byQueue = new Map<string, QueueUsage>();
  for (const [key, n] of counts) {
    if (n <= 0 || !key.startsWith(`q|${scope}|`)) continue;
    const rest = key.slice(scope.length + 3);
    const bar = rest.indexOf('|');
    const type = rest.slice(0, bar) as AccessType;
    const queueId = rest.slice(bar + 1);
    if (filter.access_type !== undefined && type !== filter.access_type) continue;
    let q = byQueue.get(queueId);
    if (!q) byQueue.set(queueId, (q = { cc_queue_id: queueId, users: { automatic_call_recording: 0, ad_hoc_call_recording: 0, inbox: 0 } }));
    q.users[type] = n;
  }
  return [...byQueue.values()].sort((a, b) => (a.cc_queue_id < b.cc_queue_id ? -1 : a.cc_queue_id > b.cc_queue_id ? 1 : 0));
}

export interface InboxUsage {
  inbox_id: string;
  users: number;
}

/**
 * The inboxes view from counters: inboxes that are the target of at least one Inbox entry that
 * counts under the channel scope, with the number of users who reach each.
 */
export function inboxesFromCounters(counts: ReadonlyMap<string, number>, scope: ChannelScope): InboxUsage[] {
  const prefix = `i|${scope}|`;
  const out: InboxUsage[] = [];
  for (const [key, n] of counts) if (n > 0 && key.startsWith(prefix)) out.push({ inbox_id: key.slice(prefix.length), users: n });
  return out.sort((a, b) => (a.inbox_id < b.inbox_id ? -1 : a.inbox_id > b.inbox_id ? 1 : 0));
}

export { ACCESS_TYPES };

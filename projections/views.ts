/**
 * Filtered views of a user document (contract sections 3 and 4): a channel filter keeps only paths
 * of that channel, an access-type filter only entries of that type, an inbox filter only entries
 * targeting that inbox, a queue filter only paths through that queue (or entries targeting it);
 * rows and Can Access follow.
 */
import { finishEntry } from './derive.ts';
import type { AccessType, Channel, Entry, ReportFilter, UserAccess, UserDoc } from './model.ts';

/** The entries that count under the filter, with their paths, queues and channels narrowed. */
export function filterEntries(entries: readonly Entry[], filter: ReportFilter): Entry[] {
  const out: Entry[] = [];
  const queue = filter.cc_queue_id;
  for (const entry of entries) {
    if (filter.access_type !== undefined && entry.access_type !== filter.access_type) continue;
    if (filter.inbox_id !== undefined && (entry.target.type !== 'inbox' || entry.target.id !== filter.inbox_id)) continue;
    if (filter.channel === undefined && queue === undefined) {
      out.push(entry);
      continue;
    }
    // An entry targeting the queue comes through it on every path (rules 2 and 3).
    const targetsQueue = queue !== undefined && entry.target.type === 'queue' && entry.target.id === queue;
    const paths = entry.granted_by.filter((p) => (filter.channel === undefined || p.channel === filter.channel) && (queue === undefined || targetsQueue || p.queue_id === queue));
    if (paths.length === 0) continue;
    if (paths.length === entry.granted_by.length) {
      out.push(entry);
      continue;
    }
    const names = new Map(entry.queues.map((q) => [q.id, q.name]));
    out.push(finishEntry({ access_type: entry.access_type, target: entry.target, paths }, (id) => names.get(id) ?? id));
  }
  return out;
}

/** What the counts of an entry read: its access type, its target, the queues it comes through. */
export type EntryView = Pick<Entry, 'access_type' | 'target'> & { queues: readonly { id: string }[] };

/**
 * The entries `filterEntries` gives for `{ channel }`, as the counts read them: those with a path
 * of the channel, each through the queues of those paths; an entry whose paths are all of the
 * channel as it is. Nothing is sorted or named (a document is counted on every change of it).
 */
export function channelView(entries: readonly Entry[], channel: Channel): EntryView[] {
  const out: EntryView[] = [];
  for (const e of entries) {
    let queues: { id: string }[] | undefined;
    let whole = true;
    for (const p of e.granted_by) {
      if (p.channel !== channel) {
        whole = false;
        continue;
      }
      queues ??= [];
      if (p.queue_id !== null && !queues.some((q) => q.id === p.queue_id)) queues.push({ id: p.queue_id });
    }
    if (queues) out.push(whole ? e : { access_type: e.access_type, target: e.target, queues });
  }
  return out;
}

/** Whether the filter names a target (inbox_id or cc_queue_id). */
export function hasTargetFilter(filter: ReportFilter): boolean {
  return filter.inbox_id !== undefined || filter.cc_queue_id !== undefined;
}

/** Number of distinct targets (inboxes plus queues) over the entries. */
export function canAccess(entries: readonly Pick<Entry, 'target'>[]): number {
  return new Set(entries.map((e) => `${e.target.type}\u001f${e.target.id}`)).size;
}

/** The distinct access types of the entries, sorted. */
export function accessTypes(entries: readonly Pick<Entry, 'access_type'>[]): AccessType[] {
  return [...new Set(entries.map((e) => e.access_type))].sort();
}

export interface ReportRow {
  user_id: string;
  display_name: string;
  user_email: string;
  user_access: UserAccess;
  can_access: number;
  access_types: AccessType[];
}

/** The row of a user whose entries that count are `entries` (already filtered). */
export function rowFromEntries(doc: UserDoc, entries: readonly Entry[]): ReportRow {
  return {
    user_id: doc.user_id,
    display_name: doc.display_name,
    user_email: doc.user_email,
    user_access: doc.user_access,
    can_access: canAccess(entries),
    access_types: accessTypes(entries),
  };
}

/** The user's report row under the filter, or null when no entry counts (no row then). */
export function reportRow(doc: UserDoc, filter: ReportFilter): ReportRow | null {
  const entries = filterEntries(doc.entries, filter);
  return entries.length === 0 ? null : rowFromEntries(doc, entries);
}

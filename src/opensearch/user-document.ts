/**
 * The indexed form of a user document: the core's UserDoc, plus precomputed fields for every
 * (channel, access type) filter combination, so that a filtered, sorted report page is a plain
 * range filter and sort on numbers and keywords, with no nested queries.
 */
import {
  ACCESS_TYPES,
  type AccessType,
  CHANNEL_SCOPES,
  type ChannelScope,
  type Entry,
  type EntityNames,
  type EntryView,
  type UserDoc,
  accessTypes,
  channelView,
} from '../../projections/index.ts';
import { fold, searchTerms } from './search-terms.ts';

export type TypeScope = AccessType | 'all';
export const TYPE_SCOPES: readonly TypeScope[] = ['all', ...ACCESS_TYPES];

export interface IndexedUser {
  account_id: string;
  user_id: string;
  display_name: string;
  user_email: string;
  user_access: UserDoc['user_access'];
  name_sort: string;
  email_sort: string;
  search_terms: string[];
  /** can_access per channel scope and access-type scope: `ca.voice.inbox` */
  ca: Record<ChannelScope, Record<TypeScope, number>>;
  /** access types per channel scope: `at.video` */
  at: Record<ChannelScope, AccessType[]>;
  /** target filters per channel scope: the keys (targetFilterKey) under which the user has a row */
  tg: Record<ChannelScope, string[]>;
  /** Can Access above 1 under a key, as the set bits of (Can Access - 1): `<key>␟<bit>` (sorting without scripts) */
  tc: Record<ChannelScope, string[]>;
  entries: StoredEntry[];
}

/**
 * An entry as the index keeps it: without the names of its target and queues, which the reader
 * takes from the account's current facts (decision 64), so that a rename rewrites no document.
 * Documents written before decision 64 still carry names; they count as the fallback.
 */
export interface StoredEntry {
  access_type: Entry['access_type'];
  target: { type: Entry['target']['type']; id: string; name?: string };
  queues: { id: string; name?: string }[];
  channels: Entry['channels'];
  granted_by: Entry['granted_by'];
}

/** An entry without its names (the same fields in the same order, so stored forms compare as JSON). */
export function storedEntry(e: StoredEntry): StoredEntry {
  const queues: { id: string }[] = [];
  for (const q of e.queues) queues.push({ id: q.id });
  return { access_type: e.access_type, target: { type: e.target.type, id: e.target.id }, queues, channels: e.channels, granted_by: e.granted_by };
}

/** A stored document as one written now would be (a document from before decision 64 loses its names): what parity and verify compare. */
export function storedForm(indexed: IndexedUser): IndexedUser {
  return { ...indexed, entries: indexed.entries.map(storedEntry) };
}

/** The inboxes and queues the entries name: what a reader looks up. */
export function namedIds(entries: readonly StoredEntry[]): { inboxes: Set<string>; queues: Set<string> } {
  const inboxes = new Set<string>();
  const queues = new Set<string>();
  for (const e of entries) {
    (e.target.type === 'inbox' ? inboxes : queues).add(e.target.id);
    for (const q of e.queues) queues.add(q.id);
  }
  return { inboxes, queues };
}

/** No names known: entries named by what they stored, else their ids (for counting, where no name shows). */
export const UNNAMED: EntityNames = { inbox: () => undefined, queue: () => undefined };

/** The entries with names: the current one, else the one stored with the entry, else the id. */
export function namedEntries(entries: readonly StoredEntry[], names: EntityNames): Entry[] {
  return entries.map((e) => ({
    access_type: e.access_type,
    target: { type: e.target.type, id: e.target.id, name: (e.target.type === 'inbox' ? names.inbox(e.target.id) : names.queue(e.target.id)) ?? e.target.name ?? e.target.id },
    queues: e.queues.map((q) => ({ id: q.id, name: names.queue(q.id) ?? q.name ?? q.id })),
    channels: e.channels,
    granted_by: e.granted_by,
  }));
}

const SEP = '\u001f';
// Short codes keep the keys small: they are a good part of each document.
const TYPE_CODE: Record<AccessType | 'all', string> = { all: '*', inbox: 'i', automatic_call_recording: 'a', ad_hoc_call_recording: 'h' };

/** The three kinds of target key (`type` is a TYPE_CODE): targetFilterKey and targetCounts both spell them here. */
const inboxKey = (type: string, inbox: string) => `${type}${SEP}i${SEP}${inbox}`;
const queueKey = (type: string, queue: string) => `${type}${SEP}q${SEP}${queue}`;
const pairKey = (type: string, inbox: string, queue: string) => `${type}${SEP}p${SEP}${inbox}${SEP}${queue}`;

/**
 * The key of a target filter (inbox_id and/or cc_queue_id, with the access type), as stored in
 * `tg.<channel scope>`; undefined when the filter names no target. Only Inbox entries target an
 * inbox, so an inbox key with `access_type=inbox` is the key without a type, and one with a
 * recording type is a key no document holds.
 */
export function targetFilterKey(filter: { access_type?: AccessType | undefined; inbox_id?: string | undefined; cc_queue_id?: string | undefined }): string | undefined {
  const type = TYPE_CODE[filter.inbox_id !== undefined && filter.access_type === 'inbox' ? 'all' : (filter.access_type ?? 'all')];
  if (filter.inbox_id !== undefined && filter.cc_queue_id !== undefined) return pairKey(type, filter.inbox_id, filter.cc_queue_id);
  if (filter.inbox_id !== undefined) return inboxKey(type, filter.inbox_id);
  if (filter.cc_queue_id !== undefined) return queueKey(type, filter.cc_queue_id);
  return undefined;
}

function addTarget(targets: Map<string, Set<string>>, key: string, target: string): void {
  const set = targets.get(key);
  if (set) set.add(target);
  else targets.set(key, new Set([target]));
}

/** An entry's target (`<type>␟<id>`) and the target keys it counts under (targetCounts). */
interface EntryKeys {
  target: string;
  keys: string[];
}

function entryKeys(e: EntryView): EntryKeys {
  const { type: targetType, id } = e.target;
  const type = TYPE_CODE[e.access_type];
  const all = TYPE_CODE.all;
  const keys: string[] = [];
  if (targetType === 'inbox') keys.push(inboxKey(all, id));
  // An entry on a queue comes through it: every path of a recording entry names its queue, so it is among `queues`.
  for (const { id: q } of e.queues) {
    if (targetType === 'inbox') keys.push(pairKey(all, id, q));
    keys.push(queueKey(all, q), queueKey(type, q));
  }
  return { target: `${targetType}${SEP}${id}`, keys };
}

/**
 * Per entry, its keys, computed once per document: an entry whose paths are all of one channel is
 * the same object in the document's `all` view and in that channel's (channelView).
 */
function keysOf(e: EntryView, memo: Map<EntryView, EntryKeys> | undefined): EntryKeys {
  let keys = memo?.get(e);
  if (!keys) {
    keys = entryKeys(e);
    memo?.set(e, keys);
  }
  return keys;
}

/**
 * Every target-filter key under which entries remain, with Can Access under it: the same counts as
 * filterEntries with that inbox_id / cc_queue_id gives (an entry comes through the queues of its
 * paths; an entry on a queue comes through it), computed in one pass.
 */
export function targetCounts(entries: readonly EntryView[], memo?: Map<EntryView, EntryKeys>): Map<string, number> {
  const targets = new Map<string, Set<string>>();
  for (const e of entries) {
    const { target, keys } = keysOf(e, memo);
    for (const key of keys) addTarget(targets, key, target);
  }
  const counts = new Map<string, number>();
  for (const [key, set] of targets) counts.set(key, set.size);
  return counts;
}

/** Can Access - 1 under a target key is stored as its set bits, up to this many (distinct targets through one queue stay far below 2^16). */
export const COUNT_BITS = 16;

/** The set bits of `n` (clamped to COUNT_BITS bits). */
export function countBits(n: number): number[] {
  const clamped = Math.min(n, 2 ** COUNT_BITS - 1);
  const bits: number[] = [];
  for (let bit = 0; bit < COUNT_BITS; bit++) if (clamped & (1 << bit)) bits.push(bit);
  return bits;
}

/**
 * Can Access over all (canAccess) and under each access type: an entry is one access type to one
 * target, so under a type it is the number of entries of that type.
 */
function canAccessByType(entries: readonly EntryView[], memo: Map<EntryView, EntryKeys>): Record<TypeScope, number> {
  const targets = new Set<string>();
  const byType: Record<TypeScope, number> = { all: 0, inbox: 0, automatic_call_recording: 0, ad_hoc_call_recording: 0 };
  for (const e of entries) {
    targets.add(keysOf(e, memo).target);
    byType[e.access_type] += 1;
  }
  // canAccess (projections/views.ts): distinct targets
  byType.all = targets.size;
  return byType;
}

const byKey = ([a]: [string, number], [b]: [string, number]) => (a < b ? -1 : a > b ? 1 : 0);

export function toIndexedUser(accountId: string, doc: UserDoc): IndexedUser {
  const ca = {} as IndexedUser['ca'];
  const at = {} as IndexedUser['at'];
  const tg = {} as IndexedUser['tg'];
  const tc = {} as IndexedUser['tc'];
  const memo = new Map<EntryView, EntryKeys>();
  for (const scope of CHANNEL_SCOPES) {
    const entries = scope === 'all' ? doc.entries : channelView(doc.entries, scope);
    at[scope] = accessTypes(entries);
    const counts = [...targetCounts(entries, memo)].sort(byKey);
    const keys: string[] = [];
    const bits: string[] = [];
    for (const [key, n] of counts) {
      keys.push(key);
      for (const bit of countBits(n - 1)) bits.push(`${key}${SEP}${bit}`);
    }
    tg[scope] = keys;
    tc[scope] = bits;
    ca[scope] = canAccessByType(entries, memo);
  }
  return {
    account_id: accountId,
    user_id: doc.user_id,
    display_name: doc.display_name,
    user_email: doc.user_email,
    user_access: doc.user_access,
    // folded like the search terms, so that "Émile" sorts with the E's
    name_sort: fold(doc.display_name),
    email_sort: fold(doc.user_email),
    search_terms: searchTerms(doc.display_name, doc.user_email),
    ca,
    at,
    tg,
    tc,
    entries: doc.entries.map(storedEntry),
  };
}

/** Back to the core's document, named by `names` (what the drill-down and the export read). */
export function fromIndexedUser(indexed: IndexedUser, names: EntityNames): UserDoc {
  return {
    user_id: indexed.user_id,
    display_name: indexed.display_name,
    user_email: indexed.user_email,
    user_access: indexed.user_access,
    entries: namedEntries(indexed.entries, names),
  };
}

/** Document id: account and user joined by U+001F (which no id may contain), hashed when too long. */
export function userDocId(accountId: string, userId: string): string {
  return `${accountId}\u001f${userId}`;
}

/**
 * Reading one account's counters (kept by the projector, layout in src/redis/keys.ts) for the
 * summary and the queues view. Each read is atomic (MULTI or one Lua script), so an answer never
 * mixes counters from before and after a commit.
 */
import type { Redis } from 'ioredis';
import { ACCESS_TYPES, type AccessType, type Channel, type ChannelScope } from '../../projections/index.ts';
import { AppError } from '../errors.ts';
import { APPLIED_PREFIX, type KeySpace, accountKeys, offsetsIn } from '../redis/keys.ts';

export interface SummaryCounts {
  users: { total: number } & Record<AccessType, number>;
  queues: Record<AccessType, number>;
  inboxes: number;
}

/**
 * The account's own applied offsets (`<topic>:<partition>` -> offset), read with its counters:
 * its counters reflect exactly its events up to, per partition, the further of these and the
 * generation's applied position (see exactPositions).
 */
export type AccountOffsets = Map<string, bigint>;

const accountOffsets = (meta: Record<string, string>): AccountOffsets => offsetsIn(meta, APPLIED_PREFIX);

/**
 * The positions an account's counters reflect exactly: per partition, the generation's position
 * read before them, or the account's own applied offset where it is further (an account's commit
 * lands before the generation's applied position is raised). Events of the partition between the
 * two belong to other accounts, or the account's offset would be past them.
 */
export function exactPositions(generation: ReadonlyMap<string, bigint>, account: AccountOffsets): Map<string, bigint> {
  const out = new Map(generation);
  for (const [field, offset] of account) if ((out.get(field) ?? -1n) < offset) out.set(field, offset);
  return out;
}

export interface QueueRow {
  cc_queue_id: string;
  queue_name: string;
  channel: Channel | null;
  users: Record<AccessType, number>;
}

type MultiResult = [Error | null, unknown][] | null;

function values(results: MultiResult): unknown[] {
  if (!results) throw new AppError('redis_unavailable', 'Redis transaction aborted', { retriable: true });
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}

/**
 * The summary of `scope`: user counts are refcounts; queue and inbox counts are the number of
 * fields of their hashes (the projector deletes a field when its count reaches 0).
 */
export async function readSummary(redis: Redis, space: KeySpace, accountId: string, scope: ChannelScope): Promise<SummaryCounts & { offsets: AccountOffsets }> {
  const k = accountKeys(space, accountId);
  const multi = redis
    .multi()
    .hgetall(k.meta)
    .hmget(k.userCounters, `${scope}|total`, ...ACCESS_TYPES.map((t) => `${scope}|${t}`));
  for (const type of ACCESS_TYPES) multi.hlen(k.queueCounters(scope, type));
  multi.hlen(k.inboxCounters(scope));
  const [meta, users, ...lengths] = values(await multi.exec()) as [Record<string, string>, (string | null)[], ...number[]];
  const n = (value: string | null | undefined) => Math.max(0, Number(value ?? 0));
  const summary: SummaryCounts & { offsets: AccountOffsets } = {
    offsets: accountOffsets(meta),
    users: { total: n(users[0]), inbox: 0, automatic_call_recording: 0, ad_hoc_call_recording: 0 },
    queues: { inbox: 0, automatic_call_recording: 0, ad_hoc_call_recording: 0 },
    inboxes: lengths[ACCESS_TYPES.length] ?? 0,
  };
  ACCESS_TYPES.forEach((type, i) => {
    summary.users[type] = n(users[i + 1]);
    summary.queues[type] = lengths[i] ?? 0;
  });
  return summary;
}

// KEYS: meta hash, facts hash, then one queue-counter hash per access type. Returns one flat HGETALL
// per counter hash, then a flat list of (queue id, queue fact JSON or nil) for every queue seen, then
// the flat HGETALL of the meta hash (the account's applied offsets).
const READ_QUEUES = `
local out, names = {}, {}
for i = 3, #KEYS do
  local rows = redis.call('HGETALL', KEYS[i])
  out[#out + 1] = rows
  for j = 1, #rows, 2 do
    if names[rows[j]] == nil then names[rows[j]] = redis.call('HGET', KEYS[2], 'q\\31' .. rows[j]) or false end
  end
end
local flat = {}
for q, fact in pairs(names) do flat[#flat + 1] = q; flat[#flat + 1] = fact end
out[#out + 1] = flat
out[#out + 1] = redis.call('HGETALL', KEYS[1])
return out
`;

/**
 * The queues view of `scope`: every queue with a positive counter for one of `types`, with its name
 * and channel from the facts, sorted by name then id.
 */
export async function readQueues(
  redis: Redis,
  space: KeySpace,
  accountId: string,
  scope: ChannelScope,
  types: readonly AccessType[],
): Promise<{ rows: QueueRow[]; offsets: AccountOffsets }> {
  const k = accountKeys(space, accountId);
  const reply = (await redis.eval(READ_QUEUES, 2 + types.length, k.meta, k.facts, ...types.map((t) => k.queueCounters(scope, t)))) as (string | null)[][];
  const metaFlat = reply[types.length + 1] ?? [];
  const meta: Record<string, string> = {};
  for (let j = 0; j < metaFlat.length; j += 2) meta[metaFlat[j]!] = metaFlat[j + 1]!;
  const rows = new Map<string, QueueRow>();
  types.forEach((type, i) => {
    const flat = reply[i] ?? [];
    for (let j = 0; j < flat.length; j += 2) {
      const id = flat[j]!;
      const count = Number(flat[j + 1]);
      if (!(count > 0)) continue;
      let row = rows.get(id);
      if (!row) rows.set(id, (row = { cc_queue_id: id, queue_name: id, channel: null, users: { inbox: 0, automatic_call_recording: 0, ad_hoc_call_recording: 0 } }));
      row.users[type] = count;
    }
  });
  const facts = reply[types.length] ?? [];
  for (let j = 0; j < facts.length; j += 2) {
    const row = rows.get(facts[j]!);
    const json = facts[j + 1];
    if (!row || !json) continue;
    const fact = JSON.parse(json) as { queue_name: string; channel: Channel };
    row.queue_name = fact.queue_name;
    row.channel = fact.channel;
  }
  const sorted = [...rows.values()].sort((a, b) => byNameThenId(a.queue_name, a.cc_queue_id, b.queue_name, b.cc_queue_id));
  return { rows: sorted, offsets: accountOffsets(meta) };
}

/** The views' order: by name (as people read it), then by id. */
export function byNameThenId(nameA: string, idA: string, nameB: string, idB: string): number {
  return nameA.localeCompare(nameB, 'en') || (idA < idB ? -1 : idA > idB ? 1 : 0);
}

export interface InboxRow {
  inbox_id: string;
  inbox_name: string;
  users: number;
}

// KEYS: meta hash, facts hash, the inbox-counter hash. Returns the flat HGETALL of the counters, the
// inboxes' fact JSON (or nil) in the same order, and the flat HGETALL of the meta hash.
const READ_INBOXES = `
local rows = redis.call('HGETALL', KEYS[3])
local names = {}
for j = 1, #rows, 2 do names[#names + 1] = redis.call('HGET', KEYS[2], 'i\\31' .. rows[j]) or false end
return { rows, names, redis.call('HGETALL', KEYS[1]) }
`;

/** The inboxes view of `scope`: every inbox with a positive counter, with its name from the facts, sorted by name then id. */
export async function readInboxes(redis: Redis, space: KeySpace, accountId: string, scope: ChannelScope): Promise<{ rows: InboxRow[]; offsets: AccountOffsets }> {
  const k = accountKeys(space, accountId);
  const [flat = [], names = [], metaFlat = []] = (await redis.eval(READ_INBOXES, 3, k.meta, k.facts, k.inboxCounters(scope))) as (string | null)[][];
  const meta: Record<string, string> = {};
  for (let j = 0; j < metaFlat.length; j += 2) meta[metaFlat[j]!] = metaFlat[j + 1]!;
  const rows: InboxRow[] = [];
  for (let j = 0; j < flat.length; j += 2) {
    const users = Number(flat[j + 1]);
    if (!(users > 0)) continue;
    const id = flat[j]!;
    const json = names[j / 2];
    rows.push({ inbox_id: id, inbox_name: json ? (JSON.parse(json) as { inbox_name: string }).inbox_name : id, users });
  }
  return { rows: rows.sort((a, b) => byNameThenId(a.inbox_name, a.inbox_id, b.inbox_name, b.inbox_id)), offsets: accountOffsets(meta) };
}

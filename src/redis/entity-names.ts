/**
 * The names of an account's inboxes and queues at an answer's position, read from its raw facts
 * in Redis (decision 64): the index stores no names, so the drill-down and the export name entries
 * when they answer. Each raw fact carries the event that set it; a value set after the position
 * (a rename, or any change of a queue, that the projector committed and whose refresh is not
 * published yet) is walked back through the fact intervals it closed, which stay in the account's
 * interval outbox until that publish (decision 47). What cannot be walked back (the outbox cleared
 * meanwhile, or an entity created after the position) is "ahead": the reader waits for a position
 * that covers it (read-context's min_position).
 */
import type { Redis } from 'ioredis';
import { ACCESS_TYPES, type EntityNames, SEP, entityFactKey, tombstoneKey } from '../../projections/index.ts';
import { decodeIntervalOutbox } from '../records/account-records.ts';
import { type FactIntervalRecord, type RawValue, factRecordIdPrefix } from '../records/fact-intervals.ts';
import { type KeySpace, accountKeys } from './keys.ts';

/** The ids to name. */
export interface NamedIds {
  inboxes: Iterable<string>;
  queues: Iterable<string>;
}

type Kind = 'inbox' | 'queue';
const NAME_FIELD: Record<Kind, 'inbox_name' | 'queue_name'> = { inbox: 'inbox_name', queue: 'queue_name' };

/** An entity as its raw facts say it now: its value and its tombstone (either may be absent). */
interface EntityRead {
  kind: Kind;
  value: RawValue | undefined;
  gone: RawValue | undefined;
}

/** What keeps a read from naming its entities exactly at its position. */
export interface NamesBlocked {
  /** per `<topic>:<partition>`, the offset a position must reach */
  ahead: Map<string, bigint>;
  /** entities with neither a value nor a tombstone: the read met a state being replaced (a repair) */
  missing: number;
}

/** Whether anything keeps the read from naming its entities exactly at its position. */
export const namesBlocked = (blocked: NamesBlocked): boolean => blocked.ahead.size > 0 || blocked.missing > 0;

// KEYS: the raw facts, the inbox counters of the `all` scope, then its queue counters per access type.
// ARGV: the raw facts' key prefixes of an inbox, an inbox's tombstone, a queue and a queue's tombstone
// (entityFactKey and tombstoneKey with an empty id: the script does not spell the keys itself).
// Returns, for every inbox then every queue some entry counts (ids once): kind ('inbox' or 'queue'), id, raw value, tombstone.
const SHOWN_ENTITIES = `
local out, seen = {}, {}
for i = 2, #KEYS do
  local kind, value, gone = 'inbox', ARGV[1], ARGV[2]
  if i > 2 then kind, value, gone = 'queue', ARGV[3], ARGV[4] end
  for _, id in ipairs(redis.call('HKEYS', KEYS[i])) do
    if not seen[value .. id] then
      seen[value .. id] = true
      out[#out + 1] = kind
      out[#out + 1] = id
      out[#out + 1] = redis.call('HGET', KEYS[1], value .. id) or false
      out[#out + 1] = redis.call('HGET', KEYS[1], gone .. id) or false
    end
  end
end
return out
`;

/** SHOWN_ENTITIES' ARGV: the key prefixes of inboxes and queues, and of their tombstones. */
const SHOWN_PREFIXES = (['inbox', 'queue'] as const).flatMap((kind) => [entityFactKey(kind, ''), tombstoneKey(kind, '')]);

// KEYS: the interval outbox. ARGV: the outbox field prefix of each raw key wanted (`f␟<account>␟<key>␟`).
// Returns the records of those keys.
const PAST_RECORDS = `
local out = {}
for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
  for i = 1, #ARGV do
    if string.sub(field, 1, #ARGV[i]) == ARGV[i] then
      out[#out + 1] = redis.call('HGET', KEYS[1], field)
      break
    end
  end
end
return out
`;

const parse = (json: string | null | undefined): RawValue | undefined => (json ? (JSON.parse(json) as RawValue) : undefined);
const fieldOf = (f: RawValue['f']) => `${f.topic}:${f.partition}`;
const covered = (f: RawValue['f'], positions: ReadonlyMap<string, bigint>) => BigInt(f.offset) <= (positions.get(fieldOf(f)) ?? -1n);

/** No closed intervals: what a value set at or before the position needs. */
const NO_PAST: ReadonlyMap<string, FactIntervalRecord> = new Map();

/** The name at `positions`, walking back through `past` (records by the id of the event that closed them). */
function nameAt(
  key: string,
  e: EntityRead,
  positions: ReadonlyMap<string, bigint>,
  past: ReadonlyMap<string, FactIntervalRecord>,
): { name: string | undefined } | { ahead: RawValue['f'] } {
  let value = e.value?.v;
  let setBy = e.value?.f ?? e.gone!.f;
  while (!covered(setBy, positions)) {
    const before = past.get(`${key}${SEP}${setBy.event_id}`);
    if (!before) return { ahead: setBy };
    value = before.value;
    setBy = before.from;
  }
  const name = value === undefined ? undefined : (JSON.parse(value) as Record<string, unknown>)[NAME_FIELD[e.kind]];
  return { name: typeof name === 'string' ? name : undefined };
}

/** One answer's names: what it read of the account's raw facts, and the names resolved at its position. */
export function entityNamesReader(redis: Redis, space: KeySpace, accountId: string) {
  const keys = accountKeys(space, accountId);
  const read = new Map<string, EntityRead>();
  const resolved = new Map<string, string | undefined>();
  const names: EntityNames = { inbox: (id) => resolved.get(entityFactKey('inbox', id)), queue: (id) => resolved.get(entityFactKey('queue', id)) };
  const add = (kind: Kind, id: string, value: string | null | undefined, gone: string | null | undefined): string => {
    const key = entityFactKey(kind, id);
    read.set(key, { kind, value: parse(value), gone: parse(gone) });
    return key;
  };

  return {
    names,
    /** Reads the raw facts of the ids not read yet (one HMGET); returns their keys. */
    async read(ids: NamedIds): Promise<string[]> {
      const wanted: [Kind, string][] = [];
      for (const id of ids.inboxes) if (!read.has(entityFactKey('inbox', id))) wanted.push(['inbox', id]);
      for (const id of ids.queues) if (!read.has(entityFactKey('queue', id))) wanted.push(['queue', id]);
      if (wanted.length === 0) return [];
      const values = await redis.hmget(keys.rawFacts, ...wanted.flatMap(([kind, id]) => [entityFactKey(kind, id), tombstoneKey(kind, id)]));
      return wanted.map(([kind, id], i) => add(kind, id, values[2 * i], values[2 * i + 1]));
    },
    /** Reads, at once, the raw facts of every inbox and queue the account's entries show now (its counters' keys). */
    async readShown(): Promise<string[]> {
      const counterKeys = [keys.rawFacts, keys.inboxCounters('all'), ...ACCESS_TYPES.map((t) => keys.queueCounters('all', t))];
      const flat = (await redis.eval(SHOWN_ENTITIES, counterKeys.length, ...counterKeys, ...SHOWN_PREFIXES)) as (string | null)[];
      const out: string[] = [];
      for (let j = 0; j < flat.length; j += 4) out.push(add(flat[j] as Kind, flat[j + 1]!, flat[j + 2], flat[j + 3]));
      return out;
    },
    /** Names the entities of `which` (keys read) at `positions`; says what keeps any of them from it. */
    async resolve(which: readonly string[], positions: ReadonlyMap<string, bigint>): Promise<NamesBlocked> {
      const blocked: NamesBlocked = { ahead: new Map(), missing: 0 };
      const later: string[] = [];
      for (const key of which) {
        const e = read.get(key)!;
        if (!e.value && !e.gone) blocked.missing += 1;
        else if (!covered(e.value?.f ?? e.gone!.f, positions)) later.push(key);
        else {
          const at = nameAt(key, e, positions, NO_PAST);
          if ('name' in at) resolved.set(key, at.name);
        }
      }
      if (later.length === 0) return blocked;
      const records = (await redis.eval(PAST_RECORDS, 1, keys.intervalOutbox, ...later.map((key) => factRecordIdPrefix(accountId, key)))) as string[];
      const past = new Map<string, FactIntervalRecord>();
      for (const [, { json }] of decodeIntervalOutbox(records.map((value, i): [string, string] => [String(i), value]))) {
        const r = JSON.parse(json) as FactIntervalRecord;
        if (r.to) past.set(`${r.fact_key}${SEP}${r.to.event_id}`, r);
      }
      for (const key of later) {
        const at = nameAt(key, read.get(key)!, positions, past);
        if ('name' in at) resolved.set(key, at.name);
        else if ((blocked.ahead.get(fieldOf(at.ahead)) ?? -1n) < BigInt(at.ahead.offset)) blocked.ahead.set(fieldOf(at.ahead), BigInt(at.ahead.offset));
      }
      return blocked;
    },
  };
}

export type EntityNamesReader = ReturnType<typeof entityNamesReader>;

/**
 * The names of an account's inboxes and queues at an answer's position, read from its raw facts
 * in Redis (decision 64): the index stores no names, so the drill-down and the export name entries
 * when they answer. Each raw fact carries the event that set it, so a name is known to be the one
 * at a position when that event is at or before it; a name set (or an entity deleted) after it is
 * "ahead", and the reader waits for a position that covers it (read-context's min_position).
 */
import type { Redis } from 'ioredis';
import { type EntityNames, SEP, entityFactKey } from '../../projections/index.ts';
import type { RawValue } from '../records/fact-intervals.ts';
import { type KeySpace, accountKeys } from './keys.ts';

/** The ids to name. */
export interface NamedIds {
  inboxes: Iterable<string>;
  queues: Iterable<string>;
}

/** Names, and per `<topic>:<partition>` the furthest offset of the events that set them. */
export interface NamesAt {
  names: EntityNames;
  setBy: ReadonlyMap<string, bigint>;
}

type Kind = 'inbox' | 'queue';
const PREFIX: Record<Kind, 'i' | 'q'> = { inbox: 'i', queue: 'q' };
const NAME_FIELD: Record<Kind, 'inbox_name' | 'queue_name'> = { inbox: 'inbox_name', queue: 'queue_name' };
const goneKey = (kind: Kind, id: string) => `x${SEP}${PREFIX[kind]}${SEP}${id}`;

function collector() {
  const known = new Map<string, string | undefined>();
  const setBy = new Map<string, bigint>();
  const note = (json: string | null | undefined): RawValue | undefined => {
    if (!json) return undefined;
    const raw = JSON.parse(json) as RawValue;
    const field = `${raw.f.topic}:${raw.f.partition}`;
    const offset = BigInt(raw.f.offset);
    if ((setBy.get(field) ?? -1n) < offset) setBy.set(field, offset);
    return raw;
  };
  return {
    /** the entity's raw value and its tombstone (either may be absent) */
    add(kind: Kind, id: string, value: string | null | undefined, gone: string | null | undefined): void {
      const raw = note(value);
      note(gone);
      const name = raw ? (JSON.parse(raw.v) as Record<string, unknown>)[NAME_FIELD[kind]] : undefined;
      known.set(entityFactKey(kind, id), typeof name === 'string' ? name : undefined);
    },
    result(): NamesAt {
      return { names: { inbox: (id) => known.get(entityFactKey('inbox', id)), queue: (id) => known.get(entityFactKey('queue', id)) }, setBy };
    },
  };
}

/** The names of `ids` (one HMGET of the account's raw facts). */
export async function readNamesAt(redis: Redis, space: KeySpace, accountId: string, ids: NamedIds): Promise<NamesAt> {
  const wanted: [Kind, string][] = [...[...ids.inboxes].map((id): [Kind, string] => ['inbox', id]), ...[...ids.queues].map((id): [Kind, string] => ['queue', id])];
  const out = collector();
  if (wanted.length === 0) return out.result();
  const values = await redis.hmget(accountKeys(space, accountId).rawFacts, ...wanted.flatMap(([kind, id]) => [entityFactKey(kind, id), goneKey(kind, id)]));
  wanted.forEach(([kind, id], i) => out.add(kind, id, values[2 * i], values[2 * i + 1]));
  return out.result();
}

/** The names of every inbox and queue of the account (a scan of its raw facts: an export's whole snapshot). */
export async function readAllNamesAt(redis: Redis, space: KeySpace, accountId: string): Promise<NamesAt> {
  const key = accountKeys(space, accountId).rawFacts;
  const values = new Map<string, string>();
  let cursor = '0';
  do {
    const [next, flat] = await redis.hscan(key, cursor, 'COUNT', 5000);
    for (let j = 0; j < flat.length; j += 2) {
      const field = flat[j]!;
      if (/^(x\u001f)?[iq]\u001f/.test(field)) values.set(field, flat[j + 1]!);
    }
    cursor = next;
  } while (cursor !== '0');
  const out = collector();
  for (const field of values.keys()) {
    const gone = field.startsWith(`x${SEP}`);
    const kind: Kind = field[gone ? 2 : 0] === 'i' ? 'inbox' : 'queue';
    const id = field.slice(gone ? 4 : 2);
    out.add(kind, id, values.get(entityFactKey(kind, id)), values.get(goneKey(kind, id)));
  }
  return out.result();
}

/** The positions a read must reach for `names` to be those at it: where they were set after `positions` (empty: they are). */
export function namesAhead(names: NamesAt, positions: ReadonlyMap<string, bigint>): Map<string, bigint> {
  const ahead = new Map<string, bigint>();
  for (const [field, offset] of names.setBy) if (offset > (positions.get(field) ?? -1n)) ahead.set(field, offset);
  return ahead;
}

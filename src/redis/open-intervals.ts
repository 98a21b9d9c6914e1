/**
 * Reading an account's intervals from Redis for `as_of` and a user's history (decision 47): the
 * open ones are the raw facts (each with the event that set it), the closed ones that no refresh
 * has shown yet are the interval outbox. Each read is atomic (MULTI or one Lua script) and carries
 * the account's version, the state the reader cuts the index's records at (`mergeIntervals`).
 */
import type { Redis } from 'ioredis';
import { decodeIntervalOutbox } from '../records/account-records.ts';
import { type AccountHead, type FactIntervalRecord, type IntervalSnapshot, type RawValue, openRecord, subjectRange } from '../records/fact-intervals.ts';
import { unwrap } from './account-store.ts';
import { APPLIED_PREFIX, type KeySpace, accountKeys, generationKeys, offsetsIn } from './keys.ts';

/**
 * The raw facts of some subjects, the outbox and the version, in one step.
 * KEYS: meta, subject index, raw facts, interval outbox. ARGV: (min, max)* lex ranges, one per subject.
 * Returns {meta, {key, json}*, {id, value}*} (each flat).
 */
const SUBJECT_INTERVALS = `
local keys = {}
for i = 1, #ARGV, 2 do
  for _, m in ipairs(redis.call('ZRANGEBYLEX', KEYS[2], ARGV[i], ARGV[i + 1])) do keys[#keys + 1] = m end
end
local raw = {}
for _, m in ipairs(keys) do
  local key = string.sub(m, string.find(m, '\\0', 1, true) + 1)
  local json = redis.call('HGET', KEYS[3], key)
  if json then raw[#raw + 1] = key; raw[#raw + 1] = json end
end
return {redis.call('HGETALL', KEYS[1]), raw, redis.call('HGETALL', KEYS[4])}
`;

function openRecords(accountId: string, pairs: Iterable<readonly [string, string]>): FactIntervalRecord[] {
  const out: FactIntervalRecord[] = [];
  for (const [key, json] of pairs) out.push(openRecord(accountId, key, JSON.parse(json) as RawValue));
  return out;
}

function closedRecords(outbox: Iterable<readonly [string, string]>, subjects?: ReadonlySet<string>): FactIntervalRecord[] {
  const out: FactIntervalRecord[] = [];
  for (const { json } of decodeIntervalOutbox(outbox).values()) {
    const record = JSON.parse(json) as FactIntervalRecord;
    if (!subjects || subjects.has(record.subject)) out.push(record);
  }
  return out;
}

function pairsOf(flat: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

/** The version and applied offsets of an account's meta hash. */
function stateOf(meta: Record<string, string>): { version: number; offsets: Map<string, bigint> } {
  return { version: Number(meta.v ?? 0), offsets: offsetsIn(meta, APPLIED_PREFIX) };
}

/**
 * Every interval of the account Redis holds (what `as_of` merges with the index's closed records),
 * with the generation's epoch read in the same step: a version names a state only within an epoch
 * (a rollback repair raises it, and the replay after it counts the versions again).
 */
export async function readAccountIntervals(redis: Redis, space: KeySpace, accountId: string): Promise<IntervalSnapshot> {
  const k = accountKeys(space, accountId);
  const [meta, raw, outbox, epoch] = unwrap(
    await redis.multi().hgetall(k.meta).hgetall(k.rawFacts).hgetall(k.intervalOutbox).hget(generationKeys(space).identity, 'epoch').exec(),
  ) as [Record<string, string>, Record<string, string>, Record<string, string>, string | null];
  return { ...stateOf(meta), epoch: Number(epoch ?? 0), open: openRecords(accountId, Object.entries(raw)), closed: closedRecords(Object.entries(outbox)) };
}

/**
 * The account's version, applied offsets and the generation's epoch, without its intervals: what
 * names the state an answer at T would read (decision 55), in one step.
 */
export async function readAccountHead(redis: Redis, space: KeySpace, accountId: string): Promise<AccountHead> {
  const [meta, epoch] = unwrap(await redis.multi().hgetall(accountKeys(space, accountId).meta).hget(generationKeys(space).identity, 'epoch').exec()) as [
    Record<string, string>,
    string | null,
  ];
  return { ...stateOf(meta), epoch: Number(epoch ?? 0) };
}

/** The account's intervals of the given subjects that Redis holds (what a user's history merges). */
export async function readSubjectIntervals(redis: Redis, space: KeySpace, accountId: string, subjects: readonly string[]): Promise<IntervalSnapshot> {
  const k = accountKeys(space, accountId);
  const ranges = subjects.flatMap(subjectRange);
  const [meta, raw, outbox] = (await redis.eval(SUBJECT_INTERVALS, 4, k.meta, k.rawSubjects, k.rawFacts, k.intervalOutbox, ...ranges)) as string[][];
  return { ...stateOf(Object.fromEntries(pairsOf(meta!))), open: openRecords(accountId, pairsOf(raw!)), closed: closedRecords(pairsOf(outbox!), new Set(subjects)) };
}

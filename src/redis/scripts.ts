/**
 * Lua scripts: each runs atomically in Redis, which is what makes a batch's effect on one account
 * (facts, remembered ids, counters, outbox, applied offsets) all-or-nothing, and fenced.
 */

/**
 * Commit one account's batch.
 * KEYS: facts, seen, meta, dirty, interval outbox, raw facts, raw facts by subject.
 * ARGV: expectedVersion, offsetField, lastOffset, newestMs, pruneBeforeMs,
 *       nSet, (key, value)*, nDel, key*, nSeen, (score, id)*, nCounters, (hash, field, delta)*, nDirty, userId*,
 *       nIntervals, (id, record)*, nRawSet, (key, value, subject member)*, nRawDel, (key, subject member)*
 * Outbox values are `<version>\n<payload>` so that clearing can tell old entries from new ones.
 * Returns the new version, or -1 when the account changed since it was read (another projector
 * wrote it): the caller reloads and tries again, and nothing was written.
 */
export const COMMIT_BATCH = `
local facts, seen, meta, dirty, hout, raw, rsub = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local version = tonumber(redis.call('HGET', meta, 'v') or '0')
if version ~= tonumber(ARGV[1]) then return -1 end
local stored = redis.call('HGET', meta, ARGV[2])
if stored and tonumber(stored) >= tonumber(ARGV[3]) then return -1 end
local newVersion = version + 1
local i = 6
local n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do redis.call('HSET', facts, ARGV[i], ARGV[i + 1]); i = i + 2 end
n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do redis.call('HDEL', facts, ARGV[i]); i = i + 1 end
n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do redis.call('ZADD', seen, ARGV[i], ARGV[i + 1]); i = i + 2 end
n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do
  local left = redis.call('HINCRBY', ARGV[i], ARGV[i + 1], ARGV[i + 2])
  if left <= 0 then redis.call('HDEL', ARGV[i], ARGV[i + 1]) end
  i = i + 3
end
n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do redis.call('HSET', dirty, ARGV[i], newVersion); i = i + 1 end
n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do redis.call('HSET', hout, ARGV[i], newVersion .. '\\n' .. ARGV[i + 1]); i = i + 2 end
n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do redis.call('HSET', raw, ARGV[i], ARGV[i + 1]); redis.call('ZADD', rsub, 0, ARGV[i + 2]); i = i + 3 end
n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do redis.call('HDEL', raw, ARGV[i]); redis.call('ZREM', rsub, ARGV[i + 1]); i = i + 2 end
if tonumber(ARGV[5]) > -1e300 then redis.call('ZREMRANGEBYSCORE', seen, '-inf', '(' .. ARGV[5]) end
redis.call('HSET', meta, 'v', newVersion, 'n', ARGV[4], ARGV[2], ARGV[3])
return newVersion
`;

/**
 * Forget outbox entries that were written at `version` or later (values start with their version).
 * KEYS: dirty users, interval outbox. ARGV: version, n, n dirty user ids, then interval record ids.
 * Returns how many entries are left in both.
 */
export const CLEAR_OUTBOX = `
local v = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
for i = 3, #ARGV do
  local hash = KEYS[2]
  if i < 3 + n then hash = KEYS[1] end
  local at = redis.call('HGET', hash, ARGV[i])
  if at and tonumber(string.match(at, '^(%d+)')) <= v then redis.call('HDEL', hash, ARGV[i]) end
end
return redis.call('HLEN', KEYS[1]) + redis.call('HLEN', KEYS[2])
`;

/**
 * Raise positions, never lower them (two projectors may publish for the same partition around a
 * rebalance). KEYS: positions. ARGV: (field, offset)*.
 */
export const RAISE_POSITIONS = `
for i = 1, #ARGV, 2 do
  local cur = redis.call('HGET', KEYS[1], ARGV[i])
  if not cur or tonumber(cur) < tonumber(ARGV[i + 1]) then redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
return 1
`;

/**
 * Raise applied positions, but only where the raise continues the partition: a batch from offset
 * F may raise a partition whose applied offset is at least F - 1. Checked for every field before
 * any is set; returns the first field that would jump a gap (nothing set), or '' when all were
 * raised. This is what keeps a Redis that came back older (a command issued before its restart
 * and resent after it) from being told that events it lost are applied.
 * KEYS: applied. ARGV: (field, from, to)*.
 */
export const RAISE_APPLIED = `
for i = 1, #ARGV, 3 do
  local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '-1')
  if cur + 1 < tonumber(ARGV[i + 1]) then return ARGV[i] end
end
for i = 1, #ARGV, 3 do
  local cur = redis.call('HGET', KEYS[1], ARGV[i])
  if not cur or tonumber(cur) < tonumber(ARGV[i + 2]) then redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 2]) end
end
return ''
`;

/** Set a counter to ARGV[1] unless it is already higher. KEYS: the counter. */
export const RAISE_COUNTER = `
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if cur < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
`;

/**
 * A refresh starts (decision 59): the accounts it may show part-written are marked (their count made
 * odd, their partition noted), and the refresh's number is taken, in one step: a reader that reads the
 * number and the account's count sees either both before or both after. Returns the number.
 * KEYS: refreshing, torn, torn partitions. ARGV: (account, partition)*.
 */
export const BEGIN_REFRESH = `
for i = 1, #ARGV, 2 do
  local n = tonumber(redis.call('HGET', KEYS[2], ARGV[i]) or '0')
  if n % 2 == 0 then redis.call('HSET', KEYS[2], ARGV[i], n + 1) end
  redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
end
return redis.call('INCR', KEYS[1])
`;

/**
 * A refresh's positions are published (`refreshed` raised to ARGV[1]) and the marks of the accounts
 * it shows whole again are lifted (their count made even), in one step.
 * KEYS: refreshed, torn, torn partitions. ARGV: n, account*.
 */
export const END_REFRESH = `
for i = 2, #ARGV do
  local n = tonumber(redis.call('HGET', KEYS[2], ARGV[i]) or '0')
  if n % 2 == 1 then redis.call('HSET', KEYS[2], ARGV[i], n + 1) end
  redis.call('HDEL', KEYS[3], ARGV[i])
end
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if cur < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
`;

/**
 * Every mark lifted (a rollback repair rewrote every account whole and refreshed): counts made even,
 * so that a reader's count still changes. KEYS: torn, torn partitions.
 */
export const LIFT_ALL = `
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local n = tonumber(all[i + 1])
  if n % 2 == 1 then redis.call('HSET', KEYS[1], all[i], n + 1) end
end
redis.call('DEL', KEYS[2])
return 1
`;

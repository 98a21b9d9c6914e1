/**
 * The account store in Redis (the adapter of src/ports/account-state.ts): facts, remembered event
 * ids, counters, outbox and applied offsets of each account. Reads give a consistent snapshot (MULTI); a batch commits in one Lua script,
 * guarded by the account version so that two projectors never interleave writes to one account.
 */
import type { Redis } from 'ioredis';
import { type AccountFacts, type SeenIds, dedupeHorizon, emptyFacts, loadFacts } from '../../projections/index.ts';
import type { AccountFactsRead, AccountStateOptions, AccountStatePort, BatchCommit, LoadedAccount, OutboxClear } from '../ports/account-state.ts';
import { AppError } from '../errors.ts';
import { APPLIED_PREFIX, type AccountKeys, type KeySpace, SEARCHABLE_PREFIX, accountKeys, counterLocation, generationKeys, offsetsIn } from './keys.ts';
import { appliedGapMessage, coalesce, decodeIntervalOutbox, decodeRaw, splitRawChanges } from '../records/account-records.ts';
import { type RawState, emptyRaw, subjectMember } from '../records/fact-intervals.ts';
import { BEGIN_REFRESH, CLEAR_OUTBOX, COMMIT_BATCH, END_REFRESH, RAISE_APPLIED, RAISE_COUNTER, RAISE_POSITIONS } from './scripts.ts';

/** Fields per HSCAN piece of `load` and `readFacts`: a reply of a few hundred KiB. */
const DEFAULT_PIECE_SIZE = 2_000;

/** Reads in pieces that may see a commit before `load` reads the account whole (a commit by another projector is rare: a rebalance). */
const PIECED_ATTEMPTS = 3;

type MultiResult = [Error | null, unknown][] | null;

/** The values of a MULTI's replies; throws the first command's error, or when the transaction aborted. */
export function unwrap(results: MultiResult): unknown[] {
  if (!results) throw new AppError('redis_unavailable', 'Redis transaction aborted', { retriable: true });
  return results.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}

// eslint-disable-next-line max-lines-per-function -- a factory: its methods share the state above and are each short
export function createAccountStore(redis: Redis, space: KeySpace, options: AccountStateOptions = {}): AccountStatePort {
  const gen = generationKeys(space);
  const fence = options.fence ?? (() => undefined);
  const pieceSize = options.pieceSize ?? DEFAULT_PIECE_SIZE;

  /** A hash's fields and values, a piece (about `pieceSize` fields) at a time; a field may come twice (HSCAN's guarantee). */
  async function* hashPieces(key: string): AsyncGenerator<[string, string][]> {
    let cursor = '0';
    do {
      fence();
      const [next, flat] = await redis.hscan(key, cursor, 'COUNT', pieceSize);
      const piece: [string, string][] = [];
      for (let i = 0; i < flat.length; i += 2) piece.push([flat[i]!, flat[i + 1]!]);
      yield piece;
      cursor = next;
    } while (cursor !== '0');
  }

  /**
   * The account's facts and raw facts, a piece at a time, and the version before the first piece;
   * the fence runs before its first read and after its last (before the caller's check).
   * Every commit raises the version in the script that changes the hashes: the caller reads the
   * version again after the last piece, and an unchanged one means no piece saw another state.
   */
  async function factsInPieces(k: AccountKeys): Promise<{ facts: AccountFacts; raw: RawState; version: number }> {
    fence();
    const version = Number((await redis.hget(k.meta, 'v')) ?? 0);
    const facts = emptyFacts();
    const raw = emptyRaw();
    // The two hashes side by side: a piece waits behind whatever the connection sent before it
    // (a projector's commits), so two scans in flight wait half as many times.
    await Promise.all([
      (async () => {
        for await (const piece of hashPieces(k.facts)) loadFacts(piece, facts);
      })(),
      (async () => {
        for await (const piece of hashPieces(k.rawFacts)) decodeRaw(piece, raw);
      })(),
    ]);
    fence();
    return { facts, raw, version };
  }

  /** A loaded account from its hashes as read at one version, and its remembered ids within the window (read after them). */
  async function loaded(
    k: AccountKeys,
    windowMs: number,
    meta: Record<string, string>,
    facts: AccountFacts,
    dirty: Record<string, string>,
    hout: Record<string, string>,
    raw: RawState,
  ): Promise<LoadedAccount> {
    const newestMs = meta.n === undefined ? Number.NEGATIVE_INFINITY : Number(meta.n);
    const seen: SeenIds = { ids: new Map(), newestMs };
    if (Number.isFinite(newestMs)) {
      const rows = await redis.zrangebyscore(k.seen, dedupeHorizon({ ids: new Map(), newestMs }, windowMs), '+inf', 'WITHSCORES');
      for (let i = 0; i < rows.length; i += 2) seen.ids.set(rows[i]!, Number(rows[i + 1]));
    }
    return {
      state: { facts, seen },
      version: Number(meta.v ?? 0),
      offsets: offsetsIn(meta, APPLIED_PREFIX),
      dirty: new Map(Object.entries(dirty).map(([u, v]) => [u, Number(v)])),
      intervalOutbox: decodeIntervalOutbox(Object.entries(hout)),
      raw,
    };
  }

  /** Raises the offsets of a positions hash, never lowering one (two projectors may publish around a rebalance). */
  async function raise(hash: string, positions: ReadonlyMap<string, bigint>): Promise<void> {
    if (positions.size === 0) return;
    const args: string[] = [];
    for (const [field, offset] of positions) args.push(field, offset.toString());
    await redis.call('EVAL', [RAISE_POSITIONS, 1, hash].concat(args));
  }

  return {
    /**
     * Reads one account (facts, ids within the window, version, offsets, outbox) at one version: its
     * facts and raw facts in pieces, the rest in one MULTI that checks the version has not moved
     * (decision 70); after PIECED_ATTEMPTS reads that saw a commit, whole in one MULTI.
     */
    async load(accountId: string, windowMs: number): Promise<LoadedAccount> {
      const k = accountKeys(space, accountId);
      if (pieceSize > 0)
        for (let attempt = 0; attempt < PIECED_ATTEMPTS; attempt++) {
          const read = await factsInPieces(k);
          const [meta, dirty, hout] = unwrap(await redis.multi().hgetall(k.meta).hgetall(k.dirty).hgetall(k.intervalOutbox).exec()) as Record<string, string>[] as [
            Record<string, string>,
            Record<string, string>,
            Record<string, string>,
          ];
          if (Number(meta.v ?? 0) !== read.version) continue;
          return loaded(k, windowMs, meta, read.facts, dirty, hout, read.raw);
        }
      fence();
      const [meta, flat, dirty, hout, rawValues] = unwrap(
        await redis.multi().hgetall(k.meta).hgetall(k.facts).hgetall(k.dirty).hgetall(k.intervalOutbox).hgetall(k.rawFacts).exec(),
      ) as Record<string, string>[] as [Record<string, string>, Record<string, string>, Record<string, string>, Record<string, string>, Record<string, string>];
      return loaded(k, windowMs, meta, loadFacts(Object.entries(flat)), dirty, hout, decodeRaw(Object.entries(rawValues)));
    },

    async readFacts(accountId: string): Promise<AccountFactsRead | null> {
      const k = accountKeys(space, accountId);
      const read = await factsInPieces(k);
      const [after, dirtyUsers] = unwrap(await redis.multi().hget(k.meta, 'v').hlen(k.dirty).exec()) as [string | null, number];
      return Number(after ?? 0) === read.version ? { ...read, dirtyUsers } : null;
    },

    /** The last applied offset of each partition that has fed the account (`<topic>:<partition>`). */
    async appliedOffsets(accountId: string): Promise<Map<string, bigint>> {
      return offsetsIn(await redis.hgetall(accountKeys(space, accountId).meta), APPLIED_PREFIX);
    },

    /** The account's version alone (cheap staleness check). */
    async version(accountId: string): Promise<number> {
      return Number((await redis.hget(accountKeys(space, accountId).meta, 'v')) ?? 0);
    },

    /**
     * Commits a batch atomically. Returns the new version, or null when the account moved on since
     * `expectedVersion` (nothing was written; reload and retry).
     */
    async commit(c: BatchCommit): Promise<number | null> {
      fence();
      const k = accountKeys(space, c.accountId);
      const { set, del } = coalesce(c.changes);
      const args: (string | number)[] = [c.expectedVersion, `${APPLIED_PREFIX}${c.partition}`, c.lastOffset.toString(), c.newestMs, c.pruneBeforeMs];
      args.push(set.length);
      for (const [key, value] of set) args.push(key, value);
      args.push(del.length);
      for (const key of del) args.push(key);
      args.push(c.seen.length);
      for (const s of c.seen) args.push(s.timeMs, s.id);
      args.push(c.counterDeltas.size);
      for (const [key, delta] of c.counterDeltas) {
        const { hash, field } = counterLocation(k, key);
        args.push(hash, field, delta);
      }
      args.push(c.dirtyUsers.length);
      for (const u of c.dirtyUsers) args.push(u);
      args.push(c.intervalJson.size);
      for (const [id, json] of c.intervalJson) args.push(id, json);
      const { set: rawSet, del: rawDel } = splitRawChanges(c.rawChanges);
      args.push(rawSet.length);
      for (const [key, value] of rawSet) args.push(key, value, subjectMember(key));
      args.push(rawDel.length);
      for (const key of rawDel) args.push(key, subjectMember(key));
      // One round trip. The account is registered before the commit (Redis runs a pipeline in
      // order), so a crash right after it still finds the account; a stale entry costs one empty
      // flush. Arguments go as one array (ioredis flattens it): a spread of a large batch would
      // overflow the stack.
      const [, , result] = unwrap(
        await redis
          .pipeline()
          .sadd(gen.accounts, c.accountId)
          .sadd(gen.dirtyAccounts, c.accountId)
          .call('EVAL', [COMMIT_BATCH, 7, k.facts, k.seen, k.meta, k.dirty, k.intervalOutbox, k.rawFacts, k.rawSubjects].concat(args))
          .exec(),
      ) as [unknown, unknown, number];
      return result < 0 ? null : result;
    },

    /**
     * Forgets outbox entries (documents and fact intervals) written at each account's `version`
     * or later, for many accounts in one round trip (two when some account is now clean). An
     * account leaves the dirty set when both its outboxes are empty, and only when a check made
     * atomically with its removal still finds them empty: a commit racing in between puts it back.
     */
    async clearOutboxes(cleared: readonly OutboxClear[]): Promise<void> {
      if (cleared.length === 0) return;
      const pipeline = redis.pipeline();
      for (const c of cleared) {
        const k = accountKeys(space, c.accountId);
        // One array (ioredis flattens it): any number of ids without a spread.
        pipeline.call('EVAL', [CLEAR_OUTBOX, 2, k.dirty, k.intervalOutbox, c.version, c.userIds.length].concat(c.userIds, c.intervalIds));
      }
      const left = unwrap(await pipeline.exec()).map(Number);
      const clean = [...new Set(cleared.filter((_, i) => left[i] === 0).map((c) => c.accountId))];
      if (clean.length === 0) return;
      const removal = redis.multi();
      for (const accountId of clean) {
        const k = accountKeys(space, accountId);
        removal.srem(gen.dirtyAccounts, accountId).hlen(k.dirty).hlen(k.intervalOutbox);
      }
      const counts = unwrap(await removal.exec()).map(Number);
      const refilled = clean.filter((_, i) => counts[i * 3 + 1]! + counts[i * 3 + 2]! > 0);
      if (refilled.length > 0) await redis.sadd(gen.dirtyAccounts, ...refilled);
    },

    async dirtyAccounts(): Promise<string[]> {
      return redis.smembers(gen.dirtyAccounts);
    },

    async dirtyAmong(accountIds: readonly string[]): Promise<Set<string>> {
      if (accountIds.length === 0) return new Set();
      const member = await redis.smismember(gen.dirtyAccounts, ...accountIds);
      return new Set(accountIds.filter((_, i) => member[i] === 1));
    },

    async accounts(): Promise<string[]> {
      return (await redis.smembers(gen.accounts)).sort();
    },

    /** Publishes searchable positions (`<topic>:<partition>` -> offset), only ever raising them. */
    raisePositions(positions: ReadonlyMap<string, bigint>): Promise<void> {
      return raise(gen.positions, positions);
    },

    /** In each account's meta hash, as `s:<topic>:<partition>` (beside its applied `off:` offsets). */
    async raiseAccountPositions(byAccount: ReadonlyMap<string, ReadonlyMap<string, bigint>>): Promise<void> {
      if (byAccount.size === 0) return;
      const pipeline = redis.pipeline();
      for (const [accountId, positions] of byAccount) {
        const args: string[] = [];
        for (const [field, offset] of positions) args.push(`${SEARCHABLE_PREFIX}${field}`, offset.toString());
        if (args.length > 0) pipeline.eval(RAISE_POSITIONS, 1, accountKeys(space, accountId).meta, ...args);
      }
      unwrap(await pipeline.exec());
    },

    async accountPositions(accountId: string): Promise<Map<string, bigint>> {
      return offsetsIn(await redis.hgetall(accountKeys(space, accountId).meta), SEARCHABLE_PREFIX);
    },

    /**
     * Publishes applied positions: every event up to `to` is committed to its account's facts and
     * counters (only ever raised; the searchable positions follow after the bulk write). Each range
     * must continue its partition (`from` at most one past the applied offset): otherwise Redis has
     * lost applied events since they were checked, nothing is raised, and this throws.
     */
    async raiseApplied(ranges: ReadonlyMap<string, { from: bigint; to: bigint }>): Promise<void> {
      if (ranges.size === 0) return;
      fence();
      const args: string[] = [];
      for (const [field, { from, to }] of ranges) args.push(field, from.toString(), to.toString());
      const gap = (await redis.call('EVAL', [RAISE_APPLIED, 1, gen.applied].concat(args))) as string;
      if (gap) throw new AppError('store_conflict', appliedGapMessage(gap), { retriable: true });
    },

    /** A refresh starts: returns its number (src/redis/keys.ts `refreshing`), the `torn` accounts marked with it. */
    async beginRefresh(torn?: ReadonlyMap<string, number>): Promise<number> {
      if (!torn || torn.size === 0) return redis.incr(gen.refreshing);
      const args = [...torn].flatMap(([accountId, partition]) => [accountId, String(partition)]);
      return Number(await redis.call('EVAL', [BEGIN_REFRESH, 3, gen.refreshing, gen.torn, gen.tornPartitions].concat(args)));
    },

    async sealRefresh(n: number): Promise<void> {
      await redis.call('EVAL', [RAISE_COUNTER, 1, gen.sealed, String(n)]);
    },

    async sealedRefresh(): Promise<number> {
      return Number((await redis.get(gen.sealed)) ?? 0);
    },

    /** Refresh `n`'s positions are published (`refreshed` only ever goes up). */
    async endRefresh(n: number, whole?: readonly string[]): Promise<void> {
      if (!whole || whole.length === 0) await redis.call('EVAL', [RAISE_COUNTER, 1, gen.refreshed, String(n)]);
      else await redis.call('EVAL', [END_REFRESH, 3, gen.refreshed, gen.torn, gen.tornPartitions, String(n), ...whole]);
    },

    async tornAccounts(): Promise<Map<string, number>> {
      const [counts, partitions] = await Promise.all([redis.hgetall(gen.torn), redis.hgetall(gen.tornPartitions)]);
      return new Map(
        Object.entries(counts)
          .filter(([, n]) => Number(n) % 2 === 1)
          .map(([accountId]) => [accountId, Number(partitions[accountId] ?? -1)]),
      );
    },

    async positions(): Promise<Map<string, bigint>> {
      return offsetsIn(await redis.hgetall(gen.positions));
    },

    /** Applied positions: every event up to each offset is committed to Redis (`<topic>:<partition>` -> offset). */
    async applied(): Promise<Map<string, bigint>> {
      return offsetsIn(await redis.hgetall(gen.applied));
    },

    /** All counters of an account as core counter keys (for verify and tests). */
    async counters(accountId: string): Promise<Map<string, number>> {
      const k = accountKeys(space, accountId);
      const out = new Map<string, number>();
      const keys = await scanKeys(redis, `${escapeGlob(k.prefix)}:c[uqi]*`);
      for (const key of keys) {
        const fields = await redis.hgetall(key);
        const suffix = key.slice(k.prefix.length + 1);
        for (const [field, value] of Object.entries(fields)) {
          const n = Number(value);
          if (suffix === 'cu') {
            const bar = field.indexOf('|');
            out.set(`u|${field.slice(0, bar)}|${field.slice(bar + 1)}`, n);
          } else if (suffix.startsWith('cq:')) {
            const [, scope, type] = suffix.split(':');
            out.set(`q|${scope}|${type}|${field}`, n);
          } else if (suffix.startsWith('ci:')) out.set(`i|${suffix.slice(3)}|${field}`, n);
        }
      }
      return out;
    },
  };
}

function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

/**
 * Projecting one Kafka batch (one topic-partition): each account's events are applied and committed
 * to Redis atomically, then the changed documents are written to OpenSearch, then the outbox is
 * cleared. A crash anywhere leaves either nothing or a complete commit whose outbox says which
 * documents still have to be written.
 */
import type { Client } from '@opensearch-project/opensearch';
import { type UserDoc, deriveUser } from '../../projections/index.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { type DocOp, writeDocs } from '../opensearch/bulk-writer.ts';
import { toIndexedUser, userDocId } from '../opensearch/user-document.ts';
import type { AccountStore } from '../redis/account-store.ts';
import type { AccountCache, CachedAccount } from './account-cache.ts';
import { type PositionedEvent, planBatch } from './plan-batch.ts';

export interface BatchDeps {
  store: AccountStore;
  cache: AccountCache;
  opensearch: Client;
  index: () => string;
  windowMs: number;
  logger: Logger;
  metrics?: Metrics;
  maxBulkBytes?: number;
}

interface AccountWrites {
  accountId: string;
  /** the cached account the writes were derived from */
  account: CachedAccount;
  recovery: boolean;
  version: number;
  ops: DocOp[];
  users: string[];
}

function docOp(accountId: string, userId: string, doc: UserDoc | null, version: number): DocOp {
  const id = userDocId(accountId, userId);
  return doc ? { op: 'index', id, version, doc: toIndexedUser(accountId, doc) } : { op: 'delete', id, version };
}

/** Documents found in the outbox when the account was loaded: written again from the current facts. */
function recoveryWrites(accountId: string, account: CachedAccount): AccountWrites | undefined {
  if (account.recovered || account.dirty.size === 0) return undefined;
  const users = [...account.dirty.keys()];
  return {
    accountId,
    account,
    recovery: true,
    version: account.version,
    users,
    ops: users.map((u) => docOp(accountId, u, deriveUser(account.state.facts, u), account.version)),
  };
}

export interface BatchOutcome {
  applied: number;
  duplicates: number;
  alreadyApplied: number;
  documents: number;
  newestMs: number;
}

/** Applies one account's events from partition `field` (`<topic>:<partition>`), under its lock. */
async function projectAccount(deps: BatchDeps, field: string, accountId: string, events: readonly PositionedEvent[], outcome: BatchOutcome): Promise<AccountWrites[]> {
  const { cache, store, windowMs, metrics } = deps;
  for (;;) {
    const account = await cache.get(accountId);
    try {
      const writes: AccountWrites[] = [];
      const recovery = recoveryWrites(accountId, account);
      if (recovery) writes.push(recovery);
      const appliedUpTo = account.offsets.get(field) ?? -1n;
      const fresh = events.filter((e) => e.offset > appliedUpTo);
      outcome.alreadyApplied += events.length - fresh.length;
      if (fresh.length > 0) {
        const plan = planBatch(account.state, fresh, windowMs);
        const version = await store.commit({
          accountId,
          expectedVersion: account.version,
          partition: field,
          lastOffset: plan.lastOffset,
          changes: plan.changes,
          seen: plan.seen,
          newestMs: plan.newestMs,
          pruneBeforeMs: plan.pruneBeforeMs,
          counterDeltas: plan.counterDeltas,
          dirtyUsers: [...plan.docs.keys()],
        });
        if (version === null) {
          // Another projector wrote this account since we read it: read it again and redo.
          deps.logger.info({ accountId, field }, 'account changed elsewhere; reloading');
          cache.invalidate(accountId);
          continue;
        }
        account.version = version;
        account.offsets.set(field, plan.lastOffset);
        for (const userId of plan.docs.keys()) account.dirty.set(userId, version);
        for (const e of plan.applied) metrics?.eventsApplied.inc({ type: e.type });
        outcome.applied += plan.applied.length;
        outcome.duplicates += plan.duplicates;
        outcome.newestMs = Math.max(outcome.newestMs, plan.newestMs);
        const users = [...plan.docs.keys()];
        writes.push({ accountId, account, recovery: false, version, users, ops: users.map((u) => docOp(accountId, u, plan.docs.get(u) ?? null, version)) });
      }
      return writes;
    } catch (error) {
      // The in-memory state may be ahead of Redis now: forget it.
      cache.invalidate(accountId);
      throw error;
    }
  }
}

/**
 * Projects the batch's events (grouped by account, each group in partition order) and writes the
 * changed documents. Throws on an outage; calling again with the same events is safe.
 */
export async function projectBatch(deps: BatchDeps, field: string, byAccount: ReadonlyMap<string, PositionedEvent[]>): Promise<BatchOutcome> {
  const outcome: BatchOutcome = { applied: 0, duplicates: 0, alreadyApplied: 0, documents: 0, newestMs: 0 };
  const writes = (
    await Promise.all(
      [...byAccount].map(([accountId, events]) => deps.cache.withLock(accountId, () => projectAccount(deps, field, accountId, events, outcome))),
    )
  ).flat();
  const ops = writes.flatMap((w) => w.ops);
  if (ops.length > 0) {
    const result = await writeDocs(deps.opensearch, deps.index(), ops, {
      ...(deps.maxBulkBytes === undefined ? {} : { maxBytes: deps.maxBulkBytes }),
      onRequest: (seconds) => deps.metrics?.bulkSeconds.observe(seconds),
    });
    deps.metrics?.documentsWritten.inc({ op: 'index' }, result.indexed);
    deps.metrics?.documentsWritten.inc({ op: 'delete' }, result.deleted);
    outcome.documents = ops.length;
  }
  for (const w of writes) {
    await deps.store.clearDirty(w.accountId, w.version, w.users);
    // Only the very account object the writes came from learns about them: a reloaded one read
    // its outbox from Redis, which is already up to date.
    if (deps.cache.peek(w.accountId) !== w.account) continue;
    for (const u of w.users) if ((w.account.dirty.get(u) ?? Infinity) <= w.version) w.account.dirty.delete(u);
    if (w.recovery) w.account.recovered = true;
  }
  if (outcome.duplicates > 0) deps.metrics?.eventsSkipped.inc({ reason: 'duplicate_id' }, outcome.duplicates);
  if (outcome.alreadyApplied > 0) deps.metrics?.eventsSkipped.inc({ reason: 'already_applied' }, outcome.alreadyApplied);
  return outcome;
}

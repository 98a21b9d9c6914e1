/**
 * Zero-downtime rebuild: replay the four topics from the earliest offsets into the next generation
 * (indices and Redis keyspace) while the live generation keeps serving; once caught up, verify the
 * new generation against its own facts, check parity with the live one, and only then swap the
 * live pointer (and the aliases). The state is kept in Redis, so a killed rebuild resumes where it
 * stopped: same generation, same consumer group, committed offsets and idempotent commits.
 */
import type { Redis } from 'ioredis';
import { createGeneration, generationNumber, generationsWithGroups, generationsWithIndices, legacyHistoryAlias, writeAliases } from '../generation.ts';
import type { FaultCode } from '../integrity/fault.ts';
import { clearRepair, writeRepair } from '../integrity/repair-state.ts';
import { endOffsets, eventTopics } from '../kafka/client.ts';
import { requireFullHistory } from '../kafka/history-retention.ts';
import { createMetrics } from '../metrics.ts';
import { collectNow } from '../memory-budget.ts';
import { factsAlias, factsIndex, pointAlias, refreshIndices, usersAlias, usersIndex } from '../opensearch/indices.ts';
import { createProjector, projectorGroupId } from '../projector/projector.ts';
import { createAccountStore } from '../redis/account-store.ts';
import type { AccountStatePort } from '../ports/account-state.ts';
import { liveGenerationKey } from '../redis/keys.ts';
import type { Runtime } from '../runtime.ts';
import { type AccountReport, verifyAccount, verifyAll } from '../verify.ts';
import { checkParity } from './parity.ts';

export type RebuildPhase = 'filling' | 'verifying' | 'swapped' | 'failed';

export interface RebuildState {
  generation: string;
  live: string;
  phase: RebuildPhase;
  started_at: string;
  swapped_at?: string;
  message?: string;
  /** refreshed every few seconds while a rebuild process works on it */
  heartbeat_at?: string;
}

/** A rebuild whose heartbeat is this recent is taken to be running. */
export const REBUILD_HEARTBEAT_MS = 5_000;

export function rebuildRunning(state: RebuildState | null, now = Date.now()): boolean {
  return !!state && (state.phase === 'filling' || state.phase === 'verifying') && !!state.heartbeat_at && now - Date.parse(state.heartbeat_at) < 3 * REBUILD_HEARTBEAT_MS;
}

export interface RebuildProgress {
  phase: RebuildPhase | 'catching-up';
  done: number;
  total: number;
}

export const rebuildKey = (namespace: string) => `${namespace}:rebuild`;

export async function readRebuildState(redis: Redis, namespace: string): Promise<RebuildState | null> {
  const raw = await redis.hgetall(rebuildKey(namespace));
  return raw.generation ? (raw as unknown as RebuildState) : null;
}

/**
 * The generation to fill: the one a killed rebuild left unfinished, else the number after every
 * generation Redis or OpenSearch knows (after a Redis loss, only the indices remember them).
 */
async function chooseGeneration(runtime: Runtime, live: string | null): Promise<{ generation: string; resumed: boolean }> {
  const { redis, opensearch } = runtime.clients;
  const state = await readRebuildState(redis, runtime.config.namespace);
  if (state && (state.phase === 'filling' || state.phase === 'verifying') && state.generation !== live) return { generation: state.generation, resumed: true };
  // A group of an earlier life keeps committed offsets that would mislead a new generation of its number.
  const known = [
    live ?? undefined,
    state?.generation,
    ...(await generationsWithIndices(opensearch, runtime.config.namespace)),
    ...(await generationsWithGroups(runtime.clients.kafka, runtime.config.namespace)),
  ];
  return { generation: `g${Math.max(0, ...known.map(generationNumber)) + 1}`, resumed: false };
}

export interface RebuildOptions {
  onProgress?: (progress: RebuildProgress) => void;
  log?: (line: string) => void;
  /** how many rounds parity waits for accounts in motion to line up */
  parityAttempts?: number;
  /**
   * The live generation is broken (Redis lost it, an index is gone): there is nothing exact to
   * compare the new generation with, so parity is skipped (its own verification stays), the repair
   * marker carries the progress for the API's 503s, and the broken generation is dropped after the
   * swap. Without it, a runtime opened on a broken generation (`runtime.fault`) implies it.
   */
  repair?: { code: FaultCode; reason: string };
}

export interface RebuildResult {
  generation: string;
  previous: string;
  resumed: boolean;
  accounts: number;
  events: number;
  seconds: number;
}

// eslint-disable-next-line max-lines-per-function -- the rebuild's steps in order, each a few commented lines sharing the new generation's handles
export async function runRebuild(runtime: Runtime, options: RebuildOptions = {}): Promise<RebuildResult> {
  // Before anything is created: a generation built from part of the history misses what the lost events set.
  await requireFullHistory(runtime.clients.kafka, eventTopics(runtime.config.topics), 'rebuild');
  const { clients, config, logger } = runtime;
  const { redis, opensearch } = clients;
  const log = options.log ?? ((line: string) => logger.info(line));
  const started = Date.now();
  const live = await redis.get(liveGenerationKey(config.namespace));
  const repair = options.repair ?? (runtime.fault ? { code: runtime.fault.code, reason: runtime.fault.message } : undefined);
  const { generation, resumed } = await chooseGeneration(runtime, live);
  const key = rebuildKey(config.namespace);
  if (!resumed) await redis.del(key);
  await redis.hset(key, { generation, live: live ?? 'none', phase: 'filling', ...(resumed ? {} : { started_at: new Date().toISOString() }) });
  log(`${resumed ? 'Resuming' : 'Starting'} the rebuild of generation ${generation} (live: ${live ?? 'none'}${repair ? `, broken: ${repair.reason}` : ''})`);
  const marker = (fields: Record<string, string>) => (repair ? writeRepair(redis, config.namespace, { ...fields, heartbeat_at: new Date().toISOString() }) : Promise.resolve());
  await marker({ code: repair?.code ?? '', reason: repair?.reason ?? '', phase: 'rebuilding', generation, started_at: new Date().toISOString(), done: '0', total: '0' });

  const indices = await createGeneration(redis, opensearch, config.namespace, generation);
  const space = { namespace: config.namespace, generation };
  const store = createAccountStore(redis, space);
  const projector = createProjector({
    kafka: clients.kafka,
    redis,
    opensearch,
    config,
    space,
    indices,
    writeTargets: writeAliases(indices),
    logger,
    metrics: createMetrics({ defaultMetrics: false }),
    groupId: projectorGroupId(config.namespace, generation),
    fromBeginning: true,
    memoryRoom: runtime.memoryRoom,
  });
  await projector.start();
  let progress = { done: 0, total: 0 };
  const beat = () =>
    Promise.all([redis.hset(key, 'heartbeat_at', new Date().toISOString()), marker({ done: String(progress.done), total: String(progress.total) })]).catch(() => undefined);
  await beat();
  const heartbeat = setInterval(beat, REBUILD_HEARTBEAT_MS);
  try {
    const total = await catchUp(runtime, store, (done, all) => {
      progress = { done, total: all };
      options.onProgress?.({ phase: 'catching-up', done, total: all });
    });
    await redis.hset(key, 'phase', 'verifying');
    // The verification loads each account again (and the largest are big): the projector's cached
    // copies would sit beside them, and, until a full collection, so would the memory they held.
    projector.dropIdleAccounts();
    collectNow();
    log('Caught up. Verifying the new generation against its facts…');
    const verifyDeps = { store, opensearch, index: indices.users, factsIndex: indices.facts, windowMs: config.dedupeWindowMs };
    const verified = await verifyAll(verifyDeps);
    const differing = (reports: AccountReport[]) => reports.filter((r) => r.differences.some((d) => !d.includes('outbox:')));
    // An account still receiving events (traffic goes on during a rebuild) can be read between a
    // commit and the refresh that shows its documents (only the publisher refreshes, decision 28):
    // such an account is read again after a refresh, a few times, before it counts as different.
    let wrong = differing(verified);
    for (let attempt = 0; wrong.length > 0 && attempt < 20; attempt++) {
      await new Promise((r) => setTimeout(r, 250));
      await refreshIndices(opensearch, [indices.users, indices.facts].join(','));
      const again: AccountReport[] = [];
      for (const r of wrong) again.push(await verifyAccount(verifyDeps, r.accountId));
      wrong = differing(again);
    }
    const own = wrong.flatMap((r) => r.differences.map((d) => `${r.accountId}: ${d}`)).filter((d) => !d.includes('outbox:'));
    if (own.length > 0) return await fail(redis, key, `the new generation differs from its own facts: ${own.slice(0, 5).join('; ')}`);
    let compared = verified.length;
    if (repair || !live)
      log(
        `The live generation ${live ?? '(none)'} is broken, so there is nothing exact to compare with: swapping after the new generation's own verification (${verified.length} accounts).`,
      );
    else {
      log('Checking parity with the live generation…');
      const liveView = { store: createAccountStore(redis, { namespace: config.namespace, generation: live }), usersIndex: usersIndex(config.namespace, live) };
      const parity = await checkParity(opensearch, liveView, { store, usersIndex: indices.users }, { attempts: options.parityAttempts ?? 40 });
      if (parity.differences.length > 0) return await fail(redis, key, `parity failed: ${parity.differences.slice(0, 5).join('; ')}`);
      if (parity.notCompared.length > 0)
        return await fail(
          redis,
          key,
          `parity not established for ${parity.notCompared.length} accounts still moving (is the live projector running?): ${parity.notCompared.slice(0, 5).join(', ')}`,
        );
      log(`Parity holds for ${parity.compared} accounts. Swapping…`);
      compared = parity.compared;
    }
    await redis.multi().set(liveGenerationKey(config.namespace), generation).hset(key, { phase: 'swapped', swapped_at: new Date().toISOString() }).exec();
    await pointAlias(opensearch, usersAlias(config.namespace), indices.users);
    await pointAlias(opensearch, factsAlias(config.namespace), indices.facts);
    if (repair) {
      await clearRepair(redis, config.namespace);
      if (live && live !== generation) {
        await dropGeneration(runtime, live).catch((error: unknown) => logger.warn({ err: error, generation: live }, 'could not drop the broken generation'));
        log(`Generation ${generation} is live; the broken generation ${live} was dropped.`);
      } else log(`Generation ${generation} is live.`);
    } else log(`Generation ${generation} is live. The previous generation ${live} is kept; drop it with \`rebuild --drop ${live}\` once no listing uses it.`);
    return { generation, previous: live ?? 'none', resumed, accounts: compared, events: total, seconds: (Date.now() - started) / 1000 };
  } finally {
    clearInterval(heartbeat);
    // The live projectors notice the swap and join this generation's group where we leave it.
    await projector.stop();
  }
}

async function fail(redis: Redis, key: string, message: string): Promise<never> {
  await redis.hset(key, { phase: 'failed', message });
  throw new Error(`rebuild failed: ${message}`);
}

/** Waits until the new generation has made searchable every event in the topics now; returns their number. */
async function catchUp(runtime: Runtime, store: AccountStatePort, progress: (done: number, total: number) => void): Promise<number> {
  const admin = runtime.clients.kafka.admin();
  await admin.connect();
  let ends = new Map<string, bigint>();
  try {
    ends = await endOffsets(admin, eventTopics(runtime.config.topics));
  } finally {
    await admin.disconnect();
  }
  const total = [...ends.values()].reduce((a, b) => a + Number(b) + 1, 0);
  for (;;) {
    const positions = await store.positions();
    const done = [...ends].reduce((a, [field, end]) => a + Math.min(Number(positions.get(field) ?? -1n), Number(end)) + 1, 0);
    progress(done, total);
    if (done >= total) return total;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Deletes a generation that is not live: its indices, its Redis keys and its consumer group.
 * Refuses the live generation.
 */
export async function dropGeneration(runtime: Runtime, generation: string): Promise<void> {
  const { redis, opensearch, kafka } = runtime.clients;
  const ns = runtime.config.namespace;
  if ((await redis.get(liveGenerationKey(ns))) === generation) throw new Error(`generation ${generation} is live; it cannot be dropped`);
  // The history index is layout 1's (decision 30): a generation made before it still has one.
  await opensearch.indices.delete({ index: [usersIndex(ns, generation), `${legacyHistoryAlias(ns)}-${generation}`, factsIndex(ns, generation)], ignore_unavailable: true });
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${ns}:${generation}:*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteGroups([projectorGroupId(ns, generation)]).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
}

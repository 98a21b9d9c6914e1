/**
 * Start-up check: does the Redis in use keep its data across a restart? Losing it is not silent
 * (the service rebuilds or replays from Kafka), but reports answer 503 until that is done, so an
 * operator should know before it happens, and a dashboard should show it.
 */
import type { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { PERSISTENCE_MODES, persistenceFinding, readRedisPersistence, redisUrlForLogs } from './persistence.ts';

/**
 * The part of the runtime the check uses (a `Runtime` fits), narrow so that a test can hand it a
 * Redis of its own without opening a whole runtime.
 */
export interface RedisPersistenceCheckDeps {
  config: Pick<Config, 'redisUrl'>;
  clients: { redis: Redis };
  logger: Logger;
  metrics: Pick<Metrics, 'redisPersistence'>;
}

/**
 * Reads Redis's persistence (CONFIG GET, else INFO persistence), sets
 * `access_index_redis_persistence{mode}`, and logs a warning naming the fix when a restart would
 * lose data. A `StartupCheck`: it never throws for a finding, only logs.
 */
export async function checkRedisPersistence(runtime: RedisPersistenceCheckDeps): Promise<void> {
  const { logger } = runtime;
  const redis = redisUrlForLogs(runtime.config.redisUrl);
  const persistence = await readRedisPersistence(runtime.clients.redis);
  for (const mode of PERSISTENCE_MODES) runtime.metrics.redisPersistence.set({ mode }, mode === persistence.mode ? 1 : 0);

  const fields = { redis, persistence: persistence.mode, source: persistence.source, ...(persistence.appendfsync ? { appendfsync: persistence.appendfsync } : {}) };
  if (persistence.source === 'info') {
    logger.info({ redis, reason: persistence.readError }, 'Redis refused CONFIG GET; its persistence was read from INFO persistence instead');
  }
  const finding = persistenceFinding(persistence, runtime.config.redisUrl);
  if (!finding) logger.info(fields, `Redis persistence: ${persistence.mode}`);
  else if (finding.level === 'warn') logger.warn(fields, finding.message);
  else logger.info(fields, finding.message);
}

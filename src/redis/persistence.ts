/**
 * Redis's persistence, read from the server, and what it means for the service. With AOF
 * (everysec) a crash loses at most the last second or two of commits; with RDB snapshots only it
 * comes back as of its last snapshot; both are rollbacks the service replays from Kafka. With
 * neither it comes back empty, which costs a rebuild.
 * Parsing and judging are pure; `readRedisPersistence` is the only I/O.
 */
import type { Redis } from 'ioredis';

/** What survives a Redis restart: everything acknowledged (aof), the last snapshot (rdb), nothing (none). */
export type PersistenceMode = 'aof' | 'rdb' | 'none' | 'unknown';

/** Every mode, for a gauge that sets one label to 1 and the others to 0. */
export const PERSISTENCE_MODES: readonly PersistenceMode[] = ['aof', 'rdb', 'none', 'unknown'];

/** Redis's persistence as far as it could be read. */
export interface RedisPersistence {
  mode: PersistenceMode;
  /** `config`: CONFIG GET answered (exact); `info`: only INFO persistence did (managed Redis); `none`: neither */
  source: 'config' | 'info' | 'none';
  /** appendfsync (from CONFIG) */
  appendfsync?: string;
  /** RDB save points from CONFIG, e.g. "3600 1 300 100"; "" when there are none */
  save?: string;
  /** with `source: 'info'`: AOF is off, and a snapshot has (rdb) or has not (unknown) been taken since start */
  aofEnabled?: boolean;
  /** why CONFIG GET (and INFO, with `source: 'none'`) could not be read */
  readError?: string;
}

/** A finding worth a log line: `warn` puts the service's guarantees at risk, `info` does not. */
export interface PersistenceFinding {
  level: 'warn' | 'info';
  message: string;
}

/** Judges CONFIG GET appendonly / appendfsync / save. */
export function persistenceFromConfig(config: { appendonly: string; appendfsync?: string; save?: string }): RedisPersistence {
  const save = config.save?.trim() ?? '';
  const base = { source: 'config' as const, save, ...(config.appendfsync ? { appendfsync: config.appendfsync } : {}) };
  if (config.appendonly === 'yes') return { mode: 'aof', ...base };
  return { mode: save === '' ? 'none' : 'rdb', ...base };
}

/**
 * Judges INFO persistence, for a Redis that refuses CONFIG. INFO does not list the save points:
 * with AOF off, a snapshot taken since start shows that RDB runs; no snapshot leaves it unknown.
 */
export function persistenceFromInfo(info: string): RedisPersistence {
  const field = (name: string): string | undefined => new RegExp(`^${name}:(\\S*)`, 'm').exec(info)?.[1];
  if (field('aof_enabled') === '1') return { mode: 'aof', source: 'info', aofEnabled: true };
  const snapshotTaken = Number(field('rdb_saves') ?? 0) > 0 || Number(field('rdb_last_bgsave_time_sec') ?? -1) >= 0;
  return { mode: snapshotTaken ? 'rdb' : 'unknown', source: 'info', aofEnabled: false };
}

/** The URL as logs may show it: the password dropped. */
export function redisUrlForLogs(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^/@:]*):[^/@]*@/, '//$1@');
  }
}

const FIX = 'Set `appendonly yes` and `appendfsync everysec` on that Redis (redis.conf, or CONFIG SET where allowed).';
const COST_EMPTY = 'access-index then rebuilds the namespace from Kafka, and every report answers 503 until the rebuild is done (docs/reliability.md)';
const COST_ROLLBACK = 'access-index detects the rollback and replays the events since then from Kafka, and every report answers 503 meanwhile (docs/reliability.md)';

/** What to log about the persistence found; undefined when nothing needs saying beyond the mode. */
export function persistenceFinding(persistence: RedisPersistence, redisUrl: string): PersistenceFinding | undefined {
  const at = `Redis at ${redisUrlForLogs(redisUrl)}`;
  switch (persistence.mode) {
    case 'aof':
      // fsync left to the OS: a process crash loses nothing, a machine crash up to ~30 s.
      if (persistence.appendfsync === 'no') {
        return {
          level: 'warn',
          message: `${at} writes its append-only file without fsync (appendfsync no): a machine crash can roll it back by up to about 30 s; ${COST_ROLLBACK}. ${FIX}`,
        };
      }
      return undefined;
    case 'rdb': {
      const saves = persistence.save ? `save "${persistence.save}", ` : '';
      return { level: 'warn', message: `${at} persists RDB snapshots only (${saves}appendonly no): after a crash it comes back as of its last snapshot; ${COST_ROLLBACK}. ${FIX}` };
    }
    case 'none':
      return { level: 'warn', message: `${at} keeps nothing on disk (appendonly no, no RDB save points): a restart empties it; ${COST_EMPTY}. ${FIX}` };
    case 'unknown':
      if (persistence.aofEnabled === false) {
        return {
          level: 'warn',
          message: `${at} runs without AOF (INFO persistence: aof_enabled:0), and whether it takes RDB snapshots could not be read: a restart rolls it back to its last snapshot or empties it; ${COST_EMPTY}. ${FIX}`,
        };
      }
      return {
        level: 'info',
        message: `${at}: its persistence settings could not be read (${persistence.readError ?? 'no answer'}); if it runs without AOF, a restart costs a rebuild from Kafka with reports answering 503 meanwhile (docs/reliability.md)`,
      };
  }
}

/** A short label for status lines: "aof everysec", "rdb snapshots only", "no persistence". */
export function describePersistence(persistence: RedisPersistence): string {
  switch (persistence.mode) {
    case 'aof':
      return persistence.appendfsync ? `aof ${persistence.appendfsync}` : 'aof';
    case 'rdb':
      return 'rdb snapshots only';
    case 'none':
      return 'no persistence';
    case 'unknown':
      return persistence.aofEnabled === false ? 'no aof, rdb unknown' : 'persistence unknown';
  }
}

async function configGet(redis: Redis, name: string): Promise<string | undefined> {
  const reply = await redis.config('GET', name);
  return reply[1];
}

/**
 * Reads the persistence settings: CONFIG GET where allowed, else INFO persistence (managed Redis
 * often refuses CONFIG). Never throws: what could not be read is `mode: 'unknown'` with the reason.
 */
export async function readRedisPersistence(redis: Redis): Promise<RedisPersistence> {
  let configError: string;
  try {
    const [appendonly, appendfsync, save] = await Promise.all(['appendonly', 'appendfsync', 'save'].map((name) => configGet(redis, name)));
    if (appendonly === undefined) throw new Error('CONFIG GET appendonly answered nothing');
    return persistenceFromConfig({ appendonly, ...(appendfsync === undefined ? {} : { appendfsync }), ...(save === undefined ? {} : { save }) });
  } catch (error) {
    configError = `CONFIG GET: ${(error as Error).message}`;
  }
  try {
    return { ...persistenceFromInfo(await redis.info('persistence')), readError: configError };
  } catch (error) {
    return { mode: 'unknown', source: 'none', readError: `${configError}; INFO persistence: ${(error as Error).message}` };
  }
}

import { describe, expect, it } from 'vitest';
import { describePersistence, persistenceFinding, persistenceFromConfig, persistenceFromInfo, redisUrlForLogs } from '../../src/redis/persistence.ts';

const URL = 'redis://default:s3cret@redis.internal:6380/0';

/** INFO persistence as Redis 7 prints it, with the fields the judge reads. */
function info(fields: { aof_enabled: 0 | 1; rdb_saves?: number; rdb_last_bgsave_time_sec?: number }): string {
  return [
    '# Persistence',
    'loading:0',
    'rdb_changes_since_last_save:12',
    'rdb_last_save_time:1700000000',
    `rdb_saves:${fields.rdb_saves ?? 0}`,
    `rdb_last_bgsave_time_sec:${fields.rdb_last_bgsave_time_sec ?? -1}`,
    `aof_enabled:${fields.aof_enabled}`,
    'aof_rewrite_in_progress:0',
    '',
  ].join('\r\n');
}

describe('Redis persistence: which settings warn', () => {
  it('AOF with appendfsync everysec (or always): no warning', () => {
    for (const appendfsync of ['everysec', 'always']) {
      const persistence = persistenceFromConfig({ appendonly: 'yes', appendfsync, save: '' });
      expect(persistence.mode).toBe('aof');
      expect(persistenceFinding(persistence, URL)).toBeUndefined();
    }
    expect(describePersistence(persistenceFromConfig({ appendonly: 'yes', appendfsync: 'everysec', save: '' }))).toBe('aof everysec');
  });

  it('no AOF and no save points: warns that a restart empties it, costs a rebuild with 503s, and names the fix', () => {
    const persistence = persistenceFromConfig({ appendonly: 'no', appendfsync: 'everysec', save: '' });
    expect(persistence.mode).toBe('none');
    const finding = persistenceFinding(persistence, URL);
    expect(finding?.level).toBe('warn');
    expect(finding?.message).toMatch(/a restart empties it/);
    expect(finding?.message).toMatch(/rebuilds the namespace from Kafka/);
    expect(finding?.message).toMatch(/503/);
    expect(finding?.message).toMatch(/docs\/reliability\.md/);
    expect(finding?.message).toMatch(/`appendonly yes` and `appendfsync everysec`/);
    expect(describePersistence(persistence)).toBe('no persistence');
  });

  it('RDB save points only: warns of a rollback to the last snapshot, names the save points and the fix', () => {
    const persistence = persistenceFromConfig({ appendonly: 'no', appendfsync: 'everysec', save: '3600 1 300 100 60 10000' });
    expect(persistence.mode).toBe('rdb');
    const finding = persistenceFinding(persistence, URL);
    expect(finding?.level).toBe('warn');
    expect(finding?.message).toMatch(/RDB snapshots only \(save "3600 1 300 100 60 10000", appendonly no\)/);
    expect(finding?.message).toMatch(/detects the rollback/);
    expect(finding?.message).toMatch(/`appendonly yes` and `appendfsync everysec`/);
  });

  it('AOF with appendfsync no: warns (a machine crash rolls it back)', () => {
    const finding = persistenceFinding(persistenceFromConfig({ appendonly: 'yes', appendfsync: 'no', save: '' }), URL);
    expect(finding?.level).toBe('warn');
    expect(finding?.message).toMatch(/appendfsync no/);
    expect(finding?.message).toMatch(/`appendfsync everysec`/);
  });

  it('names the Redis URL without its password', () => {
    const message = persistenceFinding(persistenceFromConfig({ appendonly: 'no', save: '' }), URL)?.message ?? '';
    expect(message).toContain('Redis at redis://default@redis.internal:6380/0');
    expect(message).not.toContain('s3cret');
    expect(redisUrlForLogs('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(redisUrlForLogs('rediss://:pw@cache.example:6379')).toBe('rediss://cache.example:6379');
  });
});

describe('Redis persistence from INFO, when CONFIG is refused (managed Redis)', () => {
  it('aof_enabled:1 is AOF: no warning', () => {
    const persistence = persistenceFromInfo(info({ aof_enabled: 1 }));
    expect(persistence).toMatchObject({ mode: 'aof', source: 'info' });
    expect(persistenceFinding(persistence, URL)).toBeUndefined();
  });

  it('AOF off and a snapshot taken since start is RDB only: warns', () => {
    for (const fields of [{ rdb_saves: 3 }, { rdb_last_bgsave_time_sec: 0 }]) {
      const persistence = persistenceFromInfo(info({ aof_enabled: 0, ...fields }));
      expect(persistence.mode).toBe('rdb');
      expect(persistenceFinding(persistence, URL)?.level).toBe('warn');
    }
  });

  it('AOF off and no snapshot yet: the save points are unknown, still a warning since AOF is off', () => {
    const persistence = persistenceFromInfo(info({ aof_enabled: 0 }));
    expect(persistence).toMatchObject({ mode: 'unknown', aofEnabled: false });
    const finding = persistenceFinding(persistence, URL);
    expect(finding?.level).toBe('warn');
    expect(finding?.message).toMatch(/aof_enabled:0/);
    expect(finding?.message).toMatch(/`appendonly yes` and `appendfsync everysec`/);
  });

  it('neither CONFIG nor INFO answered: only an info line saying so', () => {
    const finding = persistenceFinding({ mode: 'unknown', source: 'none', readError: 'CONFIG GET: NOPERM' }, URL);
    expect(finding?.level).toBe('info');
    expect(finding?.message).toMatch(/could not be read \(CONFIG GET: NOPERM\)/);
  });
});

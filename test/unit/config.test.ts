import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, requireJwtSecret } from '../../src/config.ts';

const SECRET = 's'.repeat(32);

function errorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('gives the contract defaults for an empty environment', () => {
    expect(loadConfig({})).toEqual({
      kafkaBrokers: ['127.0.0.1:9092'],
      opensearchUrl: 'http://127.0.0.1:9200',
      redisUrl: 'redis://127.0.0.1:6379',
      port: 8080,
      jwtSecret: undefined,
      namespace: 'access-index',
      topics: {
        users: 'zcc.users',
        roles: 'zcc.roles',
        queues: 'zcc.queues',
        inboxes: 'zcc.inboxes',
        deadLetter: 'zcc.dead-letter',
      },
      logLevel: 'info',
      dedupeWindowMs: 7 * 86_400_000,
      sessionTimeoutMs: 30_000,
      maxBytesPerPartition: 4_194_304,
      publishIntervalMs: 200,
      accountCacheBytes: 384 * 1024 * 1024,
      memoryBudgetBytes: 1280 * 1024 * 1024,
      laneEvents: 50_000,
      roundEvents: 5_000,
      roundWork: 10_000,
      stallMs: 60_000,
    });
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ PORT: '', KAFKA_BROKERS: '', ACCESS_INDEX_JWT_SECRET: '' })).toMatchObject({
      port: 8080,
      kafkaBrokers: ['127.0.0.1:9092'],
      jwtSecret: undefined,
    });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      KAFKA_BROKERS: 'kafka-1:9092, kafka_2:9093,[::1]:9094',
      OPENSEARCH_URL: 'https://search.internal:9200',
      REDIS_URL: 'rediss://cache:6380/2',
      PORT: '3000',
      ACCESS_INDEX_JWT_SECRET: SECRET,
      ACCESS_INDEX_NAMESPACE: 'test-1a2b.x_y',
      TOPIC_USERS: 'u',
      TOPIC_ROLES: 'r',
      TOPIC_QUEUES: 'q',
      TOPIC_INBOXES: 'i',
      TOPIC_DEAD_LETTER: 'dlq',
      LOG_LEVEL: 'silent',
      ACCESS_INDEX_DEDUPE_WINDOW_DAYS: '0.5',
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      KAFKA_MAX_BYTES_PER_PARTITION: '65536',
      ACCESS_INDEX_PUBLISH_INTERVAL_MS: '50',
      ACCESS_INDEX_ACCOUNT_CACHE_MB: '64',
      ACCESS_INDEX_MEMORY_MB: '256',
      ACCESS_INDEX_LANE_EVENTS: '2000',
      ACCESS_INDEX_ROUND_EVENTS: '50',
      ACCESS_INDEX_ROUND_WORK: '300',
      ACCESS_INDEX_STALL_SECONDS: '20',
    });
    expect(config).toEqual({
      kafkaBrokers: ['kafka-1:9092', 'kafka_2:9093', '[::1]:9094'],
      opensearchUrl: 'https://search.internal:9200',
      redisUrl: 'rediss://cache:6380/2',
      port: 3000,
      jwtSecret: SECRET,
      namespace: 'test-1a2b.x_y',
      topics: { users: 'u', roles: 'r', queues: 'q', inboxes: 'i', deadLetter: 'dlq' },
      logLevel: 'silent',
      dedupeWindowMs: 43_200_000,
      sessionTimeoutMs: 6000,
      maxBytesPerPartition: 65_536,
      publishIntervalMs: 50,
      accountCacheBytes: 64 * 1024 * 1024,
      memoryBudgetBytes: 256 * 1024 * 1024,
      laneEvents: 2000,
      roundEvents: 50,
      roundWork: 300,
      stallMs: 20_000,
    });
  });

  it.each([
    ['PORT', 'abc', 'PORT: must be an integer from 1 to 65535 (got "abc")'],
    ['KAFKA_SESSION_TIMEOUT_MS', '500', 'KAFKA_SESSION_TIMEOUT_MS: must be a whole number of milliseconds from 1000 to 3600000 (got "500")'],
    ['ACCESS_INDEX_PUBLISH_INTERVAL_MS', '1.5', 'ACCESS_INDEX_PUBLISH_INTERVAL_MS: must be a whole number of milliseconds from 10 to 60000 (got "1.5")'],
    ['ACCESS_INDEX_ACCOUNT_CACHE_MB', '8', 'ACCESS_INDEX_ACCOUNT_CACHE_MB: must be a whole number of MiB from 16 to 65536 (got "8")'],
    ['ACCESS_INDEX_LANE_EVENTS', '10', 'ACCESS_INDEX_LANE_EVENTS: must be a whole number from 100 to 10000000 (got "10")'],
    ['ACCESS_INDEX_ROUND_EVENTS', '0', 'ACCESS_INDEX_ROUND_EVENTS: must be a whole number from 1 to 1000000 (got "0")'],
    ['PORT', '70000', 'PORT: must be an integer from 1 to 65535 (got "70000")'],
    ['PORT', '0x50', 'PORT: must be an integer from 1 to 65535 (got "0x50")'],
    ['KAFKA_BROKERS', 'kafka:9092,kafka', 'KAFKA_BROKERS: must be a comma-separated list of host:port'],
    ['KAFKA_BROKERS', 'kafka:0', '(bad: "kafka:0")'],
    ['OPENSEARCH_URL', 'ftp://search:9200', 'OPENSEARCH_URL: must be an http:// or https:// URL (got "ftp://search:9200")'],
    ['OPENSEARCH_URL', 'not a url', 'OPENSEARCH_URL: must be an http:// or https:// URL'],
    ['REDIS_URL', 'http://cache:6379', 'REDIS_URL: must be a redis:// or rediss:// URL'],
    ['ACCESS_INDEX_NAMESPACE', 'Access-Index', 'ACCESS_INDEX_NAMESPACE: must be 1 to 63 of a-z 0-9'],
    ['ACCESS_INDEX_NAMESPACE', `a${'b'.repeat(63)}`, 'ACCESS_INDEX_NAMESPACE: must be 1 to 63'],
    ['ACCESS_INDEX_NAMESPACE', '-x', 'ACCESS_INDEX_NAMESPACE: must be 1 to 63'],
    ['TOPIC_QUEUES', 'zcc queues', 'TOPIC_QUEUES: must be a Kafka topic name'],
    ['TOPIC_DEAD_LETTER', '..', 'TOPIC_DEAD_LETTER: must be a Kafka topic name'],
    ['TOPIC_DEAD_LETTER', 'zcc.users', 'TOPIC_DEAD_LETTER: must differ from TOPIC_USERS'],
    ['ACCESS_INDEX_MEMORY_MB', '100', 'ACCESS_INDEX_MEMORY_MB: must be a whole number of MiB from 128 to 131072 (got "100")'],
    ['ACCESS_INDEX_ACCOUNT_CACHE_MB', '1024', 'ACCESS_INDEX_ACCOUNT_CACHE_MB: must be at most half of ACCESS_INDEX_MEMORY_MB (1280 MiB): raise that one too (got "1024")'],
    ['LOG_LEVEL', 'verbose', 'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent (got "verbose")'],
    ['ACCESS_INDEX_DEDUPE_WINDOW_DAYS', '0', 'ACCESS_INDEX_DEDUPE_WINDOW_DAYS: must be a number of days above 0'],
    ['ACCESS_INDEX_DEDUPE_WINDOW_DAYS', '-1', 'ACCESS_INDEX_DEDUPE_WINDOW_DAYS: must be a number of days'],
    ['ACCESS_INDEX_DEDUPE_WINDOW_DAYS', 'week', 'ACCESS_INDEX_DEDUPE_WINDOW_DAYS: must be a number of days'],
  ])('names %s in the error for %j', (name, value, expected) => {
    const error = errorOf({ [name]: value });
    expect(error.message).toContain(expected);
    expect(error.message.split('\n').filter((line) => line.startsWith(`${name}:`))).toHaveLength(1);
  });

  it('keeps the account cache within half of the memory budget, whichever of the two was set', () => {
    expect(errorOf({ ACCESS_INDEX_MEMORY_MB: '700' }).message).toContain('ACCESS_INDEX_ACCOUNT_CACHE_MB: must be at most half of ACCESS_INDEX_MEMORY_MB (700 MiB)');
    expect(loadConfig({ ACCESS_INDEX_MEMORY_MB: '768' }).accountCacheBytes).toBe(384 * 2 ** 20);
  });

  it('lists every bad variable at once, one per line', () => {
    const error = errorOf({ PORT: 'abc', LOG_LEVEL: 'loud', ACCESS_INDEX_NAMESPACE: 'UPPER' });
    expect(error.message.split('\n')).toEqual([
      'Invalid configuration:',
      'PORT: must be an integer from 1 to 65535 (got "abc")',
      'ACCESS_INDEX_NAMESPACE: must be 1 to 63 of a-z 0-9 . _ - starting with a letter or digit (got "UPPER")',
      'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent (got "loud")',
    ]);
    expect(error).toMatchObject({ name: 'ConfigError', code: 'config_invalid', retriable: false });
  });

  it('never prints the JWT secret or a URL password', () => {
    const error = errorOf({ ACCESS_INDEX_JWT_SECRET: 'hunter2', REDIS_URL: 'http://user:pa55word@cache:6379' });
    expect(error.message).toContain('ACCESS_INDEX_JWT_SECRET: must be at least 32 characters (got 7 characters)');
    expect(error.message).toContain('REDIS_URL: must be a redis:// or rediss:// URL (got "http://user:***@cache:6379")');
    expect(error.message).not.toMatch(/hunter2|pa55word/);
  });
});

describe('requireJwtSecret', () => {
  it('returns the secret when set', () => {
    expect(requireJwtSecret(loadConfig({ ACCESS_INDEX_JWT_SECRET: SECRET }))).toBe(SECRET);
  });

  it('throws a ConfigError naming the variable when unset', () => {
    expect(() => requireJwtSecret(loadConfig({}))).toThrow(ConfigError);
    expect(() => requireJwtSecret(loadConfig({}))).toThrow(/^ACCESS_INDEX_JWT_SECRET: required to serve the API/);
  });
});

/**
 * The environment variables of the service (contract section 5, plus our own), as a zod schema whose
 * output is the typed, camelCase config. Each variable validates on its own, so one parse reports
 * every bad variable at once; messages are phrased to follow "NAME: " (see src/config.ts).
 */
import { z } from 'zod';

/** pino's levels; `silent` turns logging off (tests). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Shortest accepted JWT secret: HS256 wants at least 256 bits of key. */
export const MIN_JWT_SECRET_LENGTH = 32;
/** Longest dedupe window: ten years; beyond that the setting is surely a typo. */
export const MAX_DEDUPE_WINDOW_DAYS = 3650;
const DAY_MS = 86_400_000;

/** A variable that may be unset (an empty string counts as unset), with a default. */
function withDefault(fallback: string) {
  return z.preprocess((value) => (value === '' ? undefined : value), z.string().default(fallback));
}

/** A whole number from `min` to `max` (of `unit`, when the number counts one), as a number. */
function wholeNumber(fallback: string, min: number, max: number, unit?: string) {
  return withDefault(fallback)
    .refine((n) => /^\d+$/.test(n) && Number(n) >= min && Number(n) <= max, { error: `must be a whole number ${unit ? `of ${unit} ` : ''}from ${min} to ${max}` })
    .transform(Number);
}

function isPort(text: string): boolean {
  return /^\d{1,5}$/.test(text) && Number(text) >= 1 && Number(text) <= 65535;
}

// host:port with a DNS name (underscores allowed: container names use them), IPv4, or [IPv6].
const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?):(\d+)$/;

function isBroker(entry: string): boolean {
  const match = HOST_PORT.exec(entry);
  return match !== null && isPort(match[3] ?? '');
}

function isUrlWithProtocol(text: string, protocols: readonly string[]): boolean {
  if (!URL.canParse(text)) return false;
  const url = new URL(text);
  return protocols.includes(url.protocol) && url.hostname !== '';
}

// Kafka's own rule for topic names (and "." / ".." are reserved).
const topicName = (fallback: string) =>
  withDefault(fallback).refine((name) => /^[A-Za-z0-9._-]{1,249}$/.test(name) && name !== '.' && name !== '..', {
    error: 'must be a Kafka topic name: 1 to 249 of A-Z a-z 0-9 . _ -',
  });

const TOPIC_VARIABLES = ['TOPIC_USERS', 'TOPIC_ROLES', 'TOPIC_QUEUES', 'TOPIC_INBOXES', 'TOPIC_DEAD_LETTER'] as const;

/** The environment, parsed into the config (`z.infer` gives `Config`). */
export const configSchema = z
  .object({
    KAFKA_BROKERS: withDefault('127.0.0.1:9092')
      .transform((list) => list.split(',').map((entry) => entry.trim()))
      .refine((brokers) => brokers.every(isBroker), {
        error: (issue) => {
          const bad = (issue.input as string[]).filter((entry) => !isBroker(entry));
          return `must be a comma-separated list of host:port, port 1 to 65535 (bad: ${bad.map((b) => JSON.stringify(b)).join(', ')})`;
        },
      }),
    OPENSEARCH_URL: withDefault('http://127.0.0.1:9200').refine((url) => isUrlWithProtocol(url, ['http:', 'https:']), {
      error: 'must be an http:// or https:// URL',
    }),
    REDIS_URL: withDefault('redis://127.0.0.1:6379').refine((url) => isUrlWithProtocol(url, ['redis:', 'rediss:']), {
      error: 'must be a redis:// or rediss:// URL',
    }),
    PORT: withDefault('8080').refine(isPort, { error: 'must be an integer from 1 to 65535' }).transform(Number),
    // Optional here: only the API needs it (see requireJwtSecret in src/config.ts).
    ACCESS_INDEX_JWT_SECRET: z
      .preprocess((value) => (value === '' ? undefined : value), z.string().optional())
      .refine((secret) => secret === undefined || secret.length >= MIN_JWT_SECRET_LENGTH, {
        error: `must be at least ${MIN_JWT_SECRET_LENGTH} characters`,
      }),
    // Prefixes OpenSearch index names, which must be lower case, as well as Redis keys and the
    // consumer group id.
    ACCESS_INDEX_NAMESPACE: withDefault('access-index').refine((ns) => /^[a-z0-9][a-z0-9._-]{0,62}$/.test(ns), {
      error: 'must be 1 to 63 of a-z 0-9 . _ - starting with a letter or digit',
    }),
    TOPIC_USERS: topicName('zcc.users'),
    TOPIC_ROLES: topicName('zcc.roles'),
    TOPIC_QUEUES: topicName('zcc.queues'),
    TOPIC_INBOXES: topicName('zcc.inboxes'),
    TOPIC_DEAD_LETTER: topicName('zcc.dead-letter'),
    LOG_LEVEL: withDefault('info').refine((level): level is LogLevel => LOG_LEVELS.includes(level as LogLevel), {
      error: `must be one of ${LOG_LEVELS.join(', ')}`,
    }),
    ACCESS_INDEX_DEDUPE_WINDOW_DAYS: withDefault('7')
      .refine((days) => /^\d+(\.\d+)?$/.test(days) && Number(days) > 0 && Number(days) <= MAX_DEDUPE_WINDOW_DAYS, {
        error: `must be a number of days above 0 and at most ${MAX_DEDUPE_WINDOW_DAYS}`,
      })
      .transform(Number),
    // How long the group waits for a silent projector before moving its partitions (Kafka's own
    // bounds apply: 6 s to 300 s by default).
    KAFKA_SESSION_TIMEOUT_MS: wholeNumber('30000', 1000, 3_600_000, 'milliseconds'),
    // How much one fetch takes from one partition: the upper bound of a projector batch.
    KAFKA_MAX_BYTES_PER_PARTITION: wholeNumber('4194304', 1024, 104_857_600, 'bytes'),
    // The projector's memory budget for cached accounts (src/projector/account-cache.ts): past it,
    // the accounts used least recently are read again from Redis when they come back.
    ACCESS_INDEX_ACCOUNT_CACHE_MB: wholeNumber('384', 16, 65_536, 'MiB'),
    // The whole process's memory budget (src/memory-budget.ts): V8 collects its garbage before the
    // process outgrows it. The account cache takes at most half of it; the rest is for the rounds in
    // flight, the Kafka and OpenSearch clients, and garbage between collections.
    ACCESS_INDEX_MEMORY_MB: wholeNumber('1280', 128, 131_072, 'MiB'),
    // Events read from Kafka and waiting in the projector's account lanes at most: past it the
    // next fetch waits (src/projector/lanes.ts).
    ACCESS_INDEX_LANE_EVENTS: wholeNumber('50000', 100, 10_000_000),
    // Events one projection round takes from the lanes at most (every account with events gets a
    // turn, in turn): the longest a small account's change waits behind others.
    ACCESS_INDEX_ROUND_EVENTS: wholeNumber('5000', 1, 1_000_000),
    // The work one round plans in all (distinct users reached plus events, shared by its accounts):
    // the more, the more repeated changes are derived once (src/projector/projector.ts ROUND_WORK).
    ACCESS_INDEX_ROUND_WORK: wholeNumber('10000', 1, 10_000_000),
    // How often searchable positions are published (an index refresh each time something is pending).
    ACCESS_INDEX_PUBLISH_INTERVAL_MS: wholeNumber('200', 10, 60_000, 'milliseconds'),
    // How long the projector may make no step while events wait before it reports a stall (decision 66).
    ACCESS_INDEX_STALL_SECONDS: wholeNumber('60', 5, 3_600, 'seconds'),
  })
  .superRefine((env, ctx) => {
    // Each topic maps back to one logical topic (events on a foreign topic are refused), and the
    // projector must never consume its own dead letters.
    const seen = new Map<string, string>();
    for (const name of TOPIC_VARIABLES) {
      const earlier = seen.get(env[name]);
      if (earlier !== undefined) ctx.addIssue({ code: 'custom', path: [name], message: `must differ from ${earlier}` });
      else seen.set(env[name], name);
    }
    if (env.ACCESS_INDEX_ACCOUNT_CACHE_MB * 2 > env.ACCESS_INDEX_MEMORY_MB)
      ctx.addIssue({
        code: 'custom',
        path: ['ACCESS_INDEX_ACCOUNT_CACHE_MB'],
        message: `must be at most half of ACCESS_INDEX_MEMORY_MB (${env.ACCESS_INDEX_MEMORY_MB} MiB): raise that one too`,
      });
  })
  .transform((env) => ({
    kafkaBrokers: env.KAFKA_BROKERS,
    opensearchUrl: env.OPENSEARCH_URL,
    redisUrl: env.REDIS_URL,
    port: env.PORT,
    jwtSecret: env.ACCESS_INDEX_JWT_SECRET,
    namespace: env.ACCESS_INDEX_NAMESPACE,
    topics: {
      users: env.TOPIC_USERS,
      roles: env.TOPIC_ROLES,
      queues: env.TOPIC_QUEUES,
      inboxes: env.TOPIC_INBOXES,
      deadLetter: env.TOPIC_DEAD_LETTER,
    },
    logLevel: env.LOG_LEVEL,
    // Kept in ms: that is what the dedupe store's TTL takes.
    dedupeWindowMs: env.ACCESS_INDEX_DEDUPE_WINDOW_DAYS * DAY_MS,
    sessionTimeoutMs: env.KAFKA_SESSION_TIMEOUT_MS,
    maxBytesPerPartition: env.KAFKA_MAX_BYTES_PER_PARTITION,
    publishIntervalMs: env.ACCESS_INDEX_PUBLISH_INTERVAL_MS,
    accountCacheBytes: env.ACCESS_INDEX_ACCOUNT_CACHE_MB * 1024 * 1024,
    memoryBudgetBytes: env.ACCESS_INDEX_MEMORY_MB * 1024 * 1024,
    laneEvents: env.ACCESS_INDEX_LANE_EVENTS,
    roundEvents: env.ACCESS_INDEX_ROUND_EVENTS,
    roundWork: env.ACCESS_INDEX_ROUND_WORK,
    stallMs: env.ACCESS_INDEX_STALL_SECONDS * 1000,
  }));

export type Config = z.infer<typeof configSchema>;

/** Variables whose value must never be echoed in an error message. */
export const SECRET_VARIABLES: ReadonlySet<string> = new Set(['ACCESS_INDEX_JWT_SECRET']);

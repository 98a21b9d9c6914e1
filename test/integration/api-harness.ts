/**
 * Harness of the API tests: a namespace with an in-process projector, the real app on top of it,
 * tokens, contract events wrapped as CloudEvents, and the pure core's answer to compare with.
 */
import { DEFAULT_DEDUPE_WINDOW_MS, type FactEvent, type UserDoc, allDocs, replay } from '../../projections/index.ts';
import { createApp } from '../../src/api/app.ts';
import type { Readiness } from '../../src/api/service-routes.ts';
import { mintToken } from '../../src/api/tokens.ts';
import { silentLogger } from '../../src/logger.ts';
import { fold } from '../../src/opensearch/search-terms.ts';
import { createMetrics } from '../../src/metrics.ts';
import { type TestNamespace, createTestNamespace } from '../helpers/namespace.ts';
import { type LogicalTopicName, type OutgoingMessage, type PreparedNamespace, prepareNamespace } from '../support/pipeline.ts';

export const SECRET = 'test-secret-of-at-least-32-characters!!';

const TOPIC_OF: Record<string, LogicalTopicName> = { user: 'users', role: 'roles', queue: 'queues', inbox: 'inboxes' };

/** A core event as the Kafka message a producer would send (CloudEvents structured mode). */
export function toMessage(accountId: string, event: FactEvent): OutgoingMessage {
  const topic = TOPIC_OF[event.type.split('.')[0]!]!;
  const value = {
    specversion: '1.0',
    id: `${accountId}-${event.id}`,
    source: 'api-tests',
    type: event.type,
    time: new Date(event.timeMs).toISOString(),
    accountid: accountId,
    datacontenttype: 'application/json',
    data: event.data,
  };
  return { topic, key: accountId, value: JSON.stringify(value) };
}

/** The documents the pure core derives from the events (the expected answer). */
export function expectedDocs(events: readonly FactEvent[]): Map<string, UserDoc> {
  return allDocs(replay(events, DEFAULT_DEDUPE_WINDOW_MS).facts);
}

/** Compares like OpenSearch sorts keywords: by code point (UTF-8 byte order). */
export function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** The report's default order: folded display name, then user id, both by code point. */
export const byDisplayName = (a: UserDoc, b: UserDoc): number => compareCodePoints(fold(a.display_name), fold(b.display_name)) || compareCodePoints(a.user_id, b.user_id);

export interface ApiEnvOptions {
  partitions?: number;
  readiness?: () => Readiness | Promise<Readiness>;
}

/** The real app on a prepared namespace. */
export function createTestApp(env: PreparedNamespace, readiness?: ApiEnvOptions['readiness']) {
  const metrics = createMetrics({ defaultMetrics: false });
  const topics = [env.config.topics.users, env.config.topics.roles, env.config.topics.queues, env.config.topics.inboxes];
  const app = createApp({
    redis: env.clients.redis,
    opensearch: env.clients.opensearch,
    namespace: env.config.namespace,
    jwtSecret: SECRET,
    metrics,
    logger: silentLogger(),
    topics,
    ...(readiness ? { readiness } : {}),
  });
  return { app, metrics, topics };
}

/** Starts a namespace, a projector and the app; `close()` stops and cleans everything. */
export async function startApiEnv(options: ApiEnvOptions = {}) {
  const ns: TestNamespace = createTestNamespace();
  const env: PreparedNamespace = await prepareNamespace(ns, { partitions: options.partitions ?? 1 });
  const projector = env.projector();
  await projector.start();
  const { app, metrics, topics } = createTestApp(env, options.readiness);

  return {
    ns,
    env,
    app,
    metrics,
    topics,

    /** A read token for the account (or other claims). */
    token(accountId: string, extra: { scope?: string; sub?: string; ttlSeconds?: number } = {}) {
      return mintToken({ secret: SECRET, accountId, ...extra });
    },

    /** GET with a bearer token. */
    async get(path: string, token?: string, headers: Record<string, string> = {}) {
      return app.request(path, { headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } });
    },

    /**
     * Publishes the events of one account, in order, `batch` at a time, each batch searchable before
     * the next is sent: the pace of a live source, which keeps the projector's batches bounded.
     */
    async load(accountId: string, events: readonly FactEvent[], batch = 2_000): Promise<void> {
      for (let i = 0; i < events.length; i += batch) await env.waitForPositions(await env.produce(events.slice(i, i + batch).map((e) => toMessage(accountId, e))), 120_000);
    },

    /** Stops the harness's projector (a test that runs its own in the same group). */
    stopProjector: () => projector.stop(),

    async close() {
      await projector.stop();
      await env.close();
      await ns.cleanup();
    },
  };
}

export type ApiEnv = Awaited<ReturnType<typeof startApiEnv>>;

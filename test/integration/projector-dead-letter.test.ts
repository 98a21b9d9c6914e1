import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allDocs, replay, DEFAULT_DEDUPE_WINDOW_MS } from '../../projections/index.ts';
import { createMetrics } from '../../src/metrics.ts';
import { DEAD_LETTER_HEADERS } from '../../src/projector/dead-letter.ts';
import { indexedDocs } from '../support/history.ts';
import { type TestNamespace, createTestNamespace } from '../helpers/namespace.ts';
import { createEventBuilder } from '../support/builders.ts';
import { type OutgoingMessage, type PreparedNamespace, prepareNamespace } from '../support/pipeline.ts';
import { envelope, topicOf } from '../support/envelopes.ts';

/** Poison mixed with good events: each poison message lands in the dead-letter topic with its reason; every good event is applied. */
describe('poison events', () => {
  let ns: TestNamespace;
  let env: PreparedNamespace;
  let stop: () => Promise<void>;
  const metrics = createMetrics({ defaultMetrics: false });
  const e = createEventBuilder();
  const good = [
    e.inbox('i1'),
    e.queue('q1', { inbox: 'i1', automatic: true, ad_hoc: true }),
    e.role('r1', ['RecordingPlay:Edit']),
    e.user('u1'),
    e.assignRole('r1', 'u1'),
    e.member('q1', 'u1'),
    e.user('u2'),
    e.grantUser('i1', 'u2'),
  ];
  const valid = (n: number): OutgoingMessage => ({ topic: topicOf(good[n]!.type), key: 'acc', value: JSON.stringify(envelope('acc', good[n]!)) });
  const poison: (OutgoingMessage & { code: string; reason: RegExp })[] = [
    { topic: 'users', key: 'acc', value: '{"specversion": "1.0", "id": ', code: 'not_json', reason: /JSON/i },
    { topic: 'users', key: 'acc', value: JSON.stringify({ ...envelope('acc', e.user('u9')), data: { user_id: 9 } }), code: 'bad_data', reason: /data\.user_id/ },
    { topic: 'queues', key: 'acc', value: JSON.stringify({ ...envelope('acc', e.queue('q9')), type: 'queue.renamed' }), code: 'unknown_type', reason: /queue\.renamed/ },
    { topic: 'roles', key: 'other', value: JSON.stringify(envelope('acc', e.role('r9', []))), code: 'account_mismatch', reason: /differs from message key/ },
    { topic: 'inboxes', key: 'acc', value: JSON.stringify(envelope('acc', e.user('u8'))), code: 'wrong_topic', reason: /belongs to topic/ },
    { topic: 'queues', key: 'acc', value: null, code: 'not_json', reason: /./ },
  ];

  beforeAll(async () => {
    ns = createTestNamespace();
    env = await prepareNamespace(ns, { partitions: 1 });
    const projector = env.projector({ metrics });
    await projector.start();
    stop = () => projector.stop();
    // poison interleaved with the good events, on every topic
    const messages: OutgoingMessage[] = [];
    good.forEach((_, n) => {
      messages.push(valid(n));
      if (poison[n]) messages.push(poison[n]);
    });
    await env.waitForPositions(await env.produce(messages));
  });

  afterAll(async () => {
    await stop?.();
    await env?.close();
    await ns?.cleanup();
  });

  it('every good event is applied, as if the poison were not there', async () => {
    const expected = [...allDocs(replay(good, DEFAULT_DEDUPE_WINDOW_MS).facts).values()];
    const indexed = await indexedDocs(env, 'acc');
    expect(indexed).toEqual(expected);
    expect(indexed.find((u) => u.user_id === 'u1')?.entries.length).toBe(3);
    expect(await env.verify()).toEqual([]);
  });

  it('each poison message is in the dead-letter topic with its reason, code and origin', async () => {
    const consumer = env.clients.kafka.consumer({ groupId: `${ns.prefix}-dlq-reader` });
    await consumer.connect();
    await consumer.subscribe({ topic: env.config.topics.deadLetter, fromBeginning: true });
    const got: { headers: Record<string, string>; value: string | null; key: string | null }[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${got.length} dead letters`)), 30_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
          got.push({ headers, value: message.value?.toString() ?? null, key: message.key?.toString() ?? null });
          if (got.length === poison.length) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    await consumer.disconnect();
    for (const p of poison) {
      const match = got.find((g) => g.value === (p.value === null ? null : String(p.value)) && g.headers[DEAD_LETTER_HEADERS.topic] === env.config.topics[p.topic]);
      expect(match, `dead letter for ${p.code}`).toBeDefined();
      expect(match!.headers[DEAD_LETTER_HEADERS.code]).toBe(p.code);
      expect(match!.headers[DEAD_LETTER_HEADERS.reason]).toMatch(p.reason);
      expect(match!.headers[DEAD_LETTER_HEADERS.partition]).toBe('0');
      expect(match!.headers[DEAD_LETTER_HEADERS.offset]).toMatch(/^\d+$/);
      expect(match!.key).toBe(p.key);
    }
  });

  it('count events by type and dead letters by code; time batches, bulks and freshness; show the lag', async () => {
    const text = await metrics.registry.metrics();
    const value = (line: RegExp) => Number(text.match(line)?.[1] ?? NaN);
    expect(value(/access_index_events_applied_total\{type="user.upserted"\} (\d+)/)).toBe(2);
    expect(value(/access_index_events_applied_total\{type="inbox.user_granted"\} (\d+)/)).toBe(1);
    expect(value(/access_index_dead_letters_total\{code="not_json"\} (\d+)/)).toBe(2);
    expect(value(/access_index_dead_letters_total\{code="wrong_topic"\} (\d+)/)).toBe(1);
    expect(value(/access_index_batch_seconds_count (\d+)/)).toBeGreaterThan(0);
    expect(value(/access_index_bulk_seconds_count (\d+)/)).toBeGreaterThan(0);
    expect(value(/access_index_freshness_seconds_count (\d+)/)).toBeGreaterThan(0);
    // where the rounds' time went, stage by stage (the publish stage once a refresh published them)
    for (const stage of ['lane', 'check', 'commit', 'write'])
      expect(value(new RegExp(`access_index_round_stage_seconds_count\\{stage="${stage}"\\} (\\d+)`)), stage).toBeGreaterThan(0);
    await expect
      .poll(async () => Number((await metrics.registry.metrics()).match(/access_index_round_stage_seconds_count\{stage="publish"\} (\d+)/)?.[1] ?? 0), { timeout: 5_000 })
      .toBeGreaterThan(0);
    expect(value(/access_index_ready\{component="projector"\} (\d+)/)).toBe(1);
    // lag is sampled every 5 s: wait for a sample that has seen the whole backlog applied
    await expect
      .poll(async () => (await metrics.registry.metrics()).match(/access_index_consumer_lag\{[^}]*\} \d+/g)?.every((l: string) => l.endsWith(' 0')), { timeout: 15_000 })
      .toBe(true);
  });
});

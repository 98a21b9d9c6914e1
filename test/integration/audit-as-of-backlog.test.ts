/**
 * `as_of` and the history on a history loaded as a backlog: all of it produced first, then projected
 * in big batches per topic, so the projector applies the topics in an order that is not event time.
 * The answers (summary and rows) must still equal the pure core's replay of the events up to T, at
 * instants spread over the whole history, for every account; and the history of sampled users,
 * replayed by its `at` times up to T, must give their document at T (decision 30).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_DEDUPE_WINDOW_MS, allDocs, reportRow, replay, summarize } from '../../projections/index.ts';
import { createApp } from '../../src/api/app.ts';
import { mintToken } from '../../src/api/tokens.ts';
import { silentLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import { createTestNamespace } from '../helpers/namespace.ts';
import { testHistory } from '../support/history.ts';
import { type HistoryApiItem, replayHistoryItems } from '../support/history-replay.ts';
import { prepareNamespace } from '../support/pipeline.ts';

const SECRET = 'backlog-test-secret-of-32-characters-at-least';

describe('as_of after a backlog', () => {
  const ns = createTestNamespace();
  let close = async () => {};
  afterAll(async () => {
    await close();
    await ns.cleanup();
  });

  it('equals the core replay of the events up to T, and so does each user’s history replayed by its times, though the topics were applied out of time order', async () => {
    const history = testHistory(11);
    const env = await prepareNamespace(ns, { partitions: 2 });
    close = () => env.close();
    const targets = await env.produce(history.messages);
    const projector = env.projector();
    await projector.start();
    await env.waitForPositions(targets, 120_000);
    await projector.stop();

    const app = createApp({
      redis: env.clients.redis,
      opensearch: env.clients.opensearch,
      namespace: env.config.namespace,
      jwtSecret: SECRET,
      metrics: createMetrics({ defaultMetrics: false }),
      logger: silentLogger(),
    });
    for (const account of new Set(history.events.map((e) => e.key))) {
      const events = history.events.filter((e) => e.key === account).map((e) => e.event);
      const token = await mintToken({ secret: SECRET, accountId: account, scope: 'access-reports:read', sub: 'test', ttlSeconds: 600 });
      const get = async (path: string) => {
        const res = await app.request(`/v1/accounts/${account}/access${path}`, { headers: { authorization: `Bearer ${token}` } });
        expect(res.status, path).toBe(200);
        return res.json() as Promise<Record<string, unknown>>;
      };
      // 12 instants over the history, on and between events
      const times = events.map((e) => e.timeMs);
      const instants = Array.from({ length: 12 }, (_, i) => times[Math.floor((i * (times.length - 1)) / 11)]! + (i % 2) * 1234);
      // Eight users of the account, spread over its ids, with their whole history.
      const ids = [...new Set(events.flatMap((e) => ('user_id' in e.data ? [e.data.user_id] : [])))].sort();
      const sampled = Array.from({ length: 8 }, (_, i) => ids[Math.floor((i * (ids.length - 1)) / 7)]!);
      const histories = new Map<string, HistoryApiItem[]>();
      for (const userId of new Set(sampled)) histories.set(userId, ((await get(`/users/${encodeURIComponent(userId)}/history?size=1000`)) as { items: HistoryApiItem[] }).items);
      let compared = 0;
      for (const t of instants) {
        const asOf = encodeURIComponent(new Date(t).toISOString());
        const docs = [
          ...allDocs(
            replay(
              events.filter((e) => e.timeMs <= t),
              DEFAULT_DEDUPE_WINDOW_MS,
            ).facts,
          ).values(),
        ];
        const summary = await get(`/summary?as_of=${asOf}`);
        expect({ users: summary.users, queues: summary.queues, inboxes: summary.inboxes }, `${account} summary at ${t}`).toEqual(summarize(docs));
        const rows = (await get(`/users?as_of=${asOf}&size=1000&sort=name`)) as { items: { user_id: string; can_access: number; access_types: string[] }[] };
        const expectedRows = docs
          .map((d) => reportRow(d, {}))
          .filter((r) => r !== null)
          .map((r) => `${r.user_id}:${r.can_access}:${r.access_types.join('+')}`)
          .sort();
        expect(rows.items.map((r) => `${r.user_id}:${r.can_access}:${r.access_types.join('+')}`).sort(), `${account} rows at ${t}`).toEqual(expectedRows);
        const byId = new Map(docs.map((d) => [d.user_id, d]));
        for (const [userId, items] of histories) {
          expect(replayHistoryItems(userId, items, t), `${account} ${userId}: history up to ${t}`).toEqual(byId.get(userId) ?? null);
          if (byId.has(userId)) compared += 1;
        }
      }
      // Not vacuous: the sampled users existed at most of the instants.
      expect(compared).toBeGreaterThan(instants.length * 2);
    }
  });
});

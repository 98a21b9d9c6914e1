/**
 * A rebuild during live traffic, killed midway and resumed: it ends with the new generation live
 * (pointer and aliases), the live projector following it, no API answer failing or showing a
 * partial index meanwhile, and the index and counters equal to the pure core's replay.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { summarize } from '../../projections/index.ts';
import { createApp } from '../../src/api/app.ts';
import { mintToken } from '../../src/api/tokens.ts';
import { silentLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import { createAccountStore } from '../../src/redis/account-store.ts';
import { verifyAll } from '../../src/verify.ts';
import { createTestNamespace } from '../helpers/namespace.ts';
import { serverAddresses } from '../helpers/servers.ts';
import { expectedState, indexedState, testHistory } from '../support/history.ts';
import { prepareNamespace } from '../support/pipeline.ts';
import { type ManagedProcess, spawnCommand } from '../support/processes.ts';

const SECRET = 'rebuild-test-secret-of-32-characters-at-least';
const LIVE_ACCOUNT = 'acc_test_small';

describe('rebuild', () => {
  const ns = createTestNamespace();
  const processes: ManagedProcess[] = [];
  let close = async () => {};

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill('SIGKILL')));
    await close();
    await ns.cleanup();
  });

  it('swaps to a verified generation during live traffic, resumes after a kill, and equals a clean replay', async () => {
    const history = testHistory();
    const env = await prepareNamespace(ns, { partitions: 4 });
    close = () => env.close();
    const servers = serverAddresses();
    const run = (args: string[]) => {
      const p = spawnCommand(args, {
        ...ns.env,
        KAFKA_BROKERS: servers.kafkaBrokers.join(','),
        OPENSEARCH_URL: servers.opensearchUrl,
        REDIS_URL: servers.redisUrl,
        LOG_LEVEL: 'info',
        KAFKA_SESSION_TIMEOUT_MS: '6000',
      });
      processes.push(p);
      return p;
    };

    // Static accounts get their whole history now; the live account half of it, the rest during the rebuild.
    const liveEvents = history.messages.filter((m) => m.key === LIVE_ACCOUNT);
    const half = Math.floor(liveEvents.length / 2);
    await env.produce([...history.messages.filter((m) => m.key !== LIVE_ACCOUNT), ...liveEvents.slice(0, half)]);
    const live = run(['project']);
    await live.waitForLog((l) => l.msg === 'projector running');
    const allTopics = [env.config.topics.users, env.config.topics.roles, env.config.topics.queues, env.config.topics.inboxes];
    await env.waitForPositions(await env.endOffsets(allTopics), 120_000);

    // Readers during the whole rebuild: the static accounts' summaries must always be complete.
    const expected = expectedState(history.events);
    const app = createApp({
      redis: env.clients.redis,
      opensearch: env.clients.opensearch,
      namespace: env.config.namespace,
      jwtSecret: SECRET,
      metrics: createMetrics({ defaultMetrics: false }),
      logger: silentLogger(),
    });
    const staticAccounts = [...expected.keys()].filter((a) => a !== LIVE_ACCOUNT);
    const tokens = new Map(
      await Promise.all(
        staticAccounts.map(async (a) => [a, await mintToken({ secret: SECRET, accountId: a, scope: 'access-reports:read', sub: 'test', ttlSeconds: 3600 })] as const),
      ),
    );
    const answers: { account: string; status: number; summary?: unknown }[] = [];
    let reading = true;
    const readers = (async () => {
      while (reading)
        for (const account of staticAccounts) {
          const res = await app.request(`/v1/accounts/${account}/access/summary`, { headers: { authorization: `Bearer ${tokens.get(account)}` } });
          const body = (await res.json()) as { users: unknown; queues: unknown; inboxes: unknown };
          answers.push({ account, status: res.status, summary: { users: body.users, queues: body.queues, inboxes: body.inboxes } });
          await new Promise((r) => setTimeout(r, 20));
        }
    })();

    // The rebuild, killed once it has made a third of the history searchable, then resumed.
    const nextPositions = createAccountStore(env.clients.redis, { namespace: env.config.namespace, generation: 'g2' });
    const total = history.messages.length;
    const first = run(['rebuild']);
    await expect
      .poll(async () => [...(await nextPositions.positions()).values()].reduce((a, b) => a + Number(b) + 1, 0), { timeout: 60_000, interval: 20 })
      .toBeGreaterThan(total / 4);
    await first.kill('SIGKILL');
    // live traffic goes on
    await env.produce(liveEvents.slice(half));
    const second = run(['rebuild']);
    await second.waitForLog((l) => typeof l.stderr === 'string' && l.stderr.startsWith('Resuming the rebuild of generation g2'), 60_000);
    expect(await second.exited).toBe(0);
    await live.waitForLog((l) => l.msg === 'live generation changed; switching the projector', 30_000);

    // The new generation is live, everywhere.
    expect(await env.clients.redis.get(`${env.config.namespace}:live`)).toBe('g2');
    const alias = await env.clients.opensearch.indices.getAlias({ name: `${env.config.namespace}-users` });
    expect(Object.keys(alias.body)).toEqual([`${env.config.namespace}-users-g2`]);

    // It catches up with the live traffic and equals a clean replay.
    const g2 = { ...env, index: `${env.config.namespace}-users-g2`, store: nextPositions };
    const g2Positions = async () => nextPositions.positions();
    const ends = await env.endOffsets(allTopics);
    await expect
      .poll(
        async () => {
          const p = await g2Positions();
          return [...ends].every(([f, o]) => (p.get(f) ?? -1n) >= o);
        },
        { timeout: 60_000 },
      )
      .toBe(true);
    reading = false;
    await readers;
    const differences = (await verifyAll({ store: nextPositions, opensearch: env.clients.opensearch, index: g2.index, windowMs: env.config.dedupeWindowMs })).flatMap(
      (r) => r.differences,
    );
    expect(differences).toEqual([]);
    expect(await indexedState(g2, [...expected.keys()])).toEqual(expected);

    // No reader failed or saw a partial index, before, during or after the swap.
    expect(answers.length).toBeGreaterThan(20);
    for (const a of answers) {
      expect(a.status, a.account).toBe(200);
      expect(a.summary, a.account).toEqual(summarize(expected.get(a.account)!.docs));
    }
  });
});

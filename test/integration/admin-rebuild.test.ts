/**
 * The admin routes start and watch a rebuild: access-index:admin only; the rebuild runs as a real
 * `access-index rebuild` process and the route shows it through to the swap.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.ts';
import { mintToken } from '../../src/api/tokens.ts';
import { silentLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import { createTestNamespace } from '../helpers/namespace.ts';
import { serverAddresses } from '../helpers/servers.ts';
import { testHistory } from '../support/history.ts';
import { prepareNamespace } from '../support/pipeline.ts';
import { type ManagedProcess, spawnCommand } from '../support/processes.ts';

const SECRET = 'admin-test-secret-of-32-characters-at-least';

describe('admin: rebuild', () => {
  const ns = createTestNamespace();
  const children: ManagedProcess[] = [];
  let close = async () => {};
  afterAll(async () => {
    await Promise.all(children.map((p) => p.kill('SIGKILL')));
    await close();
    await ns.cleanup();
  });

  it('refuses tokens without the admin scope, starts a rebuild once, and shows it to the swap', async () => {
    const env = await prepareNamespace(ns, { partitions: 2 });
    close = () => env.close();
    const history = testHistory();
    const targets = await env.produce(history.messages.slice(0, 2000));
    const projector = env.projector();
    await projector.start();
    await env.waitForPositions(targets);
    await projector.stop();

    const servers = serverAddresses();
    const app = createApp({
      redis: env.clients.redis,
      opensearch: env.clients.opensearch,
      namespace: env.config.namespace,
      jwtSecret: SECRET,
      metrics: createMetrics({ defaultMetrics: false }),
      logger: silentLogger(),
      spawnRebuild: () => {
        const child = spawnCommand(['rebuild'], {
          ...ns.env,
          KAFKA_BROKERS: servers.kafkaBrokers.join(','),
          OPENSEARCH_URL: servers.opensearchUrl,
          REDIS_URL: servers.redisUrl,
          LOG_LEVEL: 'warn',
        });
        children.push(child);
        return child.child.pid;
      },
    });
    const token = (scope: string) => mintToken({ secret: SECRET, accountId: 'acc_test_small', scope, sub: 'admin-test', ttlSeconds: 600 });
    const call = async (method: string, scope?: string) => app.request('/v1/admin/rebuild', { method, headers: scope ? { authorization: `Bearer ${await token(scope)}` } : {} });

    expect((await call('GET')).status).toBe(401);
    expect((await call('GET', 'access-reports:read')).status).toBe(403);
    expect((await call('POST', 'access-reports:read')).status).toBe(403);
    const before = (await (await call('GET', 'access-index:admin')).json()) as { live: string; running: boolean };
    expect(before).toMatchObject({ live: 'g1', running: false });

    const started = await call('POST', 'access-index:admin');
    expect(started.status).toBe(202);
    await expect.poll(async () => ((await (await call('GET', 'access-index:admin')).json()) as { running: boolean }).running, { timeout: 30_000 }).toBe(true);
    const second = await call('POST', 'access-index:admin');
    expect(second.status).toBe(409);
    expect(second.headers.get('content-type')).toContain('application/problem+json');

    await expect.poll(async () => ((await (await call('GET', 'access-index:admin')).json()) as { live: string }).live, { timeout: 90_000, interval: 250 }).toBe('g2');
    const after = (await (await call('GET', 'access-index:admin')).json()) as { running: boolean; state: { phase: string; generation: string } };
    expect(after.state).toMatchObject({ phase: 'swapped', generation: 'g2' });
    expect(await children[0]!.exited).toBe(0);
    expect(children).toHaveLength(1);
  });
});

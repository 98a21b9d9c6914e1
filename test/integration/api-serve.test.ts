/** `serve` on a real socket: the URL answers, tokens work, close stops listening. */
import { describe, expect, it } from 'vitest';
import { mintToken } from '../../src/api/tokens.ts';
import { startApi } from '../../src/cli/commands/serve.ts';
import { silentLogger } from '../../src/logger.ts';
import { openRuntime } from '../../src/runtime.ts';
import { createTestNamespace } from '../helpers/namespace.ts';
import { serverAddresses } from '../helpers/servers.ts';
import { SECRET } from './api-harness.ts';

describe('startApi', () => {
  it('serves on 127.0.0.1 and a free port, and closes', async () => {
    const ns = createTestNamespace();
    const servers = serverAddresses();
    const env = { ...ns.env, KAFKA_BROKERS: servers.kafkaBrokers.join(','), OPENSEARCH_URL: servers.opensearchUrl, REDIS_URL: servers.redisUrl, ACCESS_INDEX_JWT_SECRET: SECRET };
    const runtime = await openRuntime({ env, logger: silentLogger() });
    try {
      const api = await startApi(runtime, { port: 0, readiness: () => ({ ok: true, details: { state: 'running' } }) });
      expect(api.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect((await fetch(`${api.url}healthz`)).status).toBe(200);
      const ready = (await (await fetch(`${api.url}readyz`)).json()) as any;
      expect(ready.checks.projector).toEqual({ ok: true, details: { state: 'running' } });
      const token = await mintToken({ secret: SECRET, accountId: 'acc-s' });
      const summary = await fetch(`${api.url}v1/accounts/acc-s/access/summary`, { headers: { authorization: `Bearer ${token}` } });
      expect(summary.status).toBe(200);
      expect(((await summary.json()) as any).users.total).toBe(0);
      const page = await fetch(api.url);
      expect(await page.text()).toContain('Access report');
      await api.close();
      await expect(fetch(`${api.url}healthz`)).rejects.toThrow();
    } finally {
      await runtime.close();
      await ns.cleanup();
    }
  });

  it('refuses to start without a secret', async () => {
    const ns = createTestNamespace();
    const servers = serverAddresses();
    const runtime = await openRuntime({ env: { ...ns.env, OPENSEARCH_URL: servers.opensearchUrl, REDIS_URL: servers.redisUrl }, logger: silentLogger() });
    try {
      await expect(startApi(runtime, { port: 0 })).rejects.toThrow(/ACCESS_INDEX_JWT_SECRET/);
    } finally {
      await runtime.close();
      await ns.cleanup();
    }
  });
});

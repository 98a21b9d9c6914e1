/** The public service routes: health, readiness, metrics, the OpenAPI document, its UI, the page. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.ts';
import { silentLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import { type ApiEnv, SECRET, startApiEnv } from './api-harness.ts';

describe('service routes', () => {
  let api: ApiEnv;

  beforeAll(async () => {
    api = await startApiEnv();
  });

  afterAll(async () => {
    await api?.close();
  });

  it('/healthz answers without a token', async () => {
    const res = await api.get('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('/readyz checks Redis, OpenSearch, the live generation and the projector', async () => {
    const res = await api.get('/readyz');
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.status).toBe('ready');
    expect(body.checks.redis.ok).toBe(true);
    expect(body.checks.opensearch.ok).toBe(true);
    expect(body.checks.generation.details.index).toBe(api.env.index);

    const app = createApp({
      redis: api.env.clients.redis,
      opensearch: api.env.clients.opensearch,
      namespace: api.env.config.namespace,
      jwtSecret: SECRET,
      metrics: createMetrics({ defaultMetrics: false }),
      logger: silentLogger(),
      readiness: () => ({ ok: false, details: { state: 'degraded', lastError: 'redis down' } }),
    });
    const notReady = await app.request('/readyz');
    expect(notReady.status).toBe(503);
    expect(((await notReady.json()) as any).checks.projector).toEqual({ ok: false, details: { state: 'degraded', lastError: 'redis down' } });

    const noGeneration = createApp({
      redis: api.env.clients.redis,
      opensearch: api.env.clients.opensearch,
      namespace: `${api.ns.prefix}-none`,
      jwtSecret: SECRET,
      metrics: createMetrics({ defaultMetrics: false }),
      logger: silentLogger(),
    });
    expect((await noGeneration.request('/readyz')).status).toBe(503);
  });

  it('/metrics has request latency by route pattern and status', async () => {
    const token = await api.token('acc-m');
    await api.get('/v1/accounts/acc-m/access/summary', token);
    await api.get('/v1/accounts/acc-m/access/summary');
    await api.get('/no/such/page');
    const res = await api.get('/metrics');
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toMatch(/access_index_http_request_seconds_count\{route="\/v1\/accounts\/:account_id\/access\/summary",status="200"\} 1/);
    expect(text).toMatch(/access_index_http_request_seconds_count\{route="\/v1\/accounts\/:account_id\/access\/summary",status="401"\} 1/);
    expect(text).toMatch(/route="unmatched",status="404"/);
    expect(text).not.toMatch(/acc-m/);
  });

  it('/openapi.json is OpenAPI 3.1 with every report route, its parameters and the bearer scheme', async () => {
    const doc = (await (await api.get('/openapi.json')).json()) as any;
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes.Bearer).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    const base = '/v1/accounts/{account_id}/access';
    expect(Object.keys(doc.paths).sort()).toEqual([
      `${base}/inboxes`,
      `${base}/queues`,
      `${base}/summary`,
      `${base}/users`,
      `${base}/users.csv`,
      `${base}/users/{user_id}`,
      `${base}/users/{user_id}/history`,
    ]);
    const users = doc.paths[`${base}/users`].get;
    expect(users.security).toEqual([{ Bearer: [] }]);
    expect(users.parameters.map((p: any) => p.name).sort()).toEqual([
      'access_type',
      'account_id',
      'as_of',
      'cc_queue_id',
      'channel',
      'cursor',
      'inbox_id',
      'include_empty',
      'min_position',
      'order',
      'q',
      'size',
      'sort',
      'wait_ms',
    ]);
    expect(Object.keys(users.responses).sort()).toEqual(['200', '400', '401', '403', '503']);
    expect(users.responses['400'].content['application/problem+json']).toBeDefined();
    expect(doc.paths[`${base}/users/{user_id}`].get.responses['404']).toBeDefined();
  });

  it('/docs serves Swagger UI for the document', async () => {
    const res = await api.get('/docs');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('swagger-ui');
    // served from the installed package (works offline), and pointed at our document
    for (const asset of ['/docs/swagger-ui-bundle.js', '/docs/swagger-ui.css']) {
      expect(html).toContain(asset);
      const res = await api.get(asset);
      expect(res.status, asset).toBe(200);
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(10_000);
    }
    expect(await (await api.get('/docs/init.js')).text()).toContain('/openapi.json');
  });

  it('the web page and its assets are served with a strict content security policy', async () => {
    const page = await api.get('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('<script type="module" src="/assets/app.js">');
    expect((await api.get('/assets/app.js')).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await api.get('/assets/app.css')).headers.get('content-type')).toBe('text/css; charset=utf-8');
    const missing = await api.get('/assets/../../package.json');
    expect(missing.status).toBe(404);
  });

  it('unknown routes answer a 404 problem', async () => {
    const res = await api.get('/v2/nothing');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const body = (await res.json()) as any;
    expect(body.detail).toBe('no route GET /v2/nothing');
    expect(res.headers.get('x-request-id')).toBe(body.request_id);
    const traced = await api.get('/healthz', undefined, { 'x-request-id': 'trace-42' });
    expect(traced.headers.get('x-request-id')).toBe('trace-42');
    const forged = await api.get('/healthz', undefined, { 'x-request-id': 'bad id with spaces' });
    expect(forged.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

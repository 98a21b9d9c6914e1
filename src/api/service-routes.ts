/**
 * Service routes, all public: liveness, readiness, Prometheus metrics, the OpenAPI document and
 * its Swagger UI.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Client } from '@opensearch-project/opensearch';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { ApiEnv } from './context.ts';
import type { IntegrityGate } from './integrity-gate.ts';
import type { LiveGeneration } from './live-generation.ts';

/** What a component reports to /readyz. */
export interface Readiness {
  ok: boolean;
  details?: Record<string, unknown>;
}

export interface ServiceDeps {
  redis: Redis;
  opensearch: Client;
  live: () => Promise<LiveGeneration>;
  registry: Registry;
  /** the in-process projector's readiness (`start`); absent for the API alone */
  readiness?: (() => Readiness | Promise<Readiness>) | undefined;
  /** whether the stores agree (src/integrity/monitor.ts); absent in tests of the routes alone */
  integrity?: IntegrityGate | undefined;
}

const CHECK_TIMEOUT_MS = 2_000;

/** Runs one readiness check with a deadline; a failure or timeout is a not-ready with the reason. */
async function check(fn: () => Promise<Readiness>): Promise<Readiness> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Readiness>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, details: { error: `no answer within ${CHECK_TIMEOUT_MS} ms` } }), CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([fn().catch((error: unknown) => ({ ok: false, details: { error: (error as Error).message } })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Adds /healthz, /readyz, /metrics, /openapi.json and /docs. */
export function registerServiceRoutes(app: OpenAPIHono<ApiEnv>, deps: ServiceDeps): void {
  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.get('/readyz', async (c) => {
    const [redis, opensearch, generation, projector] = await Promise.all([
      check(async () => ({ ok: (await deps.redis.ping()) === 'PONG' })),
      check(async () => {
        const health = (await deps.opensearch.cluster.health({ timeout: '2s' })).body as { status: string };
        return { ok: health.status !== 'red', details: { status: health.status } };
      }),
      check(async () => {
        const live = await deps.live();
        return { ok: true, details: { generation: live.space.generation, index: live.index } };
      }),
      deps.readiness ? check(async () => deps.readiness!()) : Promise.resolve({ ok: true, details: { note: 'not in this process' } }),
    ]);
    const verdict = deps.integrity?.verdict();
    const integrity: Readiness = verdict ? { ok: verdict.ok, details: { ...verdict } } : { ok: true, details: { note: 'not checked in this process' } };
    const checks = { redis, opensearch, generation, projector, integrity };
    const ok = Object.values(checks).every((r) => r.ok);
    return c.json({ status: ok ? 'ready' : 'not_ready', checks }, ok ? 200 : 503);
  });

  app.get('/metrics', async (c) => c.body(await deps.registry.metrics(), 200, { 'Content-Type': deps.registry.contentType }));

  app.openAPIRegistry.registerComponent('securitySchemes', 'Bearer', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'HS256 JWT with claims sub, account_id and scope (space-separated; reading needs access-reports:read)',
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Access index API',
      version: '1',
      description: 'Who can reach voicemail inboxes and call recordings. Errors are RFC 9457 problem+json. See docs/api.md.',
    },
  });
  // Swagger UI from the installed swagger-ui-dist package, not a CDN: the docs work offline.
  const swaggerDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const asset = (file: string) => readFileSync(join(swaggerDir, file));
  const bundle = asset('swagger-ui-bundle.js');
  const css = asset('swagger-ui.css');
  app.get('/docs/swagger-ui-bundle.js', (c) => c.body(bundle, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=86400' }));
  app.get('/docs/swagger-ui.css', (c) => c.body(css, 200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'public, max-age=86400' }));
  app.get('/docs/init.js', (c) =>
    c.body("window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui' });\n", 200, { 'content-type': 'text/javascript; charset=utf-8' }),
  );
  app.get('/docs', (c) =>
    c.html(
      '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Access index API</title>' +
        '<link rel="stylesheet" href="/docs/swagger-ui.css"></head><body><div id="swagger-ui"></div>' +
        '<script src="/docs/swagger-ui-bundle.js"></script><script src="/docs/init.js"></script></body></html>',
    ),
  );
}

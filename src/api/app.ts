/**
 * The HTTP API and the web page as one Hono app (contract section 4). Stateless: everything comes
 * from Redis and OpenSearch per request, so any number of instances can serve side by side.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Client } from '@opensearch-project/opensearch';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import type { Redis } from 'ioredis';
import { AppError, isRetriable } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { registerAdminRoutes } from './admin-routes.ts';
import { ADMIN_SCOPE, READ_SCOPE, createTokenVerifier, requireScope } from './auth.ts';
import type { ApiEnv } from './context.ts';
import { registerHistoryRoutes } from './history-routes.ts';
import { createLiveGenerationResolver } from './live-generation.ts';
import { makeProblem, problemFromError, problemResponse } from './problem.ts';
import { POSITION_HEADER } from './read-context.ts';
import { registerReportRoutes } from './report-routes.ts';
import { requestLog } from './request-log.ts';
import { type Readiness, registerServiceRoutes } from './service-routes.ts';
import { type IntegrityGate, integrityGate, isMissingIndex, missingIndexError } from './integrity-gate.ts';
import { registerUsersRoutes } from './users-routes.ts';
import { registerWebRoutes } from './web-assets.ts';

export interface AppDeps {
  redis: Redis;
  opensearch: Client;
  namespace: string;
  jwtSecret: string;
  metrics: Metrics;
  logger: Logger;
  /** the in-process projector's readiness, for /readyz (`start`); absent for the API alone */
  readiness?: () => Readiness | Promise<Readiness>;
  /** the topic names min_position may name (typos are a 400 instead of a wait) */
  topics?: readonly string[];
  now?: () => number;
  /** starts a rebuild process (POST /v1/admin/rebuild); default: `access-index rebuild`, detached */
  spawnRebuild?: () => number | undefined;
  /**
   * The integrity monitor's verdict (src/integrity/monitor.ts): while it is not ok, every report
   * answers 503 with the reason. Absent in tests of the routes alone.
   */
  integrity?: IntegrityGate;
}

export type { Readiness };

/** The app: report routes under /v1/accounts/{account_id}/access, service routes, the web page. */
export function createApp(deps: AppDeps): OpenAPIHono<ApiEnv> {
  const now = deps.now ?? Date.now;
  const live = createLiveGenerationResolver({ redis: deps.redis, namespace: deps.namespace, now });
  const verify = createTokenVerifier(deps.jwtSecret, { now });
  const app = new OpenAPIHono<ApiEnv>();

  app.use('*', requestLog(deps.logger, deps.metrics));
  app.use('*', secureHeaders({ crossOriginEmbedderPolicy: false, crossOriginResourcePolicy: 'same-origin' }));
  app.use('/v1/accounts/:account_id/access/*', requireScope(verify, READ_SCOPE, { matchAccount: true }));
  app.use('/v1/admin/*', requireScope(verify, ADMIN_SCOPE, { matchAccount: false }));
  if (deps.integrity) app.use('/v1/accounts/:account_id/access/*', integrityGate(deps.integrity));

  const services = { redis: deps.redis, opensearch: deps.opensearch, secret: deps.jwtSecret, live, topics: deps.topics, now };
  registerReportRoutes(app, services);
  registerUsersRoutes(app, services);
  registerHistoryRoutes(app, services);
  registerAdminRoutes(app, { redis: deps.redis, namespace: deps.namespace, ...(deps.spawnRebuild ? { spawnRebuild: deps.spawnRebuild } : {}) });
  registerServiceRoutes(app, { redis: deps.redis, opensearch: deps.opensearch, live, registry: deps.metrics.registry, readiness: deps.readiness, integrity: deps.integrity });
  registerWebRoutes(app);

  app.notFound((c) => problemResponse(makeProblem('not_found', `no route ${c.req.method} ${c.req.path}`, c.req.path, { request_id: c.get('requestId') })));

  app.onError((error, c) => {
    const log = c.get('log') ?? deps.logger;
    let mapped: unknown = error;
    if (error instanceof HTTPException && error.status < 500) mapped = new AppError(error.status === 401 ? 'unauthorized' : 'bad_request', error.message || 'bad request');
    // An index of the live generation vanished under the request: the stores disagree, not a bug.
    else if (isMissingIndex(error)) mapped = missingIndexError(error);
    // A server the API needs is down or slow: that is a 503 to retry, not a bug.
    else if (!(error instanceof AppError) && isRetriable(error))
      mapped = new AppError('not_ready', 'a server the API depends on is unavailable; retry shortly', { retriable: true, cause: error });
    const { problem, headers } = problemFromError(mapped, c.req.path);
    // Expected refusals (bad input, auth, a freshness timeout, a server down) are not bugs: no stack.
    if (problem.status === 500) log.error({ err: error }, 'request failed');
    else if (problem.status >= 500) log.warn({ code: (mapped as AppError).code, detail: problem.detail }, 'request not answered');
    else log.debug({ code: (mapped as AppError).code, detail: problem.detail }, 'request refused');
    // A 404 is an answer about a state (no such user at this position): it names the position the
    // route read, as a 200 would; a refusal names none.
    const position = problem.status === 404 ? c.res.headers.get(POSITION_HEADER) : null;
    return problemResponse({ ...problem, request_id: c.get('requestId') }, position ? { ...headers, [POSITION_HEADER]: position } : headers);
  });

  return app;
}

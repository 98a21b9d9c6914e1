/**
 * One JSON log line and one latency observation per request. The line names the route pattern,
 * status, duration, caller (sub, account) and the query's parameter names; never the token and
 * never parameter values (a search for a person's name is personal data).
 */
import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { ApiEnv } from './context.ts';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,100}$/;

/** Middleware: request id (X-Request-Id, echoed or made), per-request logger, log line, histogram. */
export function requestLog(logger: Logger, metrics: Metrics): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const started = performance.now();
    const given = c.req.header('x-request-id');
    const requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
    const log = logger.child({ req_id: requestId });
    c.set('requestId', requestId);
    c.set('log', log);
    await next();
    c.header('X-Request-Id', requestId);
    const seconds = (performance.now() - started) / 1000;
    // The pattern of the handler that answered, so the histogram has one series per route, not per URL.
    const handlers = matchedRoutes(c).filter((r) => r.method !== 'ALL');
    const route = c.res.status === 404 && handlers.length === 0 ? 'unmatched' : (handlers[handlers.length - 1]?.path ?? 'unmatched');
    const status = String(c.res.status);
    metrics.httpSeconds.observe({ route, status }, seconds);
    const principal = c.get('principal') as ApiEnv['Variables']['principal'] | undefined;
    log.info(
      {
        method: c.req.method,
        path: c.req.path,
        route,
        status: c.res.status,
        ms: Math.round(seconds * 1000),
        query_keys: [...new Set(new URL(c.req.url).searchParams.keys())],
        ...(principal ? { sub: principal.sub, account_id: principal.accountId } : {}),
      },
      'request',
    );
  };
}

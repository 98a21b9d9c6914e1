/**
 * Fail closed: every report route answers 503 problem+json (`index_unavailable`) while the
 * integrity monitor's verdict is not ok, naming the reason and the repair under way. An answer
 * whose reading spanned a Redis reconnection is refused too: Redis may have come back older, and
 * the request may have read from both sides (ioredis resends commands in flight).
 */
import type { MiddlewareHandler } from 'hono';
import { AppError } from '../errors.ts';
import { describeRepair } from '../integrity/repair-state.ts';
import type { Verdict } from '../integrity/monitor.ts';
import type { ApiEnv } from './context.ts';
import { problemFromError, problemResponse } from './problem.ts';

/** What the gate needs of the monitor. */
export interface IntegrityGate {
  verdict(): Verdict;
  /** changes every time the Redis connection closes */
  connection(): number;
}

/** The error a verdict that is not ok answers with. */
export function refusal(verdict: Verdict): AppError {
  if (verdict.fault === 'not_initialized') return new AppError('not_ready', verdict.reason ?? 'the index has no live generation yet', { retriable: true });
  const repair = verdict.repair
    ? { action: describeRepair(verdict.repair), phase: verdict.repair.phase, done: verdict.repair.done, total: verdict.repair.total, started_at: verdict.repair.started_at }
    : undefined;
  return new AppError('index_unavailable', `The report cannot be trusted now: ${verdict.reason ?? verdict.fault}`, {
    retriable: true,
    details: { fault: verdict.fault, ...(repair ? { repair } : {}) },
  });
}

export function integrityGate(gate: IntegrityGate): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const before = gate.connection();
    const verdict = gate.verdict();
    if (!verdict.ok) throw refusal(verdict);
    await next();
    const after = gate.verdict();
    if (gate.connection() !== before || !after.ok) {
      const { problem, headers } = problemFromError(
        refusal(after.ok ? { ...after, ok: false, fault: 'unverified', reason: 'the connection to Redis was re-established while the answer was read' } : after),
        c.req.path,
      );
      c.res = problemResponse({ ...problem, request_id: c.get('requestId') }, headers);
    }
  };
}

/** An OpenSearch error saying that an index does not exist, or is closed (being restored). */
export function isMissingIndex(error: unknown): boolean {
  const body = (error as { meta?: { body?: { error?: { type?: string } } } })?.meta?.body;
  return body?.error?.type === 'index_not_found_exception' || body?.error?.type === 'index_closed_exception';
}

export function missingIndexError(error: unknown): AppError {
  return new AppError('index_unavailable', 'The report cannot be trusted now: an index of the live generation is missing in OpenSearch; the service rebuilds it', {
    retriable: true,
    cause: error,
    details: { fault: 'index_lost' },
  });
}

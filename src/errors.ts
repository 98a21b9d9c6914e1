/**
 * One small error taxonomy: every failure the service handles has a code and says whether trying
 * again can help. Retries (src/retry.ts) act only on retriable errors; HTTP maps codes to problems.
 */

export type ErrorCode =
  | 'config_invalid'
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'not_ready'
  | 'position_timeout'
  | 'kafka_unavailable'
  | 'redis_unavailable'
  | 'opensearch_unavailable'
  | 'opensearch_rejected'
  | 'store_conflict'
  | 'index_unavailable'
  | 'history_gone'
  | 'internal';

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: { retriable?: boolean; cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.details = options.details;
  }
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Whether an error from a client library is worth retrying: our own flag when it is an AppError,
 * else network failures, timeouts, kafkajs' own `retriable`, and 429/5xx from OpenSearch.
 */
export function isRetriable(error: unknown): boolean {
  if (error instanceof AppError) return error.retriable;
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { code?: unknown; retriable?: unknown; name?: unknown; meta?: { statusCode?: unknown }; message?: unknown };
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  if (e.retriable === true) return true;
  if (e.name === 'ConnectionError' || e.name === 'TimeoutError' || e.name === 'NoLivingConnectionsError') return true;
  const status = e.meta?.statusCode;
  if (typeof status === 'number' && (status === 429 || status >= 500)) return true;
  if (typeof e.message === 'string' && /Connection is closed|connect ECONNREFUSED|socket hang up|MaxRetriesPerRequest/i.test(e.message)) return true;
  return false;
}

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

/**
 * A failed write of which part was applied (a bulk whose other items or earlier requests succeeded,
 * `details.partlyApplied`): a refresh may show that part (docs/decisions.md 59). A request whose
 * answer never came (a timeout) is not known to be.
 */
export function partlyApplied(error: unknown): boolean {
  return error instanceof AppError && error.details?.partlyApplied === true;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** kafkajs group-membership errors: this member lost its partitions; waiting will not bring them back. */
const LOST_MEMBERSHIP = new Set(['UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'REBALANCE_IN_PROGRESS', 'FENCED_INSTANCE_ID']);

/** Redis replies that describe a passing state of the server (anything else it refuses, it refuses again). */
const TRANSIENT_REDIS_REPLY = /^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|READONLY)/;

/**
 * What trying again can do about an error: the one retry policy (table-tested in
 * test/unit/retry-policy.test.ts).
 * - `transient`: an outage or a passing state (network failures, timeouts, 429 and 5xx from
 *   OpenSearch, kafkajs' own `retriable`, Redis loading or failing over, our AppErrors flagged
 *   retriable): wait and retry; the API answers 503.
 * - `permanent`: retrying gives the same answer (rejected input, a refused command, a bug, an
 *   integrity fault, a kafkajs error that cannot heal or a lost group membership, which must end
 *   the batch so that kafkajs rejoins).
 * - `unknown`: anything else. The projector retries it with backoff (an unrecognised outage must
 *   not lose events); the API answers 500.
 */
export type RetryClass = 'transient' | 'permanent' | 'unknown';

export function retryClass(error: unknown): RetryClass {
  if (error instanceof AppError) return error.retriable ? 'transient' : 'permanent';
  if (typeof error !== 'object' || error === null) return 'unknown';
  const e = error as { code?: unknown; retriable?: unknown; name?: unknown; type?: unknown; meta?: { statusCode?: unknown }; message?: unknown };
  if (e.name === 'IntegrityFault') return 'permanent';
  if (e.name === 'KafkaJSNonRetriableError' || (typeof e.type === 'string' && LOST_MEMBERSHIP.has(e.type))) return 'permanent';
  if (e.name === 'ReplyError') return typeof e.message === 'string' && TRANSIENT_REDIS_REPLY.test(e.message) ? 'transient' : 'permanent';
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return 'transient';
  if (e.retriable === true) return 'transient';
  if (e.name === 'ConnectionError' || e.name === 'TimeoutError' || e.name === 'NoLivingConnectionsError') return 'transient';
  const status = e.meta?.statusCode;
  if (typeof status === 'number' && (status === 429 || status >= 500)) return 'transient';
  if (typeof e.message === 'string' && /Connection is closed|connect ECONNREFUSED|socket hang up|MaxRetriesPerRequest/i.test(e.message)) return 'transient';
  if (e.name === 'TypeError' || e.name === 'SyntaxError' || e.name === 'RangeError') return 'permanent';
  return 'unknown';
}

/** Whether an error is an outage or a passing state (`retryClass` is `transient`): what src/retry.ts retries by default and the API answers 503 for. */
export function isRetriable(error: unknown): boolean {
  return retryClass(error) === 'transient';
}

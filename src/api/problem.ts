/**
 * RFC 9457 problem details: every error the API answers, in one shape, from one mapping of the
 * error taxonomy (src/errors.ts) to HTTP. Internal failures never leak their message to clients.
 */
import { AppError, type ErrorCode } from '../errors.ts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
/** The realm named in WWW-Authenticate challenges. */
export const REALM = 'access-index';

export interface FieldError {
  field: string;
  message: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  [extension: string]: unknown;
}

const STATUS: Partial<Record<ErrorCode, number>> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  not_ready: 503,
  index_unavailable: 503,
  position_timeout: 503,
  redis_unavailable: 503,
  opensearch_unavailable: 503,
  kafka_unavailable: 503,
};

const TITLE: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  500: 'Internal server error',
  503: 'Service unavailable',
};

/** Problem types are tag URIs (RFC 9457 §3.1.1): stable identifiers, explained in docs/api.md. */
export function problemType(code: ErrorCode): string {
  return `tag:access-index,2026:problem:${code}`;
}

/** A problem body for `code`. */
export function makeProblem(code: ErrorCode, detail: string, instance: string, extensions: Record<string, unknown> = {}): Problem {
  const status = STATUS[code] ?? 500;
  const title = code === 'position_timeout' ? 'Index not fresh enough yet' : (TITLE[status] ?? 'Error');
  return { type: problemType(code), title, status, detail, instance, ...extensions };
}

/** The headers an error's status calls for: auth challenges and when to come back. */
function headersFor(error: AppError): Record<string, string> {
  const details = error.details ?? {};
  if (error.code === 'unauthorized') {
    const bearerError = details.bearer_error === 'invalid_token' ? `, error="invalid_token", error_description="${error.message.replace(/["\\]/g, '')}"` : '';
    return { 'WWW-Authenticate': `Bearer realm="${REALM}"${bearerError}` };
  }
  if (error.code === 'forbidden' && typeof details.scope === 'string')
    return { 'WWW-Authenticate': `Bearer realm="${REALM}", error="insufficient_scope", scope="${details.scope}"` };
  if (error.code === 'position_timeout') return { 'Retry-After': '1' };
  // A big round's write ends within seconds (decision 59).
  if (details.fault === 'account_part_written' || details.fault === 'names_ahead') return { 'Retry-After': '1' };
  if ((STATUS[error.code] ?? 500) === 503) return { 'Retry-After': '5' };
  return {};
}

// Extension members an AppError may carry into its problem (anything else in details stays internal).
const PUBLIC_DETAILS = ['errors', 'lag', 'position', 'fault', 'repair'] as const;

/**
 * The problem and headers for any thrown value. An AppError with a known status keeps its message;
 * anything else becomes a 500 whose detail says nothing about internals (the log has the cause).
 */
export function problemFromError(error: unknown, instance: string): { problem: Problem; headers: Record<string, string> } {
  if (error instanceof AppError && STATUS[error.code] !== undefined) {
    const extensions: Record<string, unknown> = {};
    for (const key of PUBLIC_DETAILS) if (error.details?.[key] !== undefined) extensions[key] = error.details[key];
    return { problem: makeProblem(error.code, error.message, instance, extensions), headers: headersFor(error) };
  }
  return { problem: makeProblem('internal', 'The request could not be answered; the failure is logged.', instance), headers: {} };
}

/** A problem+json response. */
export function problemResponse(problem: Problem, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(problem), {
    status: problem.status,
    headers: { 'Content-Type': PROBLEM_CONTENT_TYPE, 'Cache-Control': 'no-store', ...headers },
  });
}

/** A 400 naming each bad field. */
export function badRequest(detail: string, errors: FieldError[]): AppError {
  return new AppError('bad_request', detail, { details: { errors } });
}

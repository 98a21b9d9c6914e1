/**
 * Parameter validation with one 400 that names every bad field at once, path and query together
 * (the validators of @hono/zod-openapi stop at the first failing part), in plain words.
 */
import type { Context } from 'hono';
import type { z } from '@hono/zod-openapi';
import { readableIssue } from '../../schemas/issues.ts';
import { type FieldError, badRequest } from './problem.ts';

/** A zod error map for query strings: numbers and unknown keys phrased for people typing URLs. */
export function parameterIssue(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === 'invalid_type' && (issue.expected === 'number' || issue.expected === 'int')) return 'must be a whole number';
  if (issue.code === 'too_small' && issue.origin === 'number') return `must be at least ${issue.minimum}`;
  if (issue.code === 'too_big' && issue.origin === 'number') return `must be at most ${issue.maximum}`;
  return readableIssue(issue);
}

/** Field errors of one part of the request (`path` or `query`). */
export function fieldErrors(schema: z.ZodType, input: unknown, accepted: readonly string[] = []): FieldError[] {
  const result = schema.safeParse(input, { error: parameterIssue });
  if (result.success) return [];
  return result.error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ field: key, message: `unknown parameter${accepted.length ? ` (accepted: ${accepted.join(', ')})` : ''}` }))
      : [{ field: String(issue.path[0] ?? 'query'), message: issue.message }],
  );
}

/** The query string as the validators see it; each repeated parameter is an error of its own. */
function queryInput(c: Context): { input: Record<string, string>; errors: FieldError[] } {
  const input: Record<string, string> = {};
  const errors: FieldError[] = [];
  for (const [key, list] of Object.entries(c.req.queries())) {
    if (list.length > 1) errors.push({ field: key, message: 'given more than once' });
    input[key] = list[0] ?? '';
  }
  return { input, errors };
}

/**
 * A route hook: on any validation failure, validates path and query again together and throws one
 * 400 problem listing each bad field.
 */
export function validationHook(schemas: { params?: z.ZodObject; query?: z.ZodObject }) {
  const accepted = schemas.query ? Object.keys(schemas.query.shape) : [];
  return (result: { success: boolean }, c: Context): undefined => {
    if (result.success) return undefined;
    const { input, errors } = queryInput(c);
    if (schemas.params) errors.push(...fieldErrors(schemas.params, c.req.param()));
    if (schemas.query) errors.push(...fieldErrors(schemas.query, input, accepted).filter((e) => !errors.some((x) => x.field === e.field)));
    if (errors.length === 0) errors.push({ field: 'request', message: 'is not valid' });
    throw badRequest(`Invalid parameters: ${[...new Set(errors.map((e) => e.field))].join(', ')}`, errors);
  };
}

/**
 * Field schemas shared by the event data: ids, names and the event time.
 * Kept apart from the event table so that the limits are defined (and documented) once.
 */
import { z } from 'zod';
import { kindOf } from './issues.ts';

/** Longest id we accept: far above any real contact-center id, low enough to keep index keys small. */
export const MAX_ID_LENGTH = 256;
/** Longest display name, email or entity name we accept. */
export const MAX_NAME_LENGTH = 1024;

// U+001F is our internal separator in composite keys (e.g. account + user id), so an id carrying it
// could forge another key; the other control characters have no business in an id either.
const CONTROL_CHAR = /[\x00-\x1f\x7f]/;

function describeControlChar(input: unknown): string {
  if (typeof input !== 'string') return 'must not contain control characters';
  const index = input.search(CONTROL_CHAR);
  const code = input.charCodeAt(index).toString(16).toUpperCase().padStart(4, '0');
  return `must not contain control characters (U+0000-U+001F, U+007F): found U+${code} at index ${index}`;
}

function idString(params?: Parameters<typeof z.string>[0]) {
  return (
    z
      .string(params)
      .min(1)
      .max(MAX_ID_LENGTH)
      // \x rather than \u escapes: the pattern goes into the JSON Schemas, and more regex dialects
      // (Go, Python, Java) read \x.
      .regex(/^[^\x00-\x1f\x7f]*$/, { error: (issue) => describeControlChar(issue.input) })
  );
}

/** An id of an account, user, role, queue, inbox or event: 1..256 characters, no control characters. */
export const idSchema = idString();

/** An id or null (a queue without inbox); the message says null is allowed too. */
export const nullableIdSchema = idString({
  error: (issue) => (issue.input === undefined ? 'missing (expected string or null)' : `expected string or null, received ${kindOf(issue.input)}`),
}).nullable();

/** A human-readable name (display name, queue name...): any string up to 1024 characters. */
export const nameSchema = z.string().max(MAX_NAME_LENGTH);

/**
 * A user's email. Deliberately not checked as an email address: the contact-center API is known to
 * send odd addresses, and refusing a user over it would hide that user from the access report.
 */
export const emailSchema = z.string().max(MAX_NAME_LENGTH);

/**
 * Event time: RFC 3339 with seconds and an explicit offset (`Z` or `±hh:mm`), upper-case `T`/`Z`
 * as every mainstream producer library writes it. A local time without offset is refused: it would
 * put the event at a different instant depending on where it is read.
 */
export const eventTimeSchema = z.iso.datetime({
  offset: true,
  error: 'must be an RFC 3339 date-time with seconds and an offset, e.g. "2026-11-27T10:15:00.000Z"',
});

/** Epoch milliseconds of a time already validated by `eventTimeSchema` (sub-ms digits are dropped). */
export function parseEventTime(time: string): number {
  return Date.parse(time);
}

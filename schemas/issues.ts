/**
 * Readable reasons from zod issues. Reasons end up in the dead-letter topic and in logs, where an
 * operator must see at once which field of which event was wrong, so they name the field by its
 * path (`data.recording.ad_hoc`) and say what was expected and what came.
 */
import type { z } from 'zod';

/** Longest quoted input shown in a reason: enough to recognise it, bounded for log lines. */
const MAX_SHOWN = 80;

/** A value quoted for a reason, JSON-escaped (control characters stay visible) and shortened. */
export function quote(value: string): string {
  const shown = value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN)}…` : value;
  return JSON.stringify(shown);
}

/** The JSON kind of a parsed value, as a producer in any language would name it. */
export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function expectedName(expected: string): string {
  // zod calls a JSON object a "record" or "object"; producers know it as an object.
  return expected === 'record' ? 'object' : expected;
}

function showValue(value: unknown): string {
  return typeof value === 'string' ? quote(value) : (JSON.stringify(value) ?? String(value));
}

/**
 * A zod error map that phrases the common issues for people (pass it as `{ error: readableIssue }`
 * to safeParse). Messages set on a schema itself take precedence over it.
 */
export function readableIssue(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return `missing (expected ${expectedName(issue.expected)})`;
      return `expected ${expectedName(issue.expected)}, received ${kindOf(issue.input)}`;
    case 'invalid_value': {
      const options = issue.values.map((v) => showValue(v)).join(', ');
      const got = `got ${showValue(issue.input)}`;
      return issue.values.length === 1 ? `expected ${options} (${got})` : `expected one of ${options} (${got})`;
    }
    case 'too_small':
      if (issue.origin === 'string' && Number(issue.minimum) === 1) return 'must not be empty';
      return `must have at least ${issue.minimum} ${issue.origin === 'string' ? 'characters' : 'items'}`;
    case 'too_big': {
      const unit = issue.origin === 'string' ? 'characters' : 'items';
      const size = typeof issue.input === 'string' || Array.isArray(issue.input) ? issue.input.length : undefined;
      return `must have at most ${issue.maximum} ${unit}${size === undefined ? '' : ` (got ${size})`}`;
    }
    default:
      return undefined;
  }
}

/** `data.privileges[2]`-style path; the whole value is called `event`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? 'event' : out;
}

/** Every issue as `path: message`, joined with '; '. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`).join('; ');
}

/**
 * Pagination cursors of GET /users: opaque to clients, base64url JSON signed with an HMAC, so a
 * client can neither forge one nor reuse one with other filters (which would skip or repeat rows).
 * Even a forged cursor could not leak data: every page's query is rebuilt from the request's own
 * account and filters; the cursor only carries where to resume.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface CursorState {
  /** OpenSearch point in time the pages are read from */
  pit: string;
  /** sort values of the last row delivered (search_after) */
  after: unknown[];
  /** hash of the account, filters and sort the cursor belongs to */
  filter: string;
  /** rows delivered so far (the end is reached when it equals the snapshot's total) */
  delivered: number;
  /** position of the snapshot (the answer of every page reflects it) */
  position: string;
}

const VERSION = 1;

/** A short stable hash of the parts of a query that must not change between pages. */
export function filterHash(parts: Record<string, unknown>): string {
  const canonical = JSON.stringify(
    Object.keys(parts)
      .sort()
      .map((key) => [key, parts[key] ?? null]),
  );
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 22);
}

function sign(secret: string, payload: string): string {
  // A label keeps cursor signatures apart from any other use of the secret.
  return createHmac('sha256', secret).update(`access-index cursor\u0000${payload}`).digest('base64url').slice(0, 22);
}

/** The opaque cursor text for `state`. */
export function encodeCursor(state: CursorState, secret: string): string {
  const payload = Buffer.from(JSON.stringify({ v: VERSION, p: state.pit, a: state.after, f: state.filter, d: state.delivered, o: state.position })).toString('base64url');
  return `${payload}.${sign(secret, payload)}`;
}

/** The state of a cursor, or null when it was not made by us with this secret (or is damaged). */
export function decodeCursor(text: string, secret: string): CursorState | null {
  const dot = text.indexOf('.');
  if (dot <= 0) return null;
  const payload = text.slice(0, dot);
  const given = Buffer.from(text.slice(dot + 1));
  const expected = Buffer.from(sign(secret, payload));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  try {
    const raw = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (raw.v !== VERSION || typeof raw.p !== 'string' || !Array.isArray(raw.a) || typeof raw.f !== 'string') return null;
    if (typeof raw.d !== 'number' || typeof raw.o !== 'string') return null;
    return { pit: raw.p, after: raw.a, filter: raw.f, delivered: raw.d, position: raw.o };
  } catch {
    return null;
  }
}

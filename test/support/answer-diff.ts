/**
 * Small helpers of the oracle, written apart from src/api on purpose (an oracle that reuses the
 * code it judges would agree with its bugs): reading a `position` string, and describing how two
 * JSON answers differ in a few words.
 */

/**
 * `topic:partition:offset` joined by commas into `topic:partition -> offset`; '' is empty.
 * Returns a reason instead when the text is not such a list or names a partition twice. A
 * negative offset (`-1`, which the API never writes) is accepted and means "nothing".
 */
export function parsePosition(text: string): Map<string, bigint> | string {
  const out = new Map<string, bigint>();
  if (text === '') return out;
  for (const part of text.split(',')) {
    const match = /^(.+):(\d+):(-1|\d+)$/.exec(part);
    if (!match) return `position part ${JSON.stringify(part)} is not topic:partition:offset`;
    const field = `${match[1]}:${match[2]}`;
    if (out.has(field)) return `position names ${field} twice`;
    out.set(field, BigInt(match[3]!));
  }
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function show(value: unknown): string {
  const text = value === undefined ? 'nothing' : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * Where `actual` differs from `expected` (JSON values), as `path: got X, want Y` lines, at most
 * `max` of them. Key order does not matter; array order does.
 */
export function describeDifferences(expected: unknown, actual: unknown, max = 3, path = ''): string[] {
  const out: string[] = [];
  const walk = (e: unknown, a: unknown, p: string) => {
    if (out.length >= max) return;
    if (isObject(e) && isObject(a)) {
      for (const key of new Set([...Object.keys(e), ...Object.keys(a)])) walk(e[key], a[key], p ? `${p}.${key}` : key);
      return;
    }
    if (Array.isArray(e) && Array.isArray(a)) {
      if (e.length !== a.length) {
        out.push(`${p || '(answer)'}: ${a.length} items, want ${e.length}`);
        return;
      }
      e.forEach((item, i) => walk(item, a[i], `${p}[${i}]`));
      return;
    }
    if (e !== a) out.push(`${p || '(answer)'}: got ${show(a)}, want ${show(e)}`);
  };
  walk(expected, actual, path);
  return out;
}

/**
 * How two row sets differ, keyed by `user_id`: rows missing, extra, listed twice, or different
 * (with the first field that differs). Empty when equal.
 */
export function describeRowDifferences(expected: readonly { user_id: string }[], actual: readonly unknown[], max = 3): string[] {
  const want = new Map(expected.map((r) => [r.user_id, r]));
  const got = new Map<string, unknown>();
  const twice: string[] = [];
  for (const row of actual) {
    const id = isObject(row) && typeof row.user_id === 'string' ? row.user_id : JSON.stringify(row);
    if (got.has(id)) twice.push(id);
    got.set(id, row);
  }
  const missing = [...want.keys()].filter((id) => !got.has(id));
  const extra = [...got.keys()].filter((id) => !want.has(id));
  const out: string[] = [];
  const list = (ids: string[]) => `${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ` and ${ids.length - 5} more` : ''}`;
  if (missing.length > 0) out.push(`${missing.length} rows missing (${list(missing)})`);
  if (extra.length > 0) out.push(`${extra.length} rows extra (${list(extra)})`);
  if (twice.length > 0) out.push(`${twice.length} rows listed twice (${list(twice)})`);
  for (const [id, row] of want) {
    if (out.length >= max) break;
    if (got.has(id)) out.push(...describeDifferences(row, got.get(id), 1, `row ${id}`));
  }
  return out.slice(0, max);
}

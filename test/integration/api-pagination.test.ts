/**
 * No silent truncation: 25,000 report rows (well past OpenSearch's 10,000-hit window), every one
 * reached exactly once by following next_cursor, in order, from one snapshot even while the index
 * changes; and the CSV of the same filter holds every row.
 */
import { fold } from '../../src/opensearch/search-terms.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FactEvent } from '../../projections/index.ts';
import { createEventBuilder } from '../support/builders.ts';
import { type ApiEnv, compareCodePoints, startApiEnv } from './api-harness.ts';
import { parseCsv } from './api-csv-parse.ts';

const N = 25_000;
const ACCOUNT = 'acc-big';
const FIRST = ['Ana', 'Bo', 'Chen', 'Dara', 'Emile', 'Farah', 'Goran', 'Hana', 'Ines', 'Jonas'];
const pad = (i: number) => String(i).padStart(5, '0');

function bigAccount(): { events: FactEvent[]; names: Map<string, string> } {
  const b = createEventBuilder(Date.parse('2026-05-01T00:00:00Z'), 'big');
  const names = new Map<string, string>();
  const users: FactEvent[] = [];
  const members: FactEvent[] = [];
  for (let i = 0; i < N; i++) {
    const id = `u${pad(i)}`;
    // Many equal names, so the user_id tie-breaker decides much of the order.
    const name = `${FIRST[i % FIRST.length]} ${pad((i * 7919) % 3000)}`;
    names.set(id, name);
    users.push(b.user(id, name));
    members.push(b.member('q1', id));
  }
  return { events: [b.queue('q1', { ad_hoc: true, name: 'Main line' }), ...users, b.user('u-empty', 'Nobody'), ...members], names };
}

describe('25,000 rows', () => {
  let api: ApiEnv;
  let token: string;
  let expectedOrder: string[];
  let names: Map<string, string>;
  const base = `/v1/accounts/${ACCOUNT}/access`;

  beforeAll(async () => {
    api = await startApiEnv();
    token = await api.token(ACCOUNT);
    const account = bigAccount();
    const events = account.events;
    names = account.names;
    const started = Date.now();
    await api.load(ACCOUNT, events, 2_000);
    console.info(`[api-pagination] ${events.length} events projected and searchable in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expectedOrder = [...names.keys()].sort((a, b) => compareCodePoints(fold(names.get(a)!), fold(names.get(b)!)) || compareCodePoints(a, b));
  }, 600_000);

  afterAll(async () => {
    await api?.close();
  });

  it('reaches every row exactly once, in order, from one snapshot, with size 1000', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    let firstPosition = '';
    do {
      const url: string = `${base}/users?size=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res = await api.get(url, token);
      expect(res.status, await res.clone().text()).toBe(200);
      const page = (await res.json()) as { items: { user_id: string; can_access: number }[]; total: number; next_cursor: string | null; position: string };
      expect(page.total).toBe(N);
      if (pages === 0) {
        firstPosition = page.position;
        // A change after the first page must not shift the listing (it reads its snapshot).
        const b = createEventBuilder(Date.parse('2026-05-02T00:00:00Z'), 'late');
        await api.load(ACCOUNT, [b.user('a-late', 'Aaron Late'), b.member('q1', 'a-late')]);
      }
      expect(page.position).toBe(firstPosition);
      expect(res.headers.get('x-access-index-position')).toBe(firstPosition);
      seen.push(...page.items.map((r) => r.user_id));
      cursor = page.next_cursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(N / 1000);
    expect(new Set(seen).size).toBe(N);
    expect(seen).toEqual(expectedOrder);

    // A new listing sees the change.
    const fresh = (await (await api.get(`${base}/users?size=1`, token)).json()) as { total: number; items: { user_id: string }[] };
    expect(fresh.total).toBe(N + 1);
    expect(fresh.items[0]!.user_id).toBe('a-late');
  });

  it('pages the same rows in reverse with order=desc', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `${base}/users?size=1000&order=desc&q=a${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = (await (await api.get(url, token)).json()) as { items: { user_id: string }[]; next_cursor: string | null };
      seen.push(...page.items.map((r) => r.user_id));
      cursor = page.next_cursor;
    } while (cursor);
    // q=a: the words of "Ana …" and of the late "Aaron Late"; name descending, user_id ascending.
    const anas = [...names.keys()].filter((id) => names.get(id)!.startsWith('Ana '));
    const desc = anas.sort((a, b) => compareCodePoints(fold(names.get(b)!), fold(names.get(a)!)) || compareCodePoints(a, b));
    expect(seen).toEqual([...desc, 'a-late']);
  });

  it('exports every row as CSV, streamed', async () => {
    const res = await api.get(`${base}/users.csv`, token);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="access-acc-big-\d{4}-\d{2}-\d{2}\.csv"$/);
    const rows = parseCsv(await res.text());
    expect(rows[0]![0]).toBe('user_id');
    const ids = rows.slice(1).map((r) => r[0]!);
    expect(ids.length).toBe(N + 1);
    expect(new Set(ids).size).toBe(N + 1);
    expect(ids.filter((id) => id !== 'a-late')).toEqual(expectedOrder);
  });

  it('opens a snapshot only for a listing longer than one page', async () => {
    const opensearch = api.env.clients.opensearch;
    const pits = async (): Promise<number> => {
      const stats = await opensearch.indices.stats({ index: api.env.index, metric: 'search' } as never);
      // Opened so far: those closed (total) and those still open (current).
      const search = (stats.body as any)._all.total.search;
      return (search.point_in_time_total as number) + (search.point_in_time_current as number);
    };
    const before = await pits();
    // q narrows to a few hundred users (typo-tolerant words): one page of 1000, no cursor, no snapshot opened.
    const anyone = expectedOrder[1234]!;
    const one = (await (await api.get(`${base}/users?q=${encodeURIComponent(names.get(anyone)!)}&size=1000`, token)).json()) as any;
    expect(one.next_cursor, `${names.get(anyone)} total ${one.total} items ${one.items.length}`).toBeNull();
    expect(one.items.map((r: any) => r.user_id)).toContain(anyone);
    expect(one.total).toBe(one.items.length);
    expect(await pits()).toBe(before);
    // A longer listing opens one.
    const first = (await (await api.get(`${base}/users?size=10`, token)).json()) as any;
    expect(first.next_cursor).not.toBeNull();
    expect(await pits()).toBeGreaterThan(before);
  });
});

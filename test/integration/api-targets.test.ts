/**
 * The target filters and the inboxes view through the real app, Kafka, projector, Redis and
 * OpenSearch: for every inbox and queue under every channel and access-type filter, the listing,
 * its Can Access sort, its pages, the drill-down and the CSV equal what the pure core computes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ACCESS_TYPES,
  type AccessType,
  CHANNELS,
  type Channel,
  type ReportFilter,
  type UserDoc,
  accessTypes,
  canAccess,
  countersFromDocs,
  filterEntries,
  inboxesFromCounters,
  reportRow,
  rowFromEntries,
} from '../../projections/index.ts';
import { csvRows } from '../../src/api/csv-rows.ts';
import { parseCsv } from './api-csv-parse.ts';
import { type ApiEnv, byDisplayName, expectedDocs, startApiEnv } from './api-harness.ts';
import { ACCOUNT_A, ACCOUNT_B, accountA, accountB } from './api-scenario.ts';

const CHANNEL_FILTERS: (Channel | undefined)[] = [undefined, ...CHANNELS];
const TYPE_FILTERS: (AccessType | undefined)[] = [undefined, ...ACCESS_TYPES];
const BASE = `/v1/accounts/${ACCOUNT_A}/access`;
const INBOXES = ['i1', 'i2', 'i3', 'i9'];
const QUEUES = ['q1', 'q2', 'q3', 'q4', 'q9'];
const INBOX_NAMES: Record<string, string> = { i1: 'Sales voicemail', i2: 'Escalations', i3: 'Chat overflow' };

function params(values: Record<string, string | undefined>): string {
  const defined = Object.entries(values).filter((e): e is [string, string] => e[1] !== undefined);
  return defined.length ? `?${new URLSearchParams(defined)}` : '';
}

/** Every target filter of the scenario: each inbox, each queue, and each (inbox, queue) pair. */
function targets(): ReportFilter[] {
  return [
    ...INBOXES.map((inbox_id) => ({ inbox_id })),
    ...QUEUES.map((cc_queue_id) => ({ cc_queue_id })),
    ...INBOXES.flatMap((inbox_id) => QUEUES.map((cc_queue_id) => ({ inbox_id, cc_queue_id }))),
  ];
}

describe('target filters and the inboxes view against the pure core', () => {
  let api: ApiEnv;
  let token: string;
  let docs: UserDoc[];

  const request = async (path: string, status = 200) => {
    const res = await api.get(path, token);
    expect(res.status, `${path}: ${await res.clone().text()}`).toBe(status);
    return res;
  };
  const json = async (path: string, status = 200) => (await (await request(path, status)).json()) as any;
  const rows = (filter: ReportFilter) => [...docs].sort(byDisplayName).flatMap((d) => reportRow(d, filter) ?? []);

  beforeAll(async () => {
    api = await startApiEnv();
    token = await api.token(ACCOUNT_A);
    await api.load(ACCOUNT_A, accountA());
    await api.load(ACCOUNT_B, accountB());
    docs = [...expectedDocs(accountA()).values()];
  });

  afterAll(async () => {
    await api?.close();
  });

  it('users: every target under every channel and access type, rows on what remains', async () => {
    let nonEmpty = 0;
    for (const target of targets())
      for (const channel of CHANNEL_FILTERS)
        for (const access_type of TYPE_FILTERS) {
          const filter = { ...target, channel, access_type };
          const body = await json(`${BASE}/users${params({ ...filter, size: '1000' })}`);
          expect(body.items, JSON.stringify(filter)).toEqual(rows(filter));
          expect(body.total).toBe(body.items.length);
          if (body.total > 0) nonEmpty += 1;
        }
    expect(nonEmpty).toBeGreaterThan(50);
  });

  it('users: Can Access under the target sorts both ways; small pages reach every row once', async () => {
    for (const target of [{ cc_queue_id: 'q1' }, { cc_queue_id: 'q2' }, { inbox_id: 'i2' }]) {
      const desc = await json(`${BASE}/users${params({ ...target, sort: 'can_access', size: '1000' })}`);
      expect(desc.items).toEqual([...rows(target)].sort((a, b) => b.can_access - a.can_access));
      const asc = await json(`${BASE}/users${params({ ...target, sort: 'can_access', order: 'asc', size: '1000' })}`);
      expect(asc.items).toEqual([...rows(target)].sort((a, b) => a.can_access - b.can_access));
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    let first: any;
    do {
      const page = await json(`${BASE}/users${params({ inbox_id: 'i2', size: '4', cursor })}`);
      first ??= page;
      seen.push(...page.items.map((r: any) => r.user_id));
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(rows({ inbox_id: 'i2' }).map((r) => r.user_id));
    expect(seen.length).toBeGreaterThan(8);
    const other = await json(`${BASE}/users${params({ inbox_id: 'i1', size: '4', cursor: first.next_cursor })}`, 400);
    expect(other.errors).toEqual([{ field: 'cursor', message: 'does not match the filters' }]);

    // Pages sorted by Can Access under the target (the score of its bits) continue where they stopped.
    const byCount: any[] = [];
    cursor = undefined;
    do {
      const page = await json(`${BASE}/users${params({ cc_queue_id: 'q1', sort: 'can_access', size: '1', cursor })}`);
      byCount.push(...page.items);
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    expect(byCount).toEqual([...rows({ cc_queue_id: 'q1' })].sort((a, b) => b.can_access - a.can_access));
  });

  it('users: include_empty with a target lists everyone found, Can Access 0 where nothing remains', async () => {
    const body = await json(`${BASE}/users${params({ inbox_id: 'i1', include_empty: 'true', sort: 'can_access', size: '1000' })}`);
    const all = [...docs].sort(byDisplayName).map((d) => reportRow(d, { inbox_id: 'i1' }) ?? rowFromEntries(d, []));
    expect(body.items).toEqual([...all].sort((a, b) => b.can_access - a.can_access));
  });

  it('drill-down and CSV: entries narrowed to the target, paths and queues shrunk', async () => {
    for (const target of targets())
      for (const channel of [undefined, 'voice'] as const) {
        const filter = { ...target, channel };
        for (const doc of docs) {
          const body = await json(`${BASE}/users/${encodeURIComponent(doc.user_id)}${params(filter)}`);
          const entries = filterEntries(doc.entries, filter);
          const { entries: _, ...profile } = doc;
          expect(body).toEqual({ ...profile, can_access: canAccess(entries), access_types: accessTypes(entries), entries, position: body.position });
        }
        const csv = parseCsv(await (await request(`${BASE}/users.csv${params(filter)}`)).text());
        expect(csv.slice(1), JSON.stringify(filter)).toEqual([...docs].sort(byDisplayName).flatMap((d) => csvRows(d, filter)));
      }
  });

  it('inboxes: every channel, with names, users per inbox, by name; the same as_of now', async () => {
    const counters = countersFromDocs(docs);
    for (const channel of CHANNEL_FILTERS) {
      const body = await json(`${BASE}/inboxes${params({ channel })}`);
      const expected = inboxesFromCounters(counters, channel ?? 'all')
        .map((i) => ({ inbox_id: i.inbox_id, inbox_name: INBOX_NAMES[i.inbox_id]!, users: i.users }))
        .sort((a, b) => a.inbox_name.localeCompare(b.inbox_name, 'en'));
      expect(body).toEqual({ items: expected, position: body.position });
      const past = await json(`${BASE}/inboxes${params({ channel, as_of: '2100-01-01T00:00:00Z' })}`);
      expect(past.items).toEqual(expected);
      const before = await json(`${BASE}/inboxes${params({ channel, as_of: '2000-01-01T00:00:00Z' })}`);
      expect(before.items).toEqual([]);
    }
    const res = await request(`${BASE}/inboxes`);
    expect(res.headers.get('x-access-index-position')).toBe(((await res.json()) as any).position);
  });

  it('a bad or empty target id is a 400 naming the field', async () => {
    for (const path of ['/users', '/users/u1', '/users.csv'])
      for (const field of ['inbox_id', 'cc_queue_id'])
        for (const bad of ['', 'a\u0001b', 'x'.repeat(300)]) {
          const body = await json(`${BASE}${path}${params({ [field]: bad })}`, 400);
          expect(
            body.errors.map((e: any) => e.field),
            `${path} ${field}=${JSON.stringify(bad)}`,
          ).toEqual([field]);
        }
    const inboxes = await json(`${BASE}/inboxes?access_type=inbox`, 400);
    expect(inboxes.errors[0]).toMatchObject({ field: 'access_type', message: expect.stringContaining('unknown parameter') });
  });
});

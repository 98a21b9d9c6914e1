/**
 * The report routes through the real app, Kafka, projector, Redis and OpenSearch: for every channel
 * and access-type filter, each answer equals what the pure core computes from the same events.
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
  queuesFromCounters,
  reportRow,
  summarize,
} from '../../projections/index.ts';
import { csvRows } from '../../src/api/csv-rows.ts';
import { formatPositions } from '../../src/api/position.ts';
import { fold, searchTerms, words } from '../../src/opensearch/search-terms.ts';
import { type ApiEnv, byDisplayName, compareCodePoints, expectedDocs, startApiEnv } from './api-harness.ts';
import { parseCsv } from './api-csv-parse.ts';
import { ACCOUNT_A, ACCOUNT_B, accountA, accountB } from './api-scenario.ts';

const CHANNEL_FILTERS: (Channel | undefined)[] = [undefined, ...CHANNELS];
const TYPE_FILTERS: (AccessType | undefined)[] = [undefined, ...ACCESS_TYPES];
const BASE = `/v1/accounts/${ACCOUNT_A}/access`;

function params(values: Record<string, string | undefined>): string {
  const defined = Object.entries(values).filter((e): e is [string, string] => e[1] !== undefined);
  return defined.length ? `?${new URLSearchParams(defined)}` : '';
}

/** Prefix matching as the contract states it (typo tolerance aside). */
function matches(doc: UserDoc, q: string): boolean {
  const terms = searchTerms(doc.display_name, doc.user_email);
  return words(q).every((w) => terms.some((t) => t.startsWith(w)));
}

describe('report routes against the pure core', () => {
  let api: ApiEnv;
  let token: string;
  let docs: UserDoc[];

  const json = async (path: string) => {
    const res = await api.get(path, token);
    expect(res.status, `${path}: ${await res.clone().text()}`).toBe(200);
    return (await res.json()) as any;
  };
  const expectedRows = (filter: ReportFilter, q?: string) =>
    docs
      .filter((d) => q === undefined || matches(d, q))
      .sort(byDisplayName)
      .flatMap((d) => reportRow(d, filter) ?? []);

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

  it('summary: every channel', async () => {
    for (const channel of CHANNEL_FILTERS) {
      const body = await json(`${BASE}/summary${params({ channel })}`);
      const { users, queues, inboxes } = summarize(docs, channel);
      expect(body).toEqual({ account_id: ACCOUNT_A, channel: channel ?? null, users, queues, inboxes, position: body.position });
    }
  });

  it('users: every channel and access type, with total and Can Access on what counts', async () => {
    for (const channel of CHANNEL_FILTERS)
      for (const access_type of TYPE_FILTERS) {
        const body = await json(`${BASE}/users${params({ channel, access_type, size: '1000' })}`);
        const expected = expectedRows({ channel, access_type });
        expect(body.items, `${channel} ${access_type}`).toEqual(expected);
        expect(body.total).toBe(expected.length);
        expect(body.next_cursor).toBeNull();
      }
  });

  it('users: sorts by email and by Can Access, both ways, user_id breaking ties', async () => {
    const rows = expectedRows({});
    const email = await json(`${BASE}/users?sort=email&order=desc&size=1000`);
    const emailKey = (id: string) => fold(docs.find((d) => d.user_id === id)!.user_email);
    expect(email.items.map((r: any) => r.user_id)).toEqual(rows.map((r) => r.user_id).sort((a, b) => compareCodePoints(emailKey(b), emailKey(a)) || compareCodePoints(a, b)));
    const most = await json(`${BASE}/users?sort=can_access&size=1000`);
    expect(most.items).toEqual([...rows].sort((a, b) => b.can_access - a.can_access));
    const least = await json(`${BASE}/users?sort=can_access&order=asc&size=1000&channel=voice`);
    expect(least.items).toEqual([...expectedRows({ channel: 'voice' })].sort((a, b) => a.can_access - b.can_access));
  });

  it('users: small pages reach every row once; a cursor is bound to its filters', async () => {
    const all = expectedRows({ access_type: 'inbox' });
    const seen: string[] = [];
    let cursor: string | undefined;
    let first: any;
    do {
      const page = await json(`${BASE}/users${params({ access_type: 'inbox', size: '7', cursor })}`);
      first ??= page;
      seen.push(...page.items.map((r: any) => r.user_id));
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(all.map((r) => r.user_id));

    const other = await api.get(`${BASE}/users?access_type=automatic_call_recording&size=7&cursor=${encodeURIComponent(first.next_cursor)}`, token);
    expect(other.status).toBe(400);
    expect(((await other.json()) as any).errors).toEqual([{ field: 'cursor', message: 'does not match the filters' }]);
    const junk = await api.get(`${BASE}/users?cursor=bm90LWEtY3Vyc29y.AAAA`, token);
    expect(junk.status).toBe(400);
    expect(((await junk.json()) as any).errors[0].field).toBe('cursor');
  });

  it('users: include_empty also lists users without access, with Can Access 0; deleted users never', async () => {
    const body = await json(`${BASE}/users?include_empty=true&size=1000`);
    expect(body.items.map((r: any) => r.user_id)).toEqual([...docs].sort(byDisplayName).map((d) => d.user_id));
    expect(body.items.find((r: any) => r.user_id === 'u5')).toMatchObject({ can_access: 0, access_types: [] });
    expect(body.items.some((r: any) => r.user_id === 'u7')).toBe(false);
    const voice = await json(`${BASE}/users?include_empty=true&channel=voice&size=1000`);
    expect(voice.items.find((r: any) => r.user_id === 'u3')).toMatchObject({ can_access: 0, access_types: [] });
  });

  it('users: keyword search by word prefixes, case and accents folded, one typo forgiven, never another account', async () => {
    const cases: [string, string[]][] = [
      ['ana', ['u1']],
      ['MÜL', ['u2']],
      ['muler', ['u2']],
      ['cruz@example', ['u1']],
      ['dara.muller@example.com', ['u2']],
      ['emile', ['u3']],
      ['EMILE ZOLA', ['u3']],
      ['zola emile', ['u3']],
      ['אבי', ['u8']],
      ['hyperlink', ['u9']],
      ['zzz', []],
      ['ana dara', []],
    ];
    for (const [q, ids] of cases) {
      const body = await json(`${BASE}/users${params({ q, size: '1000' })}`);
      expect(
        body.items.map((r: any) => r.user_id),
        q,
      ).toEqual(ids);
      if (q !== 'muler') expect(ids).toEqual(expectedRows({}, q).map((r) => r.user_id));
    }
    const filtered = await json(`${BASE}/users?q=filler&channel=voice&access_type=inbox&size=1000`);
    expect(filtered.items).toEqual(expectedRows({ channel: 'voice', access_type: 'inbox' }, 'filler'));
  });

  it("drill-down: every user under every filter; 404 for deleted, unknown and other accounts' users", async () => {
    for (const doc of docs)
      for (const channel of CHANNEL_FILTERS)
        for (const access_type of [undefined, 'inbox'] as const) {
          const body = await json(`${BASE}/users/${encodeURIComponent(doc.user_id)}${params({ channel, access_type })}`);
          const entries = filterEntries(doc.entries, { channel, access_type });
          const { entries: _, ...profile } = doc;
          expect(body).toEqual({ ...profile, can_access: canAccess(entries), access_types: accessTypes(entries), entries, position: body.position });
        }
    for (const id of ['u7', 'nobody', 's2']) {
      const res = await api.get(`${BASE}/users/${id}`, token);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    }
  });

  it('queues: every channel and access type, with names and channels, by name', async () => {
    const counters = countersFromDocs(docs);
    const queueFacts: Record<string, { queue_name: string; channel: Channel }> = {
      q1: { queue_name: 'Sales', channel: 'voice' },
      q2: { queue_name: 'Support video', channel: 'video' },
      q3: { queue_name: 'Chat', channel: 'messaging' },
      q4: { queue_name: 'Email desk', channel: 'email' },
    };
    for (const channel of CHANNEL_FILTERS)
      for (const access_type of TYPE_FILTERS) {
        const body = await json(`${BASE}/queues${params({ channel, access_type })}`);
        const expected = queuesFromCounters(counters, { channel, access_type })
          .map((q) => ({ cc_queue_id: q.cc_queue_id, ...queueFacts[q.cc_queue_id]!, users: q.users }))
          .sort((a, b) => a.queue_name.localeCompare(b.queue_name, 'en'));
        expect(body.items, `${channel} ${access_type}`).toEqual(expected);
      }
  });

  it('CSV: one line per (user, entry) under the filters, formulas made inert', async () => {
    for (const [query, filter, q] of [
      ['', {}, undefined],
      ['?channel=voice', { channel: 'voice' }, undefined],
      ['?access_type=inbox&q=filler', { access_type: 'inbox' }, 'filler'],
      ['?channel=email', { channel: 'email' }, undefined],
    ] as [string, ReportFilter, string | undefined][]) {
      const res = await api.get(`${BASE}/users.csv${query}`, token);
      expect(res.status).toBe(200);
      const rows = parseCsv(await res.text());
      const expected = docs
        .filter((d) => q === undefined || matches(d, q))
        .sort(byDisplayName)
        .flatMap((d) => csvRows(d, filter));
      expect(rows.slice(1), query).toEqual(expected);
    }
    const all = parseCsv(await (await api.get(`${BASE}/users.csv`, token)).text());
    expect(all.find((r) => r[0] === 'u9')![1]).toBe('\'=HYPERLINK("http://x")');
  });

  it('every answer carries the searchable positions, in the body and the header', async () => {
    const now = formatPositions(await api.env.store.positions());
    expect(now).toMatch(/^([^:,]+:\d+:\d+)(,[^:,]+:\d+:\d+)*$/);
    for (const path of ['/summary', '/users', '/users/u1', '/queues', '/users.csv']) {
      const res = await api.get(`${BASE}${path}`, token);
      expect(res.headers.get('x-access-index-position'), path).toBe(now);
      if (!path.endsWith('.csv')) expect(((await res.json()) as any).position).toBe(now);
    }
  });
});

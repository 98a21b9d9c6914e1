/**
 * `as_of` three ways, on random histories through the real pipeline: the API's answer from the
 * history index, the replay of the topics (src/audit/replay.ts), and the pure core's answer for the
 * events up to T, at 20 instants per history (before the first event, exactly at event times,
 * between events, after the last). At or after the newest event, as_of equals the live answer.
 *
 * Event times increase in the order of application. Only per-topic order exists in Kafka, so the
 * histories are produced one topic run at a time, each searchable before the next is sent: the
 * projector then applies them in exactly the produced (= time) order.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ACCESS_TYPES,
  type AccessType,
  CHANNELS,
  type Channel,
  DEFAULT_DEDUPE_WINDOW_MS,
  type FactEvent,
  type ReportFilter,
  type UserDoc,
  accessTypes,
  canAccess,
  countersFromDocs,
  filterEntries,
  inboxesFromCounters,
  queuesFromCounters,
  reportRow,
  summarize,
} from '../../projections/index.ts';
import { csvRows } from '../../src/api/csv-rows.ts';
import { type AccountEvents, auditReport, readAccountsEvents, replayUntil } from '../../src/audit/replay.ts';
import { generationIndices, readIdentity, writeIndexIdentity } from '../../src/generation.ts';
import { generationKeys, liveGenerationKey } from '../../src/redis/keys.ts';
import { parseCsv } from './api-csv-parse.ts';
import { type ApiEnv, byDisplayName, expectedDocs, startApiEnv } from './api-harness.ts';

const HISTORIES = 4;
const INSTANTS = 20;
const BLOCK = 8;
const W = DEFAULT_DEDUPE_WINDOW_MS;
const T0 = Date.parse('2026-02-01T00:00:00Z');
const CHANNEL_FILTERS: (Channel | undefined)[] = [undefined, ...CHANNELS];
const TYPE_FILTERS: (AccessType | undefined)[] = [undefined, ...ACCESS_TYPES];
const USERS = ['u1', 'u2', 'u3', 'u4', 'u5'];
const QUEUE_IDS = ['q1', 'q2', 'q3', 'q4'];
const INBOX_IDS = ['i1', 'i2', 'i3'];

/** A deterministic generator of small integers (the instants and filters of each history). */
function lcg(seed: number) {
  let x = seed >>> 0;
  return (n: number) => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x % n;
  };
}

type Topic = 'users' | 'roles' | 'queues' | 'inboxes';
type Draft = { topic: Topic; type: FactEvent['type']; data: FactEvent['data'] };
const d = <T extends FactEvent['type']>(topic: Topic, type: T, data: Extract<FactEvent, { type: T }>['data']): Draft => ({ topic, type, data });

const user = fc.constantFrom(...USERS);
const role = fc.constantFrom('r1', 'r2', 'r3');
const queue = fc.constantFrom(...QUEUE_IDS);
const inbox = fc.constantFrom(...INBOX_IDS);
const member = fc.constantFrom('agent' as const, 'supervisor' as const);
const privileges = fc.oneof(
  fc.constant<string[]>(['RecordingPlay:Edit']),
  fc.constant<string[]>(['InboxTab']),
  fc.subarray(['VoiceRecordingAccess:Read', 'VoiceRecordingDelete:Edit', 'InboxTab']),
);
const queueDraft = (q: fc.Arbitrary<string>) =>
  fc
    .record({
      q,
      c: fc.constantFrom('voice' as const, 'voice' as const, 'video' as const, 'messaging' as const, 'email' as const),
      o: fc.option(inbox, { nil: null, freq: 4 }),
      a: fc.boolean(),
      h: fc.boolean(),
      n: fc.constantFrom('Sales', 'Care'),
    })
    .map(({ q, c, o, a, h, n }) =>
      d('queues', 'queue.upserted', { cc_queue_id: q, queue_name: `${n} ${q}`, channel: c, overflow_to_inbox_id: o, recording: { automatic: a, ad_hoc: h } }),
    );

/** Everything exists first (so relations grant at once), then relations come and go; deletions are rare. */
const setupArb: fc.Arbitrary<Draft[]> = fc
  .tuple(
    fc.tuple(...['i1', 'i2', 'i3'].map((i) => fc.constant(d('inboxes', 'inbox.upserted', { inbox_id: i, inbox_name: `Inbox ${i}` })))),
    fc.tuple(...['q1', 'q2', 'q3', 'q4'].map((q) => queueDraft(fc.constant(q)))),
    fc.tuple(...['r1', 'r2', 'r3'].map((r) => privileges.map((p) => d('roles', 'role.upserted', { role_id: r, role_name: r, privileges: p })))),
    fc.tuple(...USERS.map((u) => fc.constant(d('users', 'user.upserted', { user_id: u, display_name: `Ana ${u}`, user_email: `${u}@x.test`, user_access: 'active' })))),
  )
  .map((parts) => parts.flat());

const churnArb: fc.Arbitrary<Draft> = fc.oneof(
  { weight: 25, arbitrary: fc.record({ q: queue, u: user, t: member }).map(({ q, u, t }) => d('queues', 'queue.member_assigned', { cc_queue_id: q, user_id: u, member_type: t })) },
  {
    weight: 15,
    arbitrary: fc.record({ q: queue, u: user, t: member }).map(({ q, u, t }) => d('queues', 'queue.member_unassigned', { cc_queue_id: q, user_id: u, member_type: t })),
  },
  { weight: 12, arbitrary: fc.record({ r: role, u: user }).map(({ r, u }) => d('roles', 'role.user_assigned', { role_id: r, user_id: u })) },
  { weight: 3, arbitrary: fc.record({ r: role, u: user }).map(({ r, u }) => d('roles', 'role.user_unassigned', { role_id: r, user_id: u })) },
  { weight: 8, arbitrary: fc.record({ r: role, p: privileges }).map(({ r, p }) => d('roles', 'role.upserted', { role_id: r, role_name: r, privileges: p })) },
  { weight: 8, arbitrary: queueDraft(queue) },
  { weight: 10, arbitrary: fc.record({ i: inbox, u: user }).map(({ i, u }) => d('inboxes', 'inbox.user_granted', { inbox_id: i, user_id: u })) },
  { weight: 8, arbitrary: fc.record({ i: inbox, u: user }).map(({ i, u }) => d('inboxes', 'inbox.user_revoked', { inbox_id: i, user_id: u })) },
  { weight: 8, arbitrary: fc.record({ i: inbox, q: queue }).map(({ i, q }) => d('inboxes', 'inbox.queue_granted', { inbox_id: i, cc_queue_id: q })) },
  { weight: 6, arbitrary: fc.record({ i: inbox, q: queue }).map(({ i, q }) => d('inboxes', 'inbox.queue_revoked', { inbox_id: i, cc_queue_id: q })) },
  {
    weight: 5,
    arbitrary: fc
      .record({ u: user, n: fc.constantFrom('Ana', 'Bo', 'Émile'), a: fc.constantFrom('active' as const, 'inactive' as const) })
      .map(({ u, n, a }) => d('users', 'user.upserted', { user_id: u, display_name: `${n} ${u}`, user_email: `${u}@x.test`, user_access: a })),
  },
  { weight: 1, arbitrary: user.map((u) => d('users', 'user.deleted', { user_id: u })) },
  { weight: 1, arbitrary: queue.map((q) => d('queues', 'queue.deleted', { cc_queue_id: q })) },
  { weight: 1, arbitrary: inbox.map((i) => d('inboxes', 'inbox.deleted', { inbox_id: i })) },
  { weight: 1, arbitrary: role.map((r) => d('roles', 'role.deleted', { role_id: r })) },
);

/** A setup, then churn; the churn in blocks of BLOCK drafts sorted by topic (few topic runs, so loading run by run stays quick). */
const historyDraftsArb = fc.tuple(setupArb, fc.array(churnArb, { minLength: 48, maxLength: 64 })).map(([setup, churn]) => {
  const rank: Record<Topic, number> = { users: 0, roles: 1, queues: 2, inboxes: 3 };
  const ordered = [...setup];
  for (let i = 0; i < churn.length; i += BLOCK) ordered.push(...churn.slice(i, i + BLOCK).sort((a, b) => rank[a.topic] - rank[b.topic]));
  return ordered;
});

/** One account's events in application order, times strictly increasing with uneven gaps. */
function prepare(drafts: readonly Draft[], seed: number): FactEvent[] {
  const rand = lcg(seed);
  let t = T0;
  return drafts.map((x, i) => {
    t += 1000 * (1 + rand(900));
    return { id: `e${i}`, type: x.type, timeMs: t, data: x.data } as FactEvent;
  });
}

/** Consecutive events of one topic: each run is produced at once, then waited for. */
function runs(events: readonly FactEvent[]): FactEvent[][] {
  const out: FactEvent[][] = [];
  for (const e of events) {
    const last = out[out.length - 1];
    if (last && last[0]!.type.split('.')[0] === e.type.split('.')[0]) last.push(e);
    else out.push([e]);
  }
  return out;
}

/** What each event did to the documents: nothing, only added or changed, or took something away. */
function effects(events: readonly FactEvent[]): ('none' | 'change' | 'removal')[] {
  let before = new Map<string, UserDoc>();
  return events.map((_, i) => {
    const after = expectedDocs(events.slice(0, i + 1));
    let effect: 'none' | 'change' | 'removal' = JSON.stringify([...before]) === JSON.stringify([...after]) ? 'none' : 'change';
    for (const [userId, old] of before) {
      const now = after.get(userId);
      const keys = new Set(now?.entries.map((e) => `${e.access_type}:${e.target.id}`) ?? []);
      if (!now || old.entries.some((e) => !keys.has(`${e.access_type}:${e.target.id}`))) effect = 'removal';
    }
    before = after;
    return effect;
  });
}

/**
 * Instants: before the first event, after the last, then alternately exactly at the time of an
 * event that changed something (half of them events that took access away: the closing edge of an
 * interval) and between two events.
 */
function instants(events: readonly FactEvent[], seed: number): number[] {
  const rand = lcg(seed * 31 + 7);
  const times = events.map((e) => e.timeMs);
  const effect = effects(events);
  const removals = times.filter((_, i) => effect[i] === 'removal');
  const changes = times.filter((_, i) => effect[i] !== 'none');
  const out = [times[0]! - 1, times[times.length - 1]! + 3_600_000];
  while (out.length < INSTANTS) {
    if (out.length % 2 === 0) {
      const pool = out.length % 4 === 0 && removals.length > 0 ? removals : changes;
      out.push(pool[rand(pool.length)]!);
    } else {
      const i = rand(times.length - 1);
      out.push(Math.floor((times[i]! + times[i + 1]!) / 2));
    }
  }
  return out;
}

const iso = (ms: number) => new Date(ms).toISOString();

function params(values: Record<string, string | undefined>): string {
  const defined = Object.entries(values).filter((e): e is [string, string] => e[1] !== undefined);
  return defined.length ? `?${new URLSearchParams(defined)}` : '';
}

function detail(doc: UserDoc, filter: ReportFilter) {
  const entries = filterEntries(doc.entries, filter);
  const { user_id, display_name, user_email, user_access } = doc;
  return { user_id, display_name, user_email, user_access, can_access: canAccess(entries), access_types: accessTypes(entries), entries };
}

interface Case {
  account: string;
  events: FactEvent[];
  read?: AccountEvents;
}

describe('as_of: the history index, the replay of the topics and the pure core agree', () => {
  let api: ApiEnv;
  const cases: Case[] = [];
  const tokens = new Map<string, string>();
  const timings: Record<string, number> = {};

  const json = async (account: string, path: string, status = 200) => {
    const res = await api.get(`/v1/accounts/${account}/access${path}`, tokens.get(account));
    expect(res.status, `${path}: ${await res.clone().text()}`).toBe(status);
    return (await res.json()) as any;
  };
  const csv = async (account: string, path: string) => {
    const res = await api.get(`/v1/accounts/${account}/access${path}`, tokens.get(account));
    expect(res.status).toBe(200);
    return parseCsv((await res.text()).replace(/^\uFEFF/, ''));
  };

  beforeAll(async () => {
    api = await startApiEnv();
    const samples = fc.sample(historyDraftsArb, { seed: 20261128, numRuns: HISTORIES });
    let started = Date.now();
    for (const [k, drafts] of samples.entries()) {
      const account = `acc-asof-${k}`;
      const events = prepare(drafts, k + 1);
      for (const run of runs(events)) await api.load(account, run);
      cases.push({ account, events });
      tokens.set(account, await api.token(account));
    }
    timings.load = Date.now() - started;
    started = Date.now();
    const read = await readAccountsEvents({
      kafka: api.env.clients.kafka,
      topics: api.env.config.topics,
      accountIds: cases.map((c) => c.account),
      groupPrefix: api.env.config.namespace,
    });
    for (const c of cases) c.read = read.get(c.account)!;
    timings.readTopics = Date.now() - started;
  });

  afterAll(async () => {
    console.info(`audit-as-of: ${cases.length} histories of ${cases.map((c) => c.events.length).join(', ')} events; timings (ms) ${JSON.stringify(timings)}`);
    await api?.close();
  });

  it('the replay read every event of each account from the topics', () => {
    for (const c of cases) {
      expect(c.read!.poison).toBe(0);
      const read = [...c.read!.byTopic.values()]
        .flat()
        .map((e) => e.id.replace(`${c.account}-`, ''))
        .sort();
      expect(read).toEqual(c.events.map((e) => e.id).sort());
    }
  });

  it(`at ${INSTANTS} instants per history: summaries, rows, drill-downs and CSV`, async () => {
    const started = Date.now();
    let checks = 0;
    let edges = 0;
    let rowsSeen = 0;
    for (const [k, c] of cases.entries()) {
      const rand = lcg(k + 100);
      for (const at of instants(c.events, k + 1)) {
        const core = expectedDocs(c.events.filter((e) => e.timeMs <= at));
        const justBefore = expectedDocs(c.events.filter((e) => e.timeMs < at));
        if (JSON.stringify([...core]) !== JSON.stringify([...justBefore])) edges += 1;
        rowsSeen += [...core.values()].filter((doc) => reportRow(doc, {})).length;
        const replayed = replayUntil(c.read!.byTopic, at, W);
        expect([...replayed.docs.values()], `${c.account} at ${iso(at)}: replay vs core`).toEqual([...core.values()]);
        const report = auditReport(replayed.docs.values());
        const docs = [...core.values()].sort(byDisplayName);
        const asOf = iso(at);

        for (const channel of CHANNEL_FILTERS) {
          const body = await json(c.account, `/summary${params({ channel, as_of: asOf })}`);
          const expected = summarize(docs, channel);
          expect(body, `${c.account} summary ${channel ?? 'all'} at ${asOf}`).toEqual({ account_id: c.account, channel: channel ?? null, ...expected, position: body.position });
          expect(report.summary[channel ?? 'all']).toEqual(expected);
          checks += 1;
        }

        // Rows: unfiltered (also against the replay's rows), then one random filter.
        const all = await json(c.account, `/users${params({ as_of: asOf, size: '1000' })}`);
        expect(all.items).toEqual(report.rows);
        expect(all.items).toEqual(docs.flatMap((d) => reportRow(d, {}) ?? []));
        expect(all.total).toBe(report.rows.length);
        // A random target too, half the time: who reached this inbox or queue at T, and why.
        const target = rand(4);
        const filter: ReportFilter = {
          channel: CHANNEL_FILTERS[rand(CHANNEL_FILTERS.length)],
          access_type: TYPE_FILTERS[rand(TYPE_FILTERS.length)],
          ...(target === 1 ? { inbox_id: INBOX_IDS[rand(INBOX_IDS.length)] } : target === 2 ? { cc_queue_id: QUEUE_IDS[rand(QUEUE_IDS.length)] } : {}),
        };
        const filtered = await json(c.account, `/users${params({ as_of: asOf, size: '1000', ...filter })}`);
        expect(filtered.items).toEqual(docs.flatMap((d) => reportRow(d, filter) ?? []));
        checks += 2;

        // Drill-downs of every user of the pool: 404 for those who do not exist at T.
        for (const userId of USERS) {
          const doc = core.get(userId);
          const body = await json(c.account, `/users/${userId}${params({ as_of: asOf, ...filter })}`, doc ? 200 : 404);
          if (doc) expect(body).toEqual({ ...detail(doc, filter), position: body.position });
          const replayedUser = report.users.find((u) => u.user_id === userId);
          if (doc && reportRow(doc, {})) expect(replayedUser).toEqual(detail(doc, {}));
          checks += 1;
        }

        const rows = await csv(c.account, `/users.csv${params({ as_of: asOf, ...filter })}`);
        expect(rows.slice(1)).toEqual(docs.flatMap((d) => csvRows(d, filter)));
        checks += 1;

        // The queues and inboxes views at T, against the counters of the core's documents at T.
        const counters = countersFromDocs(docs);
        const queues = await json(c.account, `/queues${params({ as_of: asOf, channel: filter.channel, access_type: filter.access_type })}`);
        expect(Object.fromEntries(queues.items.map((q: any) => [q.cc_queue_id, q.users]))).toEqual(
          Object.fromEntries(queuesFromCounters(counters, { channel: filter.channel, access_type: filter.access_type }).map((q) => [q.cc_queue_id, q.users])),
        );
        const inboxes = await json(c.account, `/inboxes${params({ as_of: asOf, channel: filter.channel })}`);
        expect(Object.fromEntries(inboxes.items.map((i: any) => [i.inbox_id, i.users]))).toEqual(
          Object.fromEntries(inboxesFromCounters(counters, filter.channel ?? 'all').map((i) => [i.inbox_id, i.users])),
        );
        checks += 2;
      }
    }
    timings.instants = Date.now() - started;
    timings.checks = checks;
    timings.edges = edges;
    timings.rows = rowsSeen;
    // Not vacuous: many instants sit exactly on an event that changed the report, and there are rows to compare.
    expect(edges).toBeGreaterThanOrEqual(cases.length * 8);
    expect(rowsSeen).toBeGreaterThanOrEqual(cases.length * INSTANTS);
  });

  it('at or after the newest event, as_of answers equal the live answers', async () => {
    for (const c of cases) {
      const newest = c.events[c.events.length - 1]!.timeMs;
      for (const at of [newest, newest + 86_400_000]) {
        const asOf = iso(at);
        for (const channel of CHANNEL_FILTERS) {
          const live = await json(c.account, `/summary${params({ channel })}`);
          // Same answer, field for field, in the same order.
          expect(JSON.stringify(await json(c.account, `/summary${params({ channel, as_of: asOf })}`))).toBe(JSON.stringify(live));
        }
        for (const path of ['/queues', '/inboxes', '/queues?channel=voice', '/inboxes?channel=email']) {
          const live = await json(c.account, path);
          const past = await json(c.account, `${path}${path.includes('?') ? '&' : '?'}as_of=${encodeURIComponent(asOf)}`);
          expect(JSON.stringify(past.items), path).toBe(JSON.stringify(live.items));
        }
        for (const query of [
          {},
          { channel: 'voice' },
          { access_type: 'inbox' },
          { q: 'ana' },
          { q: 'bo u2' },
          { sort: 'can_access' },
          { sort: 'email', order: 'desc' },
          { include_empty: 'true' },
          { inbox_id: 'i1' },
          { cc_queue_id: 'q1', sort: 'can_access' },
        ] as Record<string, string>[]) {
          const live = await json(c.account, `/users${params({ ...query, size: '1000' })}`);
          const past = await json(c.account, `/users${params({ ...query, size: '1000', as_of: asOf })}`);
          expect(JSON.stringify(past), JSON.stringify(query)).toBe(JSON.stringify(live));
          const liveCsv = await csv(c.account, `/users.csv${params({ ...query, include_empty: undefined })}`);
          expect(await csv(c.account, `/users.csv${params({ ...query, include_empty: undefined, as_of: asOf })}`)).toEqual(liveCsv);
        }
        for (const userId of USERS) {
          const res = await api.get(`/v1/accounts/${c.account}/access/users/${userId}`, tokens.get(c.account));
          const live = res.status === 200 ? await res.json() : res.status;
          const pastRes = await api.get(`/v1/accounts/${c.account}/access/users/${userId}?as_of=${encodeURIComponent(asOf)}`, tokens.get(c.account));
          expect(JSON.stringify(pastRes.status === 200 ? await pastRes.json() : pastRes.status)).toBe(JSON.stringify(live));
        }
      }
    }
  });

  it('as_of listings page with signed cursors bound to the instant', async () => {
    const c = cases[0]!;
    const at = c.events[Math.floor(c.events.length / 2)]!.timeMs;
    const asOf = iso(at);
    const whole = await json(c.account, `/users${params({ as_of: asOf, include_empty: 'true', size: '1000' })}`);
    expect(whole.items.length).toBeGreaterThan(1);
    const seen: unknown[] = [];
    let body = await json(c.account, `/users${params({ as_of: asOf, include_empty: 'true', size: '1' })}`);
    seen.push(...body.items);
    const position = body.position;
    while (body.next_cursor) {
      body = await json(c.account, `/users${params({ as_of: asOf, include_empty: 'true', size: '1', cursor: body.next_cursor })}`);
      expect(body.position).toBe(position);
      expect(body.total).toBe(whole.total);
      seen.push(...body.items);
    }
    expect(seen).toEqual(whole.items);
    const first = await json(c.account, `/users${params({ as_of: asOf, include_empty: 'true', size: '1' })}`);
    const other = await json(c.account, `/users${params({ as_of: iso(at + 1), include_empty: 'true', size: '1', cursor: first.next_cursor })}`, 400);
    expect(other.errors).toEqual([{ field: 'cursor', message: 'does not match the filters' }]);
    const live = await json(c.account, `/users${params({ include_empty: 'true', size: '1', cursor: first.next_cursor })}`, 400);
    expect(live.errors).toEqual([{ field: 'cursor', message: 'does not match the filters' }]);

    // A rollback repair raises the epoch (the indices first, then Redis) and the replay after it
    // counts the account's versions again: a version of the listing names another state then.
    const { redis, opensearch } = api.env.clients;
    const namespace = api.env.config.namespace;
    const generation = (await redis.get(liveGenerationKey(namespace)))!;
    const space = { namespace, generation };
    const identity = (await readIdentity(redis, space))!;
    const raised = { ...identity, epoch: identity.epoch + 1 };
    for (const index of Object.values(generationIndices(namespace, generation))) await writeIndexIdentity(opensearch, index, raised, generation);
    await redis.hset(generationKeys(space).identity, 'epoch', String(raised.epoch));
    const expired = await json(c.account, `/users${params({ as_of: asOf, include_empty: 'true', size: '1', cursor: first.next_cursor })}`, 400);
    expect(expired.errors).toEqual([{ field: 'cursor', message: 'expired' }]);
    const again = await json(c.account, `/users${params({ as_of: asOf, include_empty: 'true', size: '1' })}`);
    expect(again.items).toEqual(whole.items.slice(0, 1));
    expect((await json(c.account, `/users${params({ as_of: asOf, include_empty: 'true', size: '1', cursor: again.next_cursor })}`)).items).toEqual(whole.items.slice(1, 2));
  });

  it('answers at T read again once the account changed: a late event before T shows at once (decision 55)', async () => {
    const account = 'acc-asof-late';
    tokens.set(account, await api.token(account));
    const user = (id: string, timeMs: number): FactEvent => ({
      id: `late-${id}`,
      type: 'user.upserted',
      timeMs,
      data: { user_id: id, display_name: `Ana ${id}`, user_email: `${id}@x.test`, user_access: 'active' },
    });
    const grant = (userId: string, timeMs: number): FactEvent => ({ id: `late-grant-${userId}`, type: 'inbox.user_granted', timeMs, data: { inbox_id: 'i1', user_id: userId } });
    await api.load(account, [user('u1', T0 + 1_000), user('u2', T0 + 2_000), user('u3', T0 + 3_000)]);
    await api.load(account, [
      { id: 'late-i1', type: 'inbox.upserted', timeMs: T0 + 500, data: { inbox_id: 'i1', inbox_name: 'Inbox i1' } },
      grant('u1', T0 + 4_000),
      grant('u2', T0 + 5_000),
    ]);
    const asOf = encodeURIComponent(iso(T0 + 60_000));
    const read = async () => ({
      summary: await json(account, `/summary?as_of=${asOf}`),
      listing: await json(account, `/users?as_of=${asOf}&size=1`),
      inboxes: await json(account, `/inboxes?as_of=${asOf}`),
    });
    const before = await read();
    expect([before.summary.users.inbox, before.listing.total, before.inboxes.items[0].users]).toEqual([2, 2, 2]);
    expect(await read()).toEqual(before);
    // Produced now, true before T: u3 reached the inbox at T too.
    await api.load(account, [grant('u3', T0 + 30_000)]);
    const after = await read();
    expect([after.summary.users.inbox, after.listing.total, after.inboxes.items[0].users]).toEqual([3, 3, 3]);
    expect(after.summary.position).not.toBe(before.summary.position);
    // A listing begun before the change pages on in its own state; one begun after, in the new one.
    const older = await json(account, `/users?as_of=${asOf}&size=1&cursor=${encodeURIComponent(before.listing.next_cursor)}`);
    expect([older.total, older.position]).toEqual([2, before.listing.position]);
    const newer = await json(account, `/users?as_of=${asOf}&size=1&cursor=${encodeURIComponent(after.listing.next_cursor)}`);
    expect([newer.total, newer.position]).toEqual([3, after.listing.position]);
  });

  it('a bad as_of is a 400 naming it', async () => {
    const c = cases[0]!;
    for (const bad of ['yesterday', '2026-02-01', '2026-02-01T10:00:00', '2026-02-01T10:00Z']) {
      const body = await json(c.account, `/summary${params({ as_of: bad })}`, 400);
      expect(body.errors.map((e: any) => e.field)).toEqual(['as_of']);
    }
    for (const path of ['/users', '/users/u1', '/users.csv', '/queues', '/inboxes']) {
      const body = await json(c.account, `${path}${params({ as_of: 'x' })}`, 400);
      expect(body.errors.map((e: any) => e.field)).toEqual(['as_of']);
    }
    expect((await json(c.account, '/summary?as_of=2026-02-01T10:00:00%2B02:00')).account_id).toBe(c.account);
  });
});

/**
 * Decision 47 through the real servers: an interval is written to the facts index once, when it
 * closes, and stays in Redis's outbox until a refresh shows it; the open ones are Redis's raw facts.
 * The publisher here refreshes only every 6 s, so a change written just after a refresh stays
 * unsearchable for seconds: meanwhile `as_of` (which waits for the Redis commit of `min_position`,
 * not for the refresh) must already answer exactly, from the outbox, and the history must still
 * tell the story its own position shows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, toMessage } from './api-harness.ts';
import { mintToken } from '../../src/api/tokens.ts';
import { factRecordId } from '../../src/records/fact-intervals.ts';
import { createTestNamespace, type TestNamespace } from '../helpers/namespace.ts';
import { createEventBuilder } from '../support/builders.ts';
import { type PreparedNamespace, prepareNamespace } from '../support/pipeline.ts';

const ACCOUNT = 'acc-outbox';
const BASE = `/v1/accounts/${ACCOUNT}/access`;
const REFRESH_EVERY_MS = 6_000;
const b = createEventBuilder(Date.parse('2026-07-01T09:00:00Z'), 'o');
const [inbox, ana, grant, bo, renamed] = [b.inbox('i1', 'Sales voicemail'), b.user('u1', 'Ana'), b.grantUser('i1', 'u1'), b.user('u2', 'Bo'), b.user('u1', 'Ana Cruz')];
const iso = (ms: number) => new Date(ms).toISOString();

describe('fact intervals written once (decision 47)', () => {
  let ns: TestNamespace;
  let env: PreparedNamespace;
  let projector: ReturnType<PreparedNamespace['projector']>;
  let app: ReturnType<typeof createTestApp>['app'];
  let token: string;
  const get = async (path: string) => {
    const res = await app.request(path, { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, body: (await res.json()) as any };
  };
  const position = (ends: Map<string, bigint>) => [...ends].map(([field, offset]) => `${field}:${offset}`).join(',');

  beforeAll(async () => {
    ns = createTestNamespace();
    env = await prepareNamespace(ns, { partitions: 1 });
    projector = env.projector({ publishIntervalMs: REFRESH_EVERY_MS });
    await projector.start();
    ({ app } = createTestApp(env));
    token = await mintToken({ secret: 'test-secret-of-at-least-32-characters!!', accountId: ACCOUNT });
    await env.waitForPositions(await env.produce([inbox, ana, grant].map((e) => toMessage(ACCOUNT, e))), 60_000);
  });

  afterAll(async () => {
    await projector?.stop();
    await env?.close();
    await ns?.cleanup();
  });

  it('a closed interval is in the outbox (not the index) until a refresh shows it, and as_of answers from it meanwhile', async () => {
    // A write right after an idle spell is refreshed at once; the next refresh waits REFRESH_EVERY_MS.
    await env.waitForPositions(await env.produce([toMessage(ACCOUNT, bo)]), 60_000);
    const at = await env.produce([toMessage(ACCOUNT, renamed)]);
    const started = Date.now();
    const wanted = `min_position=${encodeURIComponent(position(at))}&wait_ms=3000`;

    // Committed, not yet refreshed: Ana's first name is a closed interval in the outbox only.
    const before = await get(`${BASE}/users/u1?as_of=${encodeURIComponent(iso(grant.timeMs))}&${wanted}`);
    const after = await get(`${BASE}/users/u1?as_of=${encodeURIComponent(iso(renamed.timeMs))}&${wanted}`);
    const outbox = (await env.store.load(ACCOUNT, 60_000)).intervalOutbox;
    const firstName = factRecordId(ACCOUNT, `u\u001fu1`, { event_id: `${ACCOUNT}-${ana.id}` } as never);
    const indexed = await env.clients.opensearch.search({ index: env.indices.facts, body: { query: { ids: { values: [firstName] } } } });
    const searched = await env.store.positions();
    expect(Date.now() - started, 'the checks ran inside the publisher’s pause').toBeLessThan(REFRESH_EVERY_MS);

    expect(before.status, JSON.stringify(before.body)).toBe(200);
    expect([before.body.display_name, before.body.entries.map((e: any) => e.target.id)]).toEqual(['Ana', ['i1']]);
    expect(after.body.display_name).toBe('Ana Cruz');
    expect(before.body.position).toContain(`${env.config.topics.users}:0:${at.get(`${env.config.topics.users}:0`)}`);
    expect([...outbox.keys()]).toEqual([firstName]);
    expect((indexed.body as any).hits.hits).toEqual([]);
    expect(searched.get(`${env.config.topics.users}:0`)).toBeLessThan(at.get(`${env.config.topics.users}:0`)!);
  }, 60_000);

  it('once a refresh shows it, the outbox is empty and the index holds each closed interval once, no open one', async () => {
    await env.waitForPositions(await env.endOffsets([env.config.topics.users]), 30_000);
    await expect.poll(async () => (await env.store.load(ACCOUNT, 60_000)).intervalOutbox.size, { timeout: 10_000 }).toBe(0);
    expect(await env.store.dirtyAccounts()).toEqual([]);
    const { body } = await env.clients.opensearch.search({ index: env.indices.facts, body: { size: 100, query: { term: { account_id: ACCOUNT } } } });
    const records = (body as any).hits.hits.map((h: any) => [h._source.fact_key.replace(/\u001f/g, '|'), h._source.value, h._source.to?.event_id ?? null]);
    expect(records).toEqual([['u|u1', expect.stringContaining('"Ana"'), `${ACCOUNT}-${renamed.id}`]]);
    const history = await get(`${BASE}/users/u1/history`);
    expect(history.body.items.map((i: any) => [i.kind, i.change])).toEqual([
      ['profile', 'created'],
      ['entry', 'granted'],
      ['profile', 'updated'],
    ]);
  }, 60_000);
});

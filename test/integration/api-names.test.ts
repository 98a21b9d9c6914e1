/**
 * Names are resolved when read (decision 64): the index stores no inbox or queue names, so a rename
 * rewrites no user document, and the drill-down and the CSV export show the current names, from
 * the account's facts in Redis. Real Kafka, projector, Redis and OpenSearch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FactEvent, type UserDoc } from '../../projections/index.ts';
import { csvRows } from '../../src/api/csv-rows.ts';
import { userDocId } from '../../src/opensearch/user-document.ts';
import { accountKeys } from '../../src/redis/keys.ts';
import { NAMES_WAIT_MS } from '../../src/api/named-reads.ts';
import { parseCsv } from './api-csv-parse.ts';
import { type ApiEnv, byDisplayName, expectedDocs, startApiEnv, toMessage } from './api-harness.ts';
import { createEventBuilder } from '../support/builders.ts';

const ACCOUNT = 'acc-names';
const BASE = `/v1/accounts/${ACCOUNT}/access`;
const b = createEventBuilder();
const RECORD = 'VoiceRecordingAccess:Read';

/** u1 reaches i1 directly, i2 through q1, and q1's recordings; u2 reaches i2 through q1. */
const SETUP: FactEvent[] = [
  b.user('u1', 'Ana Lima'),
  b.user('u2', 'Bo Berg'),
  b.role('r1', [RECORD]),
  b.assignRole('r1', 'u1'),
  b.inbox('i1', 'Sales voicemail'),
  b.inbox('i2', 'Escalations'),
  b.queue('q1', { inbox: 'i2', automatic: true, name: 'Support line' }),
  b.member('q1', 'u1'),
  b.member('q1', 'u2'),
  b.grantUser('i1', 'u1'),
  b.grantQueue('i2', 'q1'),
];
const RENAMES: FactEvent[] = [b.inbox('i2', 'Escalations (EU)'), b.queue('q1', { inbox: 'i2', automatic: true, name: 'Support line 2' }), b.inbox('i1', 'Sales')];

describe('names resolved on read (decision 64)', () => {
  let api: ApiEnv;
  let token: string;

  const json = async (path: string) => {
    const res = await api.get(path, token);
    expect(res.status, `${path}: ${await res.clone().text()}`).toBe(200);
    return (await res.json()) as any;
  };
  /** Each user's document as OpenSearch holds it: its _seq_no (a write raises it) and its stored entries. */
  const stored = async () => {
    const out: Record<string, { seqNo: number; source: any }> = {};
    for (const userId of ['u1', 'u2']) {
      const { body } = await api.env.clients.opensearch.get({ index: api.env.index, id: userDocId(ACCOUNT, userId) });
      out[userId] = { seqNo: body._seq_no as number, source: body._source };
    }
    return out;
  };
  const expectAnswers = async (docs: UserDoc[]) => {
    for (const doc of docs) {
      const body = await json(`${BASE}/users/${doc.user_id}`);
      expect(body.entries, doc.user_id).toEqual(doc.entries);
    }
    const res = await api.get(`${BASE}/users.csv`, token);
    expect(parseCsv(await res.text()).slice(1)).toEqual([...docs].sort(byDisplayName).flatMap((d) => csvRows(d, {})));
  };

  beforeAll(async () => {
    api = await startApiEnv();
    token = await api.token(ACCOUNT);
    await api.load(ACCOUNT, SETUP);
  }, 180_000);
  afterAll(async () => api?.close());

  it('the index holds no names; the answers name every target and queue', async () => {
    const before = await stored();
    expect(JSON.stringify(before)).not.toMatch(/Sales|Escalations|Support line/);
    await expectAnswers([...expectedDocs(SETUP).values()]);
  });

  it('renames write no user document, and the next answers show the new names', async () => {
    const before = await stored();
    await api.load(ACCOUNT, RENAMES);
    const after = await stored();
    expect(after).toEqual(before);
    const docs = [...expectedDocs([...SETUP, ...RENAMES]).values()];
    expect(JSON.stringify(docs)).toMatch(/Escalations \(EU\)/);
    await expectAnswers(docs);
    // The queues and inboxes views say the same names.
    expect((await json(`${BASE}/inboxes`)).items.map((i: any) => i.inbox_name)).toEqual(['Escalations (EU)', 'Sales']);
    expect((await json(`${BASE}/queues`)).items.map((q: any) => q.queue_name)).toEqual(['Support line 2']);
  });

  /**
   * A name the projector committed whose refresh is not published yet, made by hand: i2's raw fact
   * says it was set by the next event of the inboxes topic. An answer at the published position may
   * not show it; the drill-down and the export wait for a position that covers that event.
   */
  it('a name set after the published position is shown only once a position covers it', async () => {
    const inboxes = api.env.config.topics.inboxes;
    const field = `${inboxes}:0`;
    const positionOf = (body: string) =>
      BigInt(
        body
          .split(',')
          .find((p) => p.startsWith(`${field}:`))!
          .slice(field.length + 1),
      );
    const published = positionOf((await json(`${BASE}/users/u1`)).position);
    const raw = accountKeys(api.env.space, ACCOUNT).rawFacts;
    const key = 'i\u001fi2';
    const real = JSON.parse((await api.env.clients.redis.hget(raw, key))!);
    const ahead = (offset: bigint) =>
      JSON.stringify({ v: JSON.stringify({ inbox_name: 'Escalations (next)' }), f: { ...real.f, topic: inboxes, partition: 0, offset: String(offset) } });

    // Set by an event that never comes: refused once the wait for it runs out, never shown early.
    await api.env.clients.redis.hset(raw, key, ahead(published + 1000n));
    const refused = await api.get(`${BASE}/users/u1`, token);
    expect(refused.status).toBe(503);
    // The wait for the position that would cover it ran out (decision 64: min_position's refusal).
    expect(((await refused.json()) as any).type).toMatch(/position_timeout$/);

    // Set by the next event of the topic: the answers wait for it, then show the name at their position.
    await api.env.clients.redis.hset(raw, key, ahead(published + 1n));
    const drillDown = api.get(`${BASE}/users/u1`, token);
    const csv = api.get(`${BASE}/users.csv`, token);
    const settled = await Promise.race([drillDown.then(() => 'answered'), new Promise((resolve) => setTimeout(() => resolve('waiting'), 500))]);
    expect(settled).toBe('waiting');
    await api.env.produce([toMessage(ACCOUNT, b.inbox('i3', 'Third'))]);
    const body = (await (await drillDown).json()) as any;
    expect(positionOf(body.position)).toBeGreaterThan(published);
    expect(body.entries.find((e: any) => e.target.id === 'i2').target.name).toBe('Escalations (next)');
    expect(await (await csv).text()).toContain('Escalations (next)');
    await api.env.clients.redis.hset(raw, key, JSON.stringify(real));
  }, 60_000);

  /**
   * A rename committed after the published position whose closed interval is still in the outbox
   * (as it stays until that publish, decision 47): the answer walks back to the name at its
   * position at once, and the export names the whole file at its position alike.
   */
  it('a name set after the published position is walked back through the outbox to the name at it', async () => {
    const inboxes = api.env.config.topics.inboxes;
    const position = (await json(`${BASE}/users/u1`)).position as string;
    const published = BigInt(
      position
        .split(',')
        .find((p) => p.startsWith(`${inboxes}:0:`))!
        .split(':')
        .at(-1)!,
    );
    const keys = accountKeys(api.env.space, ACCOUNT);
    const key = 'i\u001fi2';
    const real = JSON.parse((await api.env.clients.redis.hget(keys.rawFacts, key))!);
    const rename = { ...real.f, event_id: 'not-yet-published', topic: inboxes, partition: 0, offset: String(published + 1n) };
    const closed = { account_id: ACCOUNT, fact_key: key, subject: 'i2', value: real.v, from_ms: real.f.time_ms, to_ms: real.f.time_ms + 1, from: real.f, to: rename };
    const outboxField = `f\u001f${ACCOUNT}\u001f${key}\u001f${real.f.event_id}`;
    await api.env.clients.redis.hset(keys.rawFacts, key, JSON.stringify({ v: JSON.stringify({ inbox_name: 'Escalations (renamed later)' }), f: rename }));
    // As the projector writes it: the commit's version, a newline, the record.
    await api.env.clients.redis.hset(keys.intervalOutbox, outboxField, `7\n${JSON.stringify(closed)}`);
    try {
      const started = performance.now();
      const body = await json(`${BASE}/users/u1`);
      // Answered without waiting for a position that covers the rename.
      expect(performance.now() - started).toBeLessThan(NAMES_WAIT_MS);
      expect(body.position).toBe(position);
      expect(body.entries.find((e: any) => e.target.id === 'i2').target.name).toBe(JSON.parse(real.v).inbox_name);
      const csv = await (await api.get(`${BASE}/users.csv`, token)).text();
      expect(csv).toContain(JSON.parse(real.v).inbox_name);
      expect(csv).not.toContain('renamed later');
    } finally {
      await api.env.clients.redis.hset(keys.rawFacts, key, JSON.stringify(real));
      await api.env.clients.redis.hdel(keys.intervalOutbox, outboxField);
    }
  });
});

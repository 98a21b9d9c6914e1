/**
 * Read your own writes: a client publishes a change, passes the offset Kafka gave back as
 * min_position, and the very first answer already shows the change; an offset the index never
 * reaches gives a 503 with the lag after wait_ms.
 */
import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventBuilder } from '../support/builders.ts';
import { type ApiEnv, startApiEnv, toMessage } from './api-harness.ts';

const ACCOUNT = 'acc-fresh';
const BASE = `/v1/accounts/${ACCOUNT}/access`;

describe('freshness with min_position', () => {
  let api: ApiEnv;
  let token: string;
  let producer: Producer;
  const b = createEventBuilder(Date.parse('2026-06-01T00:00:00Z'), 'fresh');

  /** Publishes one event like an outside producer would, and returns the position of its message. */
  async function publish(event: Parameters<typeof toMessage>[1]): Promise<string> {
    const message = toMessage(ACCOUNT, event);
    const topic = api.env.config.topics[message.topic];
    const [meta] = await producer.send({ topic, acks: -1, messages: [{ key: message.key, value: message.value }] });
    return `${meta!.topicName}:${meta!.partition}:${meta!.baseOffset}`;
  }

  beforeAll(async () => {
    api = await startApiEnv({ partitions: 2 });
    token = await api.token(ACCOUNT);
    await api.load(ACCOUNT, [b.inbox('i1', 'Front desk voicemail'), b.queue('q1', { ad_hoc: true, name: 'Front desk' })]);
    producer = api.env.clients.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
  });

  afterAll(async () => {
    await producer?.disconnect();
    await api?.close();
  });

  it('the first read after a write, with its offset as min_position, shows the write', async () => {
    for (let n = 0; n < 5; n++) {
      const userId = `rw${n}`;
      await publish(b.user(userId, `Writer Number${n}`));
      const position = await publish(b.grantUser('i1', userId));
      // wait_ms at its most: the machine may be busy (tests run two files at once); what counts is
      // that the first answer already shows the write (speed is measured in bench/freshness.ts)
      const res = await api.get(`${BASE}/users/${userId}?min_position=${position}&wait_ms=30000`, token);
      expect(res.status, await res.clone().text()).toBe(200);
      const body = (await res.json()) as any;
      expect(body.entries.map((e: any) => e.target.id)).toEqual(['i1']);
      // The answer's position covers what was asked for.
      const [topic, partition, offset] = position.split(':');
      const have = body.position.split(',').find((p: string) => p.startsWith(`${topic}:${partition}:`));
      expect(BigInt(have.split(':')[2])).toBeGreaterThanOrEqual(BigInt(offset!));
      expect(res.headers.get('x-access-index-position')).toBe(body.position);
    }
    // Several positions at once (two topics), on the list and the summary.
    const p1 = await publish(b.user('rw-last', 'Writer Last'));
    const p2 = await publish(b.member('q1', 'rw-last'));
    const list = (await (await api.get(`${BASE}/users?q=writer%20last&min_position=${p1},${p2}&wait_ms=30000`, token)).json()) as any;
    expect(list.items.map((r: any) => [r.user_id, r.access_types])).toEqual([['rw-last', ['ad_hoc_call_recording']]]);
    const summary = (await (await api.get(`${BASE}/summary?min_position=${p2}&wait_ms=30000`, token)).json()) as any;
    expect(summary.users.ad_hoc_call_recording).toBe(1);
  });

  it('503 with the lag per partition when min_position is not reached within wait_ms', async () => {
    const position = await publish(b.user('rw-far', 'Far'));
    const [topic, partition, offset] = position.split(':');
    const far = `${topic}:${partition}:${BigInt(offset!) + 1_000_000n}`;
    for (const route of ['/summary', '/users', '/users/rw-far', '/queues', '/inboxes', '/users.csv']) {
      const started = Date.now();
      const res = await api.get(`${BASE}${route}?min_position=${far}&wait_ms=300`, token);
      const elapsed = Date.now() - started;
      expect(res.status, route).toBe(503);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(res.headers.get('retry-after')).toBe('1');
      expect(elapsed).toBeGreaterThanOrEqual(290);
      expect(elapsed).toBeLessThan(3_000);
      const body = (await res.json()) as any;
      expect(body.type).toBe('tag:access-index,2026:problem:position_timeout');
      expect(body.lag).toHaveLength(1);
      expect(body.lag[0]).toMatchObject({ topic, partition: Number(partition), wanted: (BigInt(offset!) + 1_000_000n).toString() });
      expect(BigInt(body.lag[0].have)).toBeGreaterThanOrEqual(BigInt(offset!) - 1n);
      expect(body.detail).toContain('wanted');
    }
    // wait_ms=0: no waiting at all.
    const started = Date.now();
    expect((await api.get(`${BASE}/summary?min_position=${far}&wait_ms=0`, token)).status).toBe(503);
    expect(Date.now() - started).toBeLessThan(1_000);
    // A partition with nothing searchable yet is reported as have: null.
    const empty = (await (await api.get(`${BASE}/summary?min_position=${topic}:99:0&wait_ms=0`, token)).json()) as any;
    expect(empty.lag).toEqual([{ topic, partition: 99, wanted: '0', have: null }]);
  });

  it('400 for a topic the index does not read, or a partition listed twice', async () => {
    const typo = (await (await api.get(`${BASE}/summary?min_position=zcc.usres:0:1`, token)).json()) as any;
    expect(typo.status).toBe(400);
    expect(typo.errors[0].field).toBe('min_position');
    expect(typo.errors[0].message).toContain('zcc.usres');
    const twice = `${api.topics[0]}:0:1,${api.topics[0]}:0:2`;
    const res = (await (await api.get(`${BASE}/summary?min_position=${twice}`, token)).json()) as any;
    expect(res.errors).toEqual([{ field: 'min_position', message: `lists ${api.topics[0]}:0 twice` }]);
  });

  it('a later page keeps its listing snapshot; a min_position beyond it is a 400', async () => {
    for (let n = 0; n < 3; n++) await publish(b.grantUser('i1', `rw${n}`));
    const first = (await (await api.get(`${BASE}/users?size=2`, token)).json()) as any;
    expect(first.next_cursor).not.toBeNull();
    const later = await publish(b.user('rw-later', 'Later'));
    const res = await api.get(`${BASE}/users?size=2&cursor=${encodeURIComponent(first.next_cursor)}&min_position=${later}&wait_ms=0`, token);
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).errors[0]).toEqual({ field: 'cursor', message: 'older than min_position' });
    const ok = await api.get(`${BASE}/users?size=2&cursor=${encodeURIComponent(first.next_cursor)}`, token);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as any).position).toBe(first.position);
  });

  it('an account a refresh showed part-written (decision 59): its drill-down, listing and export wait for the mark to be lifted, and are refused while it stays; other accounts and the summary are not held', async () => {
    await publish(b.user('torn', 'Torn Reader'));
    const position = await publish(b.grantUser('i1', 'torn'));
    expect((await api.get(`${BASE}/users/torn?min_position=${position}&wait_ms=30000`, token)).status).toBe(200);
    const store = api.env.store;
    // As the publisher does: the account marked with a refresh's start; that refresh published.
    await store.endRefresh(await store.beginRefresh(new Map([[ACCOUNT, 0]])));
    expect(await store.tornAccounts()).toEqual(new Map([[ACCOUNT, 0]]));
    const started = Date.now();
    const waiting = api.get(`${BASE}/users/torn`, token);
    await new Promise((resolve) => setTimeout(resolve, 400));
    // A later refresh shows the account whole: its mark is lifted with that refresh's end.
    await store.endRefresh(await store.beginRefresh(), [ACCOUNT]);
    const res = await waiting;
    expect(res.status, await res.clone().text()).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(((await res.json()) as any).entries.map((e: any) => e.target.id)).toEqual(['i1']);
    expect(await store.tornAccounts()).toEqual(new Map());

    // Marked, and no refresh lifts it: refused after a few seconds, with the fault named.
    await store.endRefresh(await store.beginRefresh(new Map([[ACCOUNT, 0]])));
    try {
      const other = await api.get(`/v1/accounts/acc-other/access/users`, await api.token('acc-other'));
      expect(other.status).toBe(200);
      expect((await api.get(`${BASE}/summary`, token)).status).toBe(200);
      const refused = await Promise.all([api.get(`${BASE}/users/torn`, token), api.get(`${BASE}/users`, token), api.get(`${BASE}/users.csv`, token)]);
      for (const r of refused) {
        expect(r.status).toBe(503);
        expect(r.headers.get('retry-after')).toBe('1');
        expect(await r.json()).toMatchObject({ type: 'tag:access-index,2026:problem:index_unavailable', fault: 'account_part_written' });
      }
    } finally {
      await store.endRefresh(await store.beginRefresh(), [ACCOUNT]);
    }
    expect((await api.get(`${BASE}/users`, token)).status).toBe(200);
  }, 30_000);

  it('the summary and queues answer from Redis as soon as a change is committed, while OpenSearch refuses writes; search catches up after', async () => {
    const opensearch = api.env.clients.opensearch;
    const known = await publish(b.user('blocked', 'Blocked Writer'));
    expect((await api.get(`${BASE}/users/blocked?min_position=${known}&wait_ms=30000`, token)).status).toBe(200);
    const before = (await (await api.get(`${BASE}/summary`, token)).json()) as any;
    // Every index of this test's namespace refuses writes (OpenSearch answers 429, so the projector
    // retries the bulk write of the batch; its Redis commit is already done).
    const indices = `${api.env.config.namespace}-*`;
    const block = (on: boolean) => opensearch.indices.putSettings({ index: indices, body: { 'index.blocks.read_only_allow_delete': on ? true : null } });
    await block(true);
    let position: string;
    try {
      position = await publish(b.grantUser('i1', 'blocked'));
      const res = await api.get(`${BASE}/summary?min_position=${position}&wait_ms=30000`, token);
      expect(res.status, await res.clone().text()).toBe(200);
      const summary = (await res.json()) as any;
      expect(summary.users.inbox).toBe(before.users.inbox + 1);
      expect(summary.position.split(',')).toContain(position);
      const queues = await api.get(`${BASE}/queues?min_position=${position}&wait_ms=30000`, token);
      expect(queues.status).toBe(200);
      // The document is not written: a read of the same position waits and gives up.
      const user = await api.get(`${BASE}/users/blocked?min_position=${position}&wait_ms=1500`, token);
      expect(user.status).toBe(503);
      expect((await user.json()) as any).toMatchObject({ type: 'tag:access-index,2026:problem:position_timeout' });
      expect(((await (await api.get(`${BASE}/users/blocked`, token)).json()) as any).entries).toEqual([]);
    } finally {
      await block(false);
    }
    const res = await api.get(`${BASE}/users?q=blocked&min_position=${position}&wait_ms=30000`, token);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(((await res.json()) as any).items.map((r: any) => [r.user_id, r.access_types])).toEqual([['blocked', ['inbox']]]);
  });
});

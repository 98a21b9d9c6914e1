import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANNELS, type ChannelScope, queuesFromCounters, summaryFromCounters } from '../../projections/index.ts';
import { readAccountUsers } from '../../src/opensearch/read-users.ts';
import type { IndexedUser } from '../../src/opensearch/user-document.ts';
import { indexedDocs } from '../support/history.ts';
import { type TestNamespace, createTestNamespace } from '../helpers/namespace.ts';
import { mintToken } from '../../src/api/tokens.ts';
import { type ExpectedRow, drillDownShape, expectedDrillDown, loadConformanceCases, sortRows } from '../support/conformance.ts';
import { SECRET, createTestApp } from './api-harness.ts';
import { type LogicalTopicName, type PreparedNamespace, prepareNamespace } from '../support/pipeline.ts';

/**
 * The conformance cases through Kafka, the projector, Redis and OpenSearch: one account per case.
 * Twice: with the default work budget (a batch's events of an account in one Redis commit), and
 * with a budget of one document per commit, so that a batch is split into a commit per event.
 */
describe.each([
  { split: 'one commit per account and batch', workPerCommit: undefined },
  { split: 'a commit per event (work budget 1)', workPerCommit: 1 },
])('conformance cases through the whole pipeline, $split', ({ workPerCommit }) => {
  const cases = loadConformanceCases();
  let ns: TestNamespace;
  let env: PreparedNamespace;
  let stop: () => Promise<void>;
  let get: (account: string, path: string) => Promise<any>;

  beforeAll(async () => {
    ns = createTestNamespace();
    env = await prepareNamespace(ns, { partitions: 3 });
    const projector = env.projector(workPerCommit === undefined ? {} : { workPerCommit });
    await projector.start();
    stop = () => projector.stop();
    const messages = cases.flatMap((c, n) =>
      c.events.map((e) => ({
        topic: e.topic.replace('zcc.', '') as LogicalTopicName,
        key: `case-${n}`,
        value: JSON.stringify({ ...e.value, accountid: `case-${n}` }),
      })),
    );
    await env.waitForPositions(await env.produce(messages));
    const { app } = createTestApp(env);
    get = async (account, path) => {
      const res = await app.request(`/v1/accounts/${account}/access${path}`, { headers: { authorization: `Bearer ${await mintToken({ secret: SECRET, accountId: account })}` } });
      expect(res.status, `${path}: ${await res.clone().text()}`).toBe(200);
      return res.json();
    };
  });

  afterAll(async () => {
    await stop?.();
    await env?.close();
    await ns?.cleanup();
  });

  cases.forEach((c, n) => {
    it(c.name, async () => {
      const account = `case-${n}`;
      const indexed: IndexedUser[] = [];
      for await (const u of readAccountUsers(env.clients.opensearch, env.index, account)) indexed.push(u);
      const counters = await env.store.counters(account);

      expect(summaryFromCounters(counters, 'all')).toEqual(c.expect.summary);
      for (const channel of CHANNELS) expect(summaryFromCounters(counters, channel)).toEqual(c.expect.summary_by_channel[channel]);

      // Rows as the report reads them: from the indexed per-filter fields, not from the entries.
      const rows = (scope: ChannelScope) =>
        sortRows(indexed.filter((u) => u.ca[scope].all > 0).map((u) => ({ user_id: u.user_id, can_access: u.ca[scope].all, access_types: u.at[scope] })));
      expect(rows('all')).toEqual(sortRows(c.expect.rows));
      for (const channel of CHANNELS) expect(rows(channel)).toEqual(sortRows(c.expect.rows_by_channel[channel]));

      // Named as the drill-down names them: from the account's facts in Redis (decision 64).
      const byId = new Map((await indexedDocs(env, account)).map((u) => [u.user_id, u]));
      for (const [userId, expected] of Object.entries(c.expect.users)) expect(drillDownShape(byId.get(userId) ?? null), userId).toEqual(expectedDrillDown(expected));

      expect(Object.fromEntries(queuesFromCounters(counters, {}).map((q) => [q.cc_queue_id, q.users]))).toEqual(c.expect.queues);

      // The target views through the real API: GET /inboxes from the counters, the listings by target from the index.
      const inboxes = (await get(account, '/inboxes')) as { items: { inbox_id: string; users: number }[] };
      expect(Object.fromEntries(inboxes.items.map((i) => [i.inbox_id, i.users]))).toEqual(c.expect.inboxes);
      const listing = async (param: string, id: string): Promise<ExpectedRow[]> => {
        const page = (await get(account, `/users?${new URLSearchParams({ [param]: id, size: '1000' })}`)) as { items: ExpectedRow[]; total: number };
        expect(page.total).toBe(page.items.length);
        return sortRows(page.items.map(({ user_id, can_access, access_types }) => ({ user_id, can_access, access_types })));
      };
      for (const [id, expected] of Object.entries(c.expect.rows_by_inbox_id)) expect(await listing('inbox_id', id), `inbox_id ${id}`).toEqual(sortRows(expected));
      for (const [id, expected] of Object.entries(c.expect.rows_by_cc_queue_id)) expect(await listing('cc_queue_id', id), `cc_queue_id ${id}`).toEqual(sortRows(expected));
    });
  });

  it('verify finds the index and counters equal to a clean recomputation', async () => {
    expect(await env.verify()).toEqual([]);
  });
});

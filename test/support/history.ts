/**
 * The realistic history the projector tests run (the generator's test preset), and the two views
 * compared at the end: what the pure core says, and what OpenSearch and the counters hold.
 */
import { DEFAULT_DEDUPE_WINDOW_MS, type FactEvent, type UserDoc, allDocs, countersFromDocs, emptyAccount, step } from '../../projections/index.ts';
import { decodeEvent } from '../../schemas/decode.ts';
import { readAccountUsers } from '../../src/opensearch/read-users.ts';
import { type IndexedUser, fromIndexedUser, namedIds } from '../../src/opensearch/user-document.ts';
import { entityNamesReader } from '../../src/redis/entity-names.ts';
import { generateHistory, testPreset } from '../../src/demo/generator.ts';
import type { OutgoingMessage, PreparedNamespace } from './pipeline.ts';

export interface HistoryEvent {
  topic: 'users' | 'roles' | 'queues' | 'inboxes';
  key: string;
  event: FactEvent;
  value: string;
}

/** The test preset's history, decoded once, with its Kafka messages. */
export function testHistory(seed = 7): { events: HistoryEvent[]; messages: OutgoingMessage[] } {
  const events: HistoryEvent[] = [];
  for (const g of generateHistory({ ...testPreset(), seed })) {
    const value = JSON.stringify(g.value);
    const decoded = decodeEvent({ key: g.key, value, topic: g.topic });
    if (!decoded.ok) throw new Error(`generated event does not decode: ${decoded.reason}`);
    events.push({ topic: g.topic, key: g.key, event: decoded.event, value });
  }
  return { events, messages: events.map((e) => ({ topic: e.topic, key: e.key, value: e.value })) };
}

export type AccountView = { docs: UserDoc[]; counters: Record<string, number> };

function sortedCounters(counters: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...counters].filter(([, n]) => n !== 0).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The pure core's documents and counters for each account, replaying in history order. */
export function expectedState(events: readonly HistoryEvent[]): Map<string, AccountView> {
  const accounts = new Map<string, ReturnType<typeof emptyAccount>>();
  for (const e of events) {
    let state = accounts.get(e.key);
    if (!state) accounts.set(e.key, (state = emptyAccount()));
    step(state, e.event, DEFAULT_DEDUPE_WINDOW_MS);
  }
  const out = new Map<string, AccountView>();
  for (const [account, state] of [...accounts].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const docs = [...allDocs(state.facts).values()];
    out.set(account, { docs, counters: sortedCounters(countersFromDocs(docs)) });
  }
  return out;
}

/** What the index and Redis of a generation are read through. */
type IndexedEnv = Pick<PreparedNamespace, 'clients' | 'store' | 'index' | 'space'>;

/** The account's user documents in the index, named from its facts in Redis as the drill-down names them (decision 64). */
export async function indexedDocs(env: IndexedEnv, account: string): Promise<UserDoc[]> {
  const indexed: IndexedUser[] = [];
  for await (const u of readAccountUsers(env.clients.opensearch, env.index, account)) indexed.push(u);
  // At the published positions, as the drill-down names them.
  const reader = entityNamesReader(env.clients.redis, env.space, account);
  const blocked = await reader.resolve(await reader.read(namedIds(indexed.flatMap((u) => u.entries))), await env.store.positions());
  if (blocked.ahead.size > 0 || blocked.missing > 0)
    throw new Error(`${account}: names not at the published positions: ${JSON.stringify({ ahead: [...blocked.ahead].map(String), missing: blocked.missing })}`);
  return indexed.map((u) => fromIndexedUser(u, reader.names));
}

/** What OpenSearch and the Redis counters hold for the accounts. */
export async function indexedState(env: IndexedEnv, accounts: readonly string[]): Promise<Map<string, AccountView>> {
  const out = new Map<string, AccountView>();
  for (const account of accounts) out.set(account, { docs: await indexedDocs(env, account), counters: sortedCounters(await env.store.counters(account)) });
  return out;
}

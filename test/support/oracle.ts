/**
 * An independent model of the report: what the API must answer at a given `position`, computed by
 * replaying the produced history with the pure core (projections/), never with src/api code.
 *
 * "The events up to a position": an event counts when its offset is at or before the position's
 * offset of its topic and partition. A partition the position does not name counts nothing (the
 * API names only partitions it has read); an offset of -1 counts nothing too. An offset past the
 * last one produced in that partition cannot be reflected by anything and is reported as a
 * difference (the oracle was not told of some messages, or the topic was recreated). Partitions of
 * topics the oracle never saw a message of are ignored.
 *
 * Events count in production order (Kafka's order within a partition; the contract makes the
 * result independent of how topics interleave), each with its message timestamp as the log time
 * for the dedupe window, as the projector does.
 */
import {
  type AccountState,
  type Channel,
  DEFAULT_DEDUPE_WINDOW_MS,
  type ReportFilter,
  type ReportRow,
  type UserDoc,
  allDocs,
  emptyAccount,
  filterEntries,
  reportRow,
  rowFromEntries,
  step,
  summarize,
} from '../../projections/index.ts';
import { describeDifferences, describeRowDifferences, parsePosition } from './answer-diff.ts';
import { type ProducedMessage, fieldOf, formatPosition } from './recorded-producer.ts';

export type AnswerKind = 'summary' | 'users' | 'user';

/** The filter and user an answer was asked for (else read from the answer itself). */
export interface AnswerContext {
  channel?: Channel | undefined;
  userId?: string;
  /** an `as_of` answer: only the events (up to the position) whose time is at or before it count */
  asOfMs?: number;
}

export interface Oracle {
  /** Adds messages produced later (in production order). */
  add(messages: Iterable<ProducedMessage>): void;
  accounts(): string[];
  /** Every user id the account's history ever upserted (deleted ones too). */
  userIds(account: string): string[];
  /** The account's documents at the position (users with no entry included), of the events until `untilMs` when given. */
  docsAt(account: string, position: string, untilMs?: number): ReadonlyMap<string, UserDoc>;
  /** The event times of the account's history, in production order. */
  eventTimes(account: string): number[];
  /** True when every offset the position names is one the oracle knows of (see the header). */
  covers(position: string): boolean;
  /** The position of everything produced so far. */
  latestPosition(): string;
  /** The body of GET /summary at the position. */
  expectSummary(account: string, position: string, channel?: Channel, untilMs?: number): Record<string, unknown>;
  /** The rows of GET /users (every page) at the position, by user_id. */
  expectRows(account: string, position: string, filter?: ReportFilter, untilMs?: number): ReportRow[];
  /** The body of GET /users/{id} at the position; null when the answer must be 404. */
  expectUser(account: string, userId: string, position: string, filter?: ReportFilter, untilMs?: number): Record<string, unknown> | null;
  /**
   * Null when `body` (a 200 answer, for `users` with the items of every page) equals the replay at
   * its own `position`; else a short description of the difference.
   */
  checkAnswer(kind: AnswerKind, account: string, body: unknown, context?: AnswerContext): string | null;
  /** True when `body`, claimed at `position` instead of its own, equals the replay there (no diagnosis: cheap). */
  matchesAt(kind: AnswerKind, account: string, body: Record<string, unknown>, position: string, context?: AnswerContext): boolean;
}

interface AccountHistory {
  messages: ProducedMessage[];
  userIds: Set<string>;
}

/** An oracle over `history` (the records of a RecordingProducer); `windowMs`: the service's dedupe window. */
export function createOracle(history: Iterable<ProducedMessage> = [], options: { windowMs?: number } = {}): Oracle {
  const windowMs = options.windowMs ?? DEFAULT_DEDUPE_WINDOW_MS;
  const byAccount = new Map<string, AccountHistory>();
  /** last produced offset per partition, and the topics seen at all */
  const ends = new Map<string, bigint>();
  const topics = new Set<string>();
  const cache = new Map<string, Map<string, UserDoc>>();

  function add(messages: Iterable<ProducedMessage>): void {
    for (const m of messages) {
      const field = fieldOf(m);
      if ((ends.get(field) ?? -1n) < m.offset) ends.set(field, m.offset);
      topics.add(m.topic);
      if (!m.event || m.key === null) continue;
      let account = byAccount.get(m.key);
      if (!account) byAccount.set(m.key, (account = { messages: [], userIds: new Set() }));
      account.messages.push(m);
      if (m.event.type === 'user.upserted') account.userIds.add(m.event.data.user_id);
    }
    // The cache stays valid: later messages take later offsets, so a cut keyed by its counts per
    // partition still names the same messages.
  }

  function positions(position: string): Map<string, bigint> {
    const parsed = parsePosition(position);
    if (typeof parsed === 'string') throw new Error(parsed);
    return parsed;
  }

  function docsAt(account: string, position: string, untilMs = Infinity): Map<string, UserDoc> {
    const cut = positions(position);
    const messages = byAccount.get(account)?.messages ?? [];
    // Event times only grow within an account's topic in the test histories, so the events until T
    // applied in production order are the replay of the events up to T by event time.
    const counted = messages.filter((m) => m.offset <= (cut.get(fieldOf(m)) ?? -1n) && m.event!.timeMs <= untilMs);
    // The same events give the same documents: key the cache by how many of each partition count.
    const perField = new Map<string, number>();
    for (const m of counted) perField.set(fieldOf(m), (perField.get(fieldOf(m)) ?? 0) + 1);
    const key = `${account}\u001f${[...perField].sort(([a], [b]) => (a < b ? -1 : 1)).join(',')}`;
    let docs = cache.get(key);
    if (docs) {
      // most recently used last, so that the oldest is dropped first
      cache.delete(key);
      cache.set(key, docs);
    } else {
      const state: AccountState = emptyAccount();
      for (const m of counted) step(state, { ...m.event!, logMs: m.logMs }, windowMs);
      docs = allDocs(state.facts);
      if (cache.size >= 500) cache.delete(cache.keys().next().value!);
      cache.set(key, docs);
    }
    return docs;
  }

  const expectSummary = (account: string, position: string, channel?: Channel, untilMs?: number) => ({
    account_id: account,
    channel: channel ?? null,
    ...summarize(docsAt(account, position, untilMs).values(), channel),
    position,
  });

  const expectRows = (account: string, position: string, filter: ReportFilter = {}, untilMs?: number) =>
    [...docsAt(account, position, untilMs).values()]
      .map((doc) => reportRow(doc, filter))
      .filter((row) => row !== null)
      .sort((a, b) => (a.user_id < b.user_id ? -1 : 1));

  function expectUser(account: string, userId: string, position: string, filter: ReportFilter = {}, untilMs?: number) {
    const doc = docsAt(account, position, untilMs).get(userId);
    if (!doc) return null;
    const entries = filterEntries(doc.entries, filter);
    return { ...rowFromEntries(doc, entries), entries, position };
  }

  /** Offsets the position claims that nothing produced can explain. */
  function impossible(position: Map<string, bigint>): string[] {
    return [...position]
      .filter(([field, offset]) => topics.has(field.slice(0, field.lastIndexOf(':'))) && offset > (ends.get(field) ?? -1n))
      .map(([field, offset]) => `position names ${field}:${offset}, past the last produced offset ${ends.get(field) ?? 'none'}`);
  }

  function differences(kind: AnswerKind, account: string, body: Record<string, unknown>, position: string, context: AnswerContext): string[] {
    const channel = context.channel ?? (body.channel as Channel | null | undefined) ?? undefined;
    const until = context.asOfMs;
    if (kind === 'summary') return describeDifferences(expectSummary(account, position, channel, until), body);
    if (kind === 'users') {
      const rows = expectRows(account, position, { channel }, until);
      const items = Array.isArray(body.items) ? body.items : [];
      const out = describeRowDifferences(rows, items);
      if (body.total !== rows.length) out.push(`total: got ${JSON.stringify(body.total)}, want ${rows.length}`);
      return out;
    }
    const userId = context.userId ?? String(body.user_id);
    const expected = expectUser(account, userId, position, { channel }, until);
    return expected ? describeDifferences(expected, body) : [`user ${userId} does not exist at this position (want 404)`];
  }

  add(history);
  return {
    add,
    accounts: () => [...byAccount.keys()].sort(),
    userIds: (account) => [...(byAccount.get(account)?.userIds ?? [])].sort(),
    docsAt,
    eventTimes: (account) => (byAccount.get(account)?.messages ?? []).map((m) => m.event!.timeMs),
    covers(position) {
      const parsed = parsePosition(position);
      return typeof parsed !== 'string' && impossible(parsed).length === 0;
    },
    latestPosition: () => formatPosition(ends),
    expectSummary,
    expectRows,
    expectUser,
    checkAnswer(kind, account, body, context = {}) {
      if (typeof body !== 'object' || body === null) return `not a JSON object: ${JSON.stringify(body)}`;
      const record = body as Record<string, unknown>;
      if (typeof record.position !== 'string') return 'no position';
      const parsed = parsePosition(record.position);
      if (typeof parsed === 'string') return parsed;
      const found = [...impossible(parsed), ...differences(kind, account, record, record.position, context)];
      if (found.length === 0) return null;
      // A hint for the reader: an answer fresher than its position is a different bug from a wrong one.
      const latest = formatPosition(ends);
      const newer = latest !== record.position && differences(kind, account, { ...record, position: latest }, latest, context).length === 0;
      return `${found.slice(0, 3).join('; ')}${newer ? ' (it equals the replay of everything produced: newer than its position)' : ''}`;
    },
    matchesAt(kind, account, body, position, context = {}) {
      const parsed = parsePosition(position);
      return typeof parsed !== 'string' && impossible(parsed).length === 0 && differences(kind, account, { ...body, position }, position, context).length === 0;
    },
  };
}

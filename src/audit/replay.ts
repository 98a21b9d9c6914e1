/**
 * The audit replay: the report of one account as of an instant T, computed a second, independent
 * way: straight from the topics, through the pure core, without the index or the counters.
 *
 * 1. Read the four topics from their earliest offsets up to the end offsets captured at the start
 *    (a throwaway consumer group; nothing is committed), keeping the account's messages (by key),
 *    decoded as the projector decodes them (poison is counted and skipped).
 * 2. Keep the events whose event time is at or before T, each topic in its own order.
 * 3. Apply them through the core (`replay`, the Kafka message timestamp as the dedupe log time) and
 *    derive every user's document; rows, drill-downs and summary follow as in the live report.
 *
 * Steps 2 and 3 are pure (`eventsUntil`, `replayUntil`, `auditReport`), so tests can run them on
 * events read once for many instants.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import {
  type Channel,
  CHANNEL_SCOPES,
  type ChannelScope,
  type Entry,
  type FactEvent,
  type ReportFilter,
  type ReportRow,
  type Summary,
  type UserDoc,
  accessTypes,
  allDocs,
  canAccess,
  filterEntries,
  replay,
  reportRow,
  summarize,
} from '../../projections/index.ts';
import { decodeEvent } from '../../schemas/decode.ts';
import { LOGICAL_TOPICS, type LogicalTopic } from '../../schemas/events.ts';
import { requireFullHistory } from '../kafka/history-retention.ts';
import { fold } from '../opensearch/search-terms.ts';
import { compareCodePoints } from './compare.ts';

/** A decoded event of the account, with where it was read and when it entered the log. */
export type ReplayEvent = FactEvent & { time: string; logMs: number; topic: string; partition: number; offset: string };

export interface AccountEvents {
  accountId: string;
  /** the account's usable events per logical topic, each in its partition's order */
  byTopic: Map<LogicalTopic, ReplayEvent[]>;
  /** messages read (all accounts) */
  scanned: number;
  /** the account's messages that could not be decoded (the projector dead-letters them) */
  poison: number;
  /** the end of each non-empty partition when reading started: `topic:partition` -> last offset */
  ends: Map<string, bigint>;
}

export interface ReadOptions {
  kafka: Kafka;
  topics: Record<LogicalTopic, string>;
  accountId: string;
  /** prefix of the throwaway consumer group's id (the namespace keeps deployments apart) */
  groupPrefix: string;
  /** progress lines (to stderr in the command) */
  progress?: (line: string) => void;
  /** how often progress is reported, in ms (default 2000) */
  progressEveryMs?: number;
}

/**
 * Reads every message of the four topics that existed when it started and returns the account's
 * events. A fresh consumer group reads from the earliest offsets; it is deleted at the end.
 * @throws HistoryGoneError when a topic no longer starts at offset 0.
 */
export async function readAccountEvents(options: ReadOptions): Promise<AccountEvents> {
  const { accountId, ...rest } = options;
  return (await readAccountsEvents({ ...rest, accountIds: [accountId] })).get(accountId)!;
}

/** readAccountEvents for several accounts in one pass over the topics. */
// eslint-disable-next-line max-lines-per-function -- one pass over the topics with its bookkeeping (ends, poison, progress) in one place; the steps are commented
export async function readAccountsEvents(options: Omit<ReadOptions, 'accountId'> & { accountIds: readonly string[] }): Promise<Map<string, AccountEvents>> {
  const { kafka } = options;
  const logicalOf = new Map<string, LogicalTopic>(LOGICAL_TOPICS.map((t) => [options.topics[t], t]));
  const results = new Map<string, AccountEvents>(
    options.accountIds.map((accountId) => [
      accountId,
      { accountId, byTopic: new Map(LOGICAL_TOPICS.map((t) => [t, [] as ReplayEvent[]])), scanned: 0, poison: 0, ends: new Map() },
    ]),
  );
  const keys = new Map([...results.keys()].map((id) => [Buffer.from(id, 'utf8').toString('latin1'), results.get(id)!]));
  let scanned = 0;

  // A report from part of the history would look right and be wrong: refuse first.
  await requireFullHistory(kafka, [...logicalOf.keys()], 'replay');
  // Where each partition ends now: messages produced later are not part of this replay.
  const endOf = new Map<string, bigint>();
  const ends = new Map<string, bigint>();
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (const topic of logicalOf.keys())
      for (const p of await admin.fetchTopicOffsets(topic)) {
        const high = BigInt(p.high);
        if (high > BigInt(p.low)) {
          endOf.set(`${topic}:${p.partition}`, high);
          ends.set(`${topic}:${p.partition}`, high - 1n);
        }
      }
  } finally {
    await admin.disconnect();
  }
  const finishAll = () => {
    for (const r of results.values()) {
      r.scanned = scanned;
      r.ends = ends;
    }
    return results;
  };
  const total = [...endOf.values()].reduce((a, b) => a + b, 0n);
  if (endOf.size === 0) return finishAll();

  const groupId = `${options.groupPrefix}-replay-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxBytesPerPartition: 4 * 1024 * 1024 });
  const remaining = new Set(endOf.keys());
  let finish!: () => void;
  let fail!: (error: unknown) => void;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  let lastReport = Date.now();
  const report = (force = false) => {
    if (!options.progress || (!force && Date.now() - lastReport < (options.progressEveryMs ?? 2000))) return;
    lastReport = Date.now();
    const kept = [...results.values()].reduce((n, r) => n + [...r.byTopic.values()].reduce((m, l) => m + l.length, 0), 0);
    options.progress(`read ${scanned} of ${total} messages; ${kept} events kept; ${remaining.size} partitions to go`);
  };

  consumer.on(consumer.events.CRASH, (event) => fail(event.payload.error));
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [...logicalOf.keys()], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, heartbeat }) => {
        try {
          const field = `${batch.topic}:${batch.partition}`;
          const end = endOf.get(field);
          const logical = logicalOf.get(batch.topic);
          if (end === undefined || logical === undefined || !remaining.has(field)) return;
          for (const m of batch.messages) {
            const offset = BigInt(m.offset);
            if (offset >= end) break;
            scanned += 1;
            const account = m.key ? keys.get(m.key.toString('latin1')) : undefined;
            if (!account) continue;
            const decoded = decodeEvent({ key: m.key, value: m.value, topic: logical });
            if (!decoded.ok) {
              account.poison += 1;
              continue;
            }
            account.byTopic.get(logical)!.push({ ...decoded.event, logMs: Number(m.timestamp), topic: batch.topic, partition: batch.partition, offset: m.offset });
          }
          if (BigInt(batch.lastOffset()) >= end - 1n) {
            remaining.delete(field);
            consumer.pause([{ topic: batch.topic, partitions: [batch.partition] }]);
          }
          report();
          await heartbeat();
          if (remaining.size === 0) finish();
        } catch (error) {
          fail(error);
        }
      },
    });
    await done;
    report(true);
  } finally {
    await consumer.disconnect().catch(() => undefined);
    const cleanup = kafka.admin();
    await cleanup
      .connect()
      .then(() => cleanup.deleteGroups([groupId]))
      .catch(() => undefined)
      .finally(() => cleanup.disconnect().catch(() => undefined));
  }
  return finishAll();
}

const TOPIC_ORDER: readonly LogicalTopic[] = LOGICAL_TOPICS;

/**
 * The events with event time at or before `untilMs`, each topic in its own order, merged by event
 * time (ties: users, roles, queues, inboxes). Which merge is used does not change the result: the
 * core's end state does not depend on how topics interleave.
 */
export function eventsUntil<E extends FactEvent>(byTopic: ReadonlyMap<LogicalTopic, readonly E[]>, untilMs: number): E[] {
  const lists = TOPIC_ORDER.map((t) => (byTopic.get(t) ?? []).filter((e) => e.timeMs <= untilMs));
  const heads = lists.map(() => 0);
  const out: E[] = [];
  for (;;) {
    let best = -1;
    for (let i = 0; i < lists.length; i++) {
      const e = lists[i]![heads[i]!];
      if (e && (best < 0 || e.timeMs < lists[best]![heads[best]!]!.timeMs)) best = i;
    }
    if (best < 0) return out;
    out.push(lists[best]![heads[best]!++]!);
  }
}

/** Every user's document after the events up to `untilMs` (users who exist then, by id). */
export function replayUntil(byTopic: ReadonlyMap<LogicalTopic, readonly FactEvent[]>, untilMs: number, windowMs: number): { docs: Map<string, UserDoc>; applied: number } {
  const events = eventsUntil(byTopic, untilMs);
  return { docs: allDocs(replay(events, windowMs).facts), applied: events.length };
}

/** A drill-down under a filter, as GET /users/{user_id} answers it. */
export interface UserDetailView extends ReportRow {
  entries: Entry[];
}

export interface AuditReport {
  /** the summary of every channel scope (`all` and each channel), whatever the channel filter */
  summary: Record<ChannelScope, Summary>;
  /** the report rows under the filter, in the report's default order (name, then user id) */
  rows: ReportRow[];
  /** the drill-down of each reported user, same order */
  users: UserDetailView[];
}

/** The report's default order: folded display name by code point, then user id. */
export function compareByName(a: Pick<UserDoc, 'display_name' | 'user_id'>, b: Pick<UserDoc, 'display_name' | 'user_id'>): number {
  return compareCodePoints(fold(a.display_name), fold(b.display_name)) || compareCodePoints(a.user_id, b.user_id);
}

/** The report the documents give: summaries of every scope, rows and drill-downs under `filter`. */
export function auditReport(docs: Iterable<UserDoc>, filter: ReportFilter = {}): AuditReport {
  const all = [...docs].sort(compareByName);
  const summary = {} as Record<ChannelScope, Summary>;
  for (const scope of CHANNEL_SCOPES) summary[scope] = summarize(all, scope === 'all' ? undefined : scope);
  const rows: ReportRow[] = [];
  const users: UserDetailView[] = [];
  for (const doc of all) {
    const row = reportRow(doc, filter);
    if (!row) continue;
    rows.push(row);
    const entries = filterEntries(doc.entries, filter);
    users.push({ ...row, can_access: canAccess(entries), access_types: accessTypes(entries), entries });
  }
  return { summary, rows, users };
}

export interface ReplayAccountOptions extends ReadOptions {
  untilMs: number;
  windowMs: number;
  channel?: Channel | undefined;
}

export interface ReplayAccountResult extends AuditReport {
  accountId: string;
  untilMs: number;
  scanned: number;
  /** the account's usable events in the topics */
  events: number;
  /** of which at or before T, applied */
  applied: number;
  poison: number;
  ends: Map<string, bigint>;
}

/** Reads the topics and answers the report of the account as of `untilMs`. */
export async function replayAccount(options: ReplayAccountOptions): Promise<ReplayAccountResult> {
  const read = await readAccountEvents(options);
  const { docs, applied } = replayUntil(read.byTopic, options.untilMs, options.windowMs);
  return {
    accountId: options.accountId,
    untilMs: options.untilMs,
    scanned: read.scanned,
    events: [...read.byTopic.values()].reduce((n, l) => n + l.length, 0),
    applied,
    poison: read.poison,
    ends: read.ends,
    ...auditReport(docs.values(), { channel: options.channel }),
  };
}

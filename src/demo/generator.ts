/**
 * A deterministic, realistic history of contact centers, as the CloudEvents the topics carry.
 *
 * Each account lives its own history (bootstrap, then churn) on its own clock, from its own PRNG
 * seeded by (seed, account id): adding an account does not change the others. The accounts are
 * merged by event time, so the topics carry them interleaved, big accounts more often than small.
 * Lazy: events are made as they are pulled, and only each account's current picture is kept.
 */
import { TOPIC_OF_TYPE, type EventData, type EventType, type LogicalTopic } from '../../schemas/events.ts';
import { createAccountHistory, type AccountHistory } from './account.ts';
import type { Draft } from './model.ts';
import { createRandom, hashSeed } from './random.ts';
import { defaultRoleCount } from './roles.ts';

export { benchPreset, demoPreset, testPreset } from './presets.ts';
export type { AccountProfile, HistoryOptions } from './presets.ts';
import type { AccountProfile, HistoryOptions } from './presets.ts';

/** The `source` of every generated event. */
export const DEMO_SOURCE = 'access-index-demo';

/** A CloudEvents 1.0 envelope in structured JSON mode, as the topics carry it. */
export type DemoCloudEvent = {
  [T in EventType]: {
    specversion: '1.0';
    id: string;
    source: string;
    type: T;
    time: string;
    accountid: string;
    datacontenttype: 'application/json';
    data: EventData<T>;
  };
}[EventType];

export interface GeneratedEvent {
  topic: LogicalTopic;
  /** the account id: the message key */
  key: string;
  value: DemoCloudEvent;
}

const DAY_MS = 86_400_000;

interface Runner {
  order: number;
  profile: AccountProfile;
  history: AccountHistory;
  clock: ReturnType<typeof createRandom>;
  emitted: number;
  atMs: number;
  draft: Draft;
  bootstrapGapMs: number;
  churnGapMs: number;
}

function checkProfile(profile: AccountProfile): void {
  const counts = { agents: profile.agents, queues: profile.queues, inboxes: profile.inboxes, events: profile.events, roles: profile.roles ?? 1 };
  for (const [name, value] of Object.entries(counts)) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`account ${profile.id}: ${name} must be a positive integer (got ${value})`);
  }
}

function createRunner(options: HistoryOptions, profile: AccountProfile, order: number, startMs: number): Runner {
  checkProfile(profile);
  const sizes = { agents: profile.agents, queues: profile.queues, inboxes: profile.inboxes, roles: profile.roles ?? defaultRoleCount(profile.agents) };
  const history = createAccountHistory(
    sizes,
    profile.domain ?? `${profile.id.toLowerCase().replace(/[^a-z0-9-]+/g, '-')}.example`,
    createRandom(hashSeed(options.seed, profile.id)),
    profile.events,
  );
  const clock = createRandom(hashSeed(options.seed, profile.id, 'clock'));
  const spanMs = options.spanDays * DAY_MS;
  // The import takes a tenth of the span, at most a day; the churn spreads over the rest.
  const bootstrapMs = Math.min(DAY_MS, spanMs / 10);
  const churnEvents = Math.max(1, profile.events - history.estimatedBootstrap);
  return {
    order,
    profile,
    history,
    clock,
    emitted: 0,
    atMs: startMs + clock.int(0, 3_600_000),
    draft: history.next(),
    bootstrapGapMs: bootstrapMs / history.estimatedBootstrap,
    churnGapMs: (spanMs - bootstrapMs) / churnEvents,
  };
}

/** Moves the runner to its next event; false when the account is done. */
function advance(runner: Runner): boolean {
  if (runner.emitted >= runner.profile.events && runner.history.phase === 'churn') return false;
  runner.draft = runner.history.next();
  if (runner.emitted >= runner.profile.events && runner.history.phase === 'churn') return false;
  const gap = runner.history.phase === 'bootstrap' ? runner.bootstrapGapMs * (0.5 + runner.clock.next()) : runner.clock.exponential(runner.churnGapMs);
  // Strictly increasing within the account, whole milliseconds.
  runner.atMs += 1 + Math.floor(gap);
  return true;
}

/** Generates the history: lazily, deterministically (same options, same events). */
export function* generateHistory(options: HistoryOptions): Generator<GeneratedEvent, void, undefined> {
  const startMs = Date.parse(options.startTime);
  if (Number.isNaN(startMs)) throw new RangeError(`startTime is not a date: ${options.startTime}`);
  if (!(options.spanDays > 0)) throw new RangeError(`spanDays must be above 0 (got ${options.spanDays})`);
  const ids = new Set(options.accounts.map((account) => account.id));
  if (ids.size !== options.accounts.length) throw new RangeError('account ids must be unique');

  const heap = createRunnerHeap(options.accounts.map((profile, order) => createRunner(options, profile, order, startMs)));
  for (let runner = heap.peek(); runner !== undefined; runner = heap.peek()) {
    const { draft, profile } = runner;
    runner.emitted++;
    const value = {
      specversion: '1.0',
      id: `${profile.id}-${runner.emitted}`,
      source: DEMO_SOURCE,
      type: draft.type,
      time: new Date(runner.atMs).toISOString(),
      accountid: profile.id,
      datacontenttype: 'application/json',
      data: draft.data,
    } as DemoCloudEvent;
    if (advance(runner)) heap.siftDown();
    else heap.pop();
    yield { topic: TOPIC_OF_TYPE[draft.type], key: profile.id, value };
  }
}

/** A binary min-heap of runners by (next event time, account order). */
function createRunnerHeap(items: Runner[]) {
  const before = (a: Runner, b: Runner) => a.atMs < b.atMs || (a.atMs === b.atMs && a.order < b.order);
  const siftDown = (start: number) => {
    for (let i = start; ;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let min = i;
      if (l < items.length && before(items[l] as Runner, items[min] as Runner)) min = l;
      if (r < items.length && before(items[r] as Runner, items[min] as Runner)) min = r;
      if (min === i) return;
      [items[i], items[min]] = [items[min] as Runner, items[i] as Runner];
      i = min;
    }
  };
  for (let i = (items.length >> 1) - 1; i >= 0; i--) siftDown(i);
  return {
    peek: (): Runner | undefined => items[0],
    /** the top's time moved later: restore the order */
    siftDown: () => siftDown(0),
    pop: () => {
      const last = items.pop() as Runner;
      if (items.length > 0) {
        items[0] = last;
        siftDown(0);
      }
    },
  };
}

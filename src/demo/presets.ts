/**
 * Ready-made histories: `demo` for a newcomer's first look, `test` for integration tests, `bench`
 * for load (full scale: 200,000 users, 2,000,000 events; `scale` shrinks it proportionally).
 * Measured sizes are in docs/demo-data.md.
 */
import { createRandom } from './random.ts';

export interface AccountProfile {
  /** the account id (message key and `accountid`) */
  id: string;
  /** users created at the start (most of them agents) */
  agents: number;
  queues: number;
  inboxes: number;
  /** roles created at the start; default: 4 core roles, more for bigger accounts */
  roles?: number;
  /** total events of the account (the bootstrap is always complete, even when it is longer) */
  events: number;
  /** email domain; default `<id>.example` */
  domain?: string;
}

export interface HistoryOptions {
  seed: number;
  accounts: readonly AccountProfile[];
  /** ISO time of the first events */
  startTime: string;
  /** the history spans this many days from startTime */
  spanDays: number;
}

export type Preset = Omit<HistoryOptions, 'seed'>;

/** Three centers (50, 400 and 2,000 agents), about 30,000 events: loads in seconds. */
export function demoPreset(): Preset {
  return {
    startTime: '2026-01-05T08:00:00.000Z',
    spanDays: 60,
    accounts: [
      { id: 'acc_harbor', agents: 50, queues: 6, inboxes: 4, events: 700, domain: 'harbor-dental.example' },
      { id: 'acc_northwind', agents: 400, queues: 24, inboxes: 12, events: 5_300, domain: 'northwind.example' },
      { id: 'acc_globex', agents: 2_000, queues: 90, inboxes: 40, events: 24_000, domain: 'globex.example' },
    ],
  };
}

/** Three small centers: 460 users, 62 queues, 30 inboxes, 6,000 events over the four topics. */
export function testPreset(): Preset {
  return {
    startTime: '2026-02-02T09:00:00.000Z',
    spanDays: 30,
    accounts: [
      { id: 'acc_test_small', agents: 40, queues: 8, inboxes: 5, events: 500 },
      { id: 'acc_test_mid', agents: 120, queues: 18, inboxes: 9, events: 1_500 },
      { id: 'acc_test_large', agents: 300, queues: 36, inboxes: 16, events: 4_000 },
    ],
  };
}

/** Named centers of the bench, from a 50,000-agent one down to a 50-agent one. */
const BENCH_LARGE = [50_000, 20_000, 12_000, 8_000, 5_000, 5_000, 3_000, 2_000, 1_000, 500, 50];
export const BENCH_USERS = 200_000;
const EVENTS_PER_AGENT = 10;
const AGENTS_PER_QUEUE = 40;
const AGENTS_PER_INBOX = 100;

/** The agents of every bench account: the named ones, then small and mid ones up to BENCH_USERS. */
function benchAgents(): number[] {
  const agents = [...BENCH_LARGE];
  let total = agents.reduce((sum, n) => sum + n, 0);
  // A fixed seed: the bench's shape does not depend on the history's seed.
  const rng = createRandom(0xbe4c);
  while (total < BENCH_USERS) {
    // Log-uniform from 50 to 4,000: many small centers, fewer mid-sized ones.
    const size = Math.max(50, Math.min(BENCH_USERS - total, Math.round(50 * Math.exp(rng.next() * Math.log(80)))));
    agents.push(size);
    total += size;
  }
  return agents;
}

/**
 * The load bench: at scale 1, about 100 accounts from 50 to 50,000 agents, 200,000 users, over
 * 5,000 queues, over 2,000 inboxes and 2,000,000 events over 180 days. `scale` (above 0; 0.1 for a
 * quick run) multiplies every account's sizes.
 */
export function benchPreset(scale = 1): Preset {
  if (!(scale > 0) || !Number.isFinite(scale)) throw new RangeError(`scale must be a number above 0 (got ${scale})`);
  const scaled = (n: number) => Math.max(1, Math.round(n * scale));
  const accounts: AccountProfile[] = benchAgents().map((agents, i) => ({
    id: `acc_bench_${String(i + 1).padStart(3, '0')}`,
    agents: scaled(agents),
    queues: scaled(Math.ceil(agents / AGENTS_PER_QUEUE)),
    inboxes: scaled(Math.ceil(agents / AGENTS_PER_INBOX)),
    events: scaled(agents * EVENTS_PER_AGENT),
  }));
  return { startTime: '2025-10-01T00:00:00.000Z', spanDays: 180, accounts };
}

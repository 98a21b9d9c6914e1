/**
 * API latency against the servers' own latency, on the same machine, in the same run:
 *
 *   1. a fresh namespace; the first benchPreset(scale) events of a history published and drained
 *      by a projector in this process (the rest of that history is the churn of step 4);
 *   2. the API as the real `access-index serve` command in its own process, on a free port;
 *   3. a load worker (a third process) drives closed-loop cases: N keep-alive connections for a
 *      bounded time each, through the API (summary, filtered search, drill-down) and straight to
 *      Redis and OpenSearch with the API's own reads (readSummary's MULTI, the search body of
 *      users-query.ts, the user GET; plus the API's whole server path for attribution);
 *   4. every case idle, then again while a producer publishes churn at a steady rate (a share of
 *      the projector's measured drain rate) and the projector applies it;
 *   5. resident memory of the projector's process and the API's process.
 *
 * Rounds repeat step 3-4 on the same dataset; the report gives medians over rounds and each round.
 * The target routes (GET /inboxes, GET /users?inbox_id=, GET /users?cc_queue_id=, and `as_of` the
 * middle of the history: the summary, GET /users?inbox_id= and a drill-down; and the summary at a
 * new instant each time, which the API has not kept: decision 55) are measured on
 * the dataset's largest account (most user documents), idle only, through the API: the inbox the
 * most users reach and the queue with the most users under cc_queue_id. A listing's first page
 * (size 50) of a long target opens a point in time; the load worker closes each one after timing
 * the answer (the cluster allows 300 open). `--only targets` runs those cases alone (no ingest).
 * Progress on stderr; the table (or --json) on stdout. The namespace is deleted at the end.
 *
 *   npx tsx bench/api-latency.ts [--scale 0.02] [--runs 3] [--duration-s 5] [--connections 1,8] [--only targets] [--accounts N] [--json] [--out file]
 *
 * The largest account of the full bench (50,000 agents), alone: --scale 1 --accounts 1 --only targets
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { mintToken } from '../src/api/tokens.ts';
import { CHECKPOINT_ACCOUNT } from '../src/integrity/checkpoints.ts';
import { buildUsersQuery } from '../src/api/users-query.ts';
import { words } from '../src/opensearch/search-terms.ts';
import { benchPreset } from '../src/demo/generator.ts';
import { createRandom } from '../src/demo/random.ts';
import { sleep } from '../src/retry.ts';
import { parseFlags } from './support/args.ts';
import { createBenchNamespace } from './support/bench-namespace.ts';
import {
  type ApiProcess,
  type DirectItem,
  type DirectOp,
  type HttpItem,
  type LoadResult,
  type LoadWorker,
  processMemory,
  startApiProcess,
  startLoadWorker,
} from './support/load.ts';
import {
  type CapacityResult,
  describeWindow,
  type LivePipeline,
  measureChurnCapacity,
  openLivePipeline,
  type ProjectorWindow,
  publishDataset,
  sampleEvery,
  splitHistory,
  startInProcessProjector,
  startProducerProcess,
  churnOf,
} from './support/live-pipeline.ts';
import { describeMachine, type MachineInfo, processCpuSeconds } from './support/machine.ts';
import { emitReport, fmt, median, mib, progress, runIfMain, table } from './support/report.ts';

export const API_FLAGS = {
  scale: { default: 0.02, help: 'benchPreset scale of the dataset (1 = 2,000,000 events)', min: 0.001, max: 1 },
  seed: { default: 42, help: 'generator seed', min: 0, max: 0xffffffff },
  runs: { default: 3, help: 'rounds of every case (idle and under ingest); medians are reported', min: 1, max: 10 },
  'duration-s': { default: 5, help: 'measured seconds per case', min: 1, max: 60 },
  'warmup-s': { default: 1, help: 'unrecorded seconds before each case', min: 0, max: 10 },
  connections: { default: '1,8', help: 'concurrent connections, comma-separated (each level is a set of cases)' },
  'ingest-load': { default: 0.5, help: 'churn rate under ingest, as a share of the measured drain rate', min: 0, max: 2 },
  'ingest-rate': { default: 0, help: 'churn rate under ingest in events/s (overrides --ingest-load)', min: 0, max: 100_000 },
  'api-cpu-profile-dir': { default: '', help: 'run the API with --cpu-prof and write its CPU profile into this directory (diagnosis)' },
  accounts: { default: 0, help: 'keep only the first N bench accounts, the largest first (1 at --scale 1: the 50,000-agent account alone); 0 keeps all', min: 0, max: 200 },
  only: { default: '', help: '"targets": only the target routes on the largest account (idle; no other case, no ingest)' },
  routes: { default: '', help: 'the target routes to run, comma-separated (e.g. "summary?as_of,users/{id}?as_of"); all when empty' },
  users: { default: 40, help: 'sampled (account, user, prefix) items the requests rotate through', min: 1, max: 500 },
  'timeout-s': { default: 900, help: 'upper bound of the dataset drain, in seconds', min: 10, max: 3600 },
  out: { default: '', help: 'also write the JSON report to this file' },
  json: { default: false, help: 'print the JSON report on stdout instead of the table' },
} as const;

type BaseRoute = 'summary' | 'search' | 'drill-down';
/**
 * The target routes, on the largest account: GET /inboxes, GET /users?inbox_id=, GET /users?cc_queue_id=,
 * and three audits of the middle of the history (AS_OF): the summary, who reached the inbox then, and
 * the drill-down of the inbox's first listed user then.
 */
type TargetRoute = 'inboxes' | 'users?inbox_id' | 'users?cc_queue_id' | 'summary?as_of' | 'summary?as_of+1ms' | 'users?inbox_id&as_of' | 'users/{id}?as_of';
type Route = BaseRoute | TargetRoute;
const TARGET_ROUTES: TargetRoute[] = ['inboxes', 'users?inbox_id', 'users?cc_queue_id', 'summary?as_of', 'summary?as_of+1ms', 'users?inbox_id&as_of', 'users/{id}?as_of'];
/** The middle of benchPreset's history: an `as_of` answer merges the intervals open then (decision 47). */
const AS_OF = new Date(Date.parse(benchPreset(1).startTime) + (benchPreset(1).spanDays / 2) * 86_400_000).toISOString();
/**
 * `summary?as_of+1ms` asks each time 1 ms after the last instant any request asked (never one
 * asked before): an account at T the API has not kept (decision 55), read in full each time.
 */
let lastInstant = Date.parse(AS_OF);
const freshInstants = (n: number) => Array.from({ length: n }, () => new Date(++lastInstant).toISOString());
const isTarget = (route: Route): route is TargetRoute => (TARGET_ROUTES as Route[]).includes(route);
type Condition = 'idle' | 'ingest';

interface CaseDef {
  route: Route;
  via: 'api' | DirectOp;
  connections: number;
}

export interface CaseRun extends CaseDef {
  condition: Condition;
  round: number;
  result: LoadResult;
  /** CPU time of the API process per answered request (API cases) */
  apiCpuMsPerRequest?: number;
  /** 1-minute load average when the case started (the machine is shared) */
  loadAverage: number;
}

export interface ApiLatencyReport {
  bench: 'api-latency';
  at: string;
  options: Record<string, unknown>;
  machine: MachineInfo;
  dataset: { events: number; accounts: number; users: number; drain: { joinMs: number; drainMs: number; eventsPerSecond: number } };
  capacity: CapacityResult;
  capacityWindow: ProjectorWindow;
  ingest: {
    targetRate: number;
    rounds: { round: number; sent: number; rate: number; maxBehind: number; lagMax: number; lagEnd: number; catchUpMs: number; projector: ProjectorWindow }[];
  };
  items: number;
  /** the largest account and the targets its cases ask about (absent when no target case ran) */
  targets?: Targets;
  cases: CaseRun[];
  memory: Record<string, { rss: number; peakRss: number }>;
  apiLogProblems: Record<string, number>;
  summary: SummaryRow[];
  overhead: OverheadRow[];
  goals: GoalRow[];
}

interface SummaryRow {
  condition: Condition;
  route: Route;
  via: string;
  connections: number;
  p50: number;
  p99: number;
  rps: number;
  errors: number;
  apiCpuMsPerRequest?: number;
  rounds: { p50: number; p99: number; rps: number }[];
}

interface OverheadRow {
  condition: Condition;
  route: Route;
  connections: number;
  direct: string;
  apiP50: number;
  directP50: number;
  overheadP50: number;
  /** the API's own server path (positions read + the same read), where measured */
  pathP50?: number;
  rounds: number[];
}

interface GoalRow {
  goal: string;
  condition: Condition;
  connections: number;
  measured: number;
  limit: number;
  met: boolean;
}

/** The history's churn factor (the dataset is its first benchPreset(scale) events); the generator is lazy. */
const CHURN_FACTOR = 60;

const DIRECT: Record<BaseRoute, DirectOp> = { summary: 'summary-multi', search: 'search', 'drill-down': 'get' };
const PATH: Record<BaseRoute, DirectOp> = { summary: 'summary-path', search: 'search-pit', 'drill-down': 'get-path' };

function caseList(levels: number[], only: string): CaseDef[] {
  const lowest = Math.min(...levels);
  const out: CaseDef[] = [];
  if (only === 'targets') return [];
  for (const connections of levels)
    for (const route of ['summary', 'search', 'drill-down'] as const) {
      out.push({ route, via: 'api', connections }, { route, via: DIRECT[route], connections });
      // The API's whole server path, for attribution, at the lowest level only (time is bounded).
      if (connections === lowest) out.push({ route, via: PATH[route], connections });
    }
  return out;
}

interface Sample {
  accountId: string;
  userId: string;
  q: string;
  total: number;
}

/**
 * Users to ask about: random users with voice inbox access, each with a 3-letter prefix of a word
 * of their name whose filtered search fits one page (≤ 40 rows), so that no listing keeps an
 * OpenSearch point in time open (the servers are shared; the cluster allows 300 at once).
 */
async function sampleUsers(pipeline: LivePipeline, count: number, seed: number): Promise<Sample[]> {
  const { opensearch } = pipeline.clients;
  const response = await opensearch.search({
    index: pipeline.indices.users,
    body: {
      size: count * 4,
      query: { function_score: { query: { range: { 'ca.voice.inbox': { gt: 0 } } }, random_score: { seed, field: '_seq_no' } } },
      _source: ['account_id', 'user_id', 'display_name'],
    },
  } as never);
  const hits = (response.body as { hits: { hits: { _source: { account_id: string; user_id: string; display_name: string } }[] } }).hits.hits;
  const rng = createRandom(seed);
  const out: Sample[] = [];
  for (const { _source: u } of hits) {
    if (out.length >= count) break;
    const ws = words(u.display_name).filter((w) => w.length >= 3);
    if (ws.length === 0) continue;
    const q = ws[rng.int(0, ws.length - 1)]!.slice(0, 3);
    const filter = { accountId: u.account_id, q, channel: 'voice' as const, access_type: 'inbox' as const };
    const counted = await opensearch.count({ index: pipeline.indices.users, body: { query: buildUsersQuery(filter) } } as never);
    const total = (counted.body as { count: number }).count;
    if (total >= 1 && total <= 40) out.push({ accountId: u.account_id, userId: u.user_id, q, total });
  }
  if (out.length === 0) throw new Error('no user to sample (is the dataset loaded?)');
  return out;
}

function httpItems(route: Route, samples: Sample[], tokens: Map<string, string>): HttpItem[] {
  return samples.map((s) => {
    const base = `/v1/accounts/${encodeURIComponent(s.accountId)}/access`;
    const path =
      route === 'summary'
        ? `${base}/summary`
        : route === 'search'
          ? `${base}/users?q=${encodeURIComponent(s.q)}&channel=voice&access_type=inbox&size=50`
          : `${base}/users/${encodeURIComponent(s.userId)}`;
    return { path, token: tokens.get(s.accountId)! };
  });
}

interface Targets {
  accountId: string;
  /** user documents of the account (with or without access) */
  users: number;
  accounts: { accountId: string; users: number }[];
  inbox: { id: string; name: string; users: number; inboxes: number };
  queue: { id: string; name: string; users: number; queues: number };
  /** the first user the inbox's live listing gives (the drill-down at AS_OF) */
  userId: string;
}

/**
 * The largest account (most user documents), the inbox the most of its users reach (GET /inboxes)
 * and its queue with the most users under cc_queue_id (GET /queues for the candidates, then the
 * exact count of the listing's query for the ten with the highest per-type counts).
 */
async function pickTargets(pipeline: LivePipeline, api: ApiProcess, secret: string): Promise<{ targets: Targets; token: string }> {
  const { opensearch } = pipeline.clients;
  const agg = await opensearch.search({
    index: pipeline.indices.users,
    body: { size: 0, query: { bool: { must_not: { term: { account_id: CHECKPOINT_ACCOUNT } } } }, aggs: { a: { terms: { field: 'account_id', size: 3 } } } },
  } as never);
  const buckets = (agg.body as unknown as { aggregations: { a: { buckets: { key: string; doc_count: number }[] } } }).aggregations.a.buckets;
  if (buckets.length === 0) throw new Error('no account in the users index');
  const accountId = buckets[0]!.key;
  const token = await mintToken({ secret, accountId, sub: 'bench', ttlSeconds: 6 * 3600 });
  const get = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${api.url}/v1/accounts/${encodeURIComponent(accountId)}/access${path}`, { headers: { authorization: `Bearer ${token}` } });
    if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };
  const inboxes = (await get<{ items: { inbox_id: string; inbox_name: string; users: number }[] }>('/inboxes')).items;
  const queues = (await get<{ items: { cc_queue_id: string; queue_name: string; users: Record<string, number> }[] }>('/queues')).items;
  if (inboxes.length === 0 || queues.length === 0) throw new Error(`account ${accountId}: ${inboxes.length} inboxes and ${queues.length} queues reached`);
  const inbox = inboxes.reduce((a, b) => (b.users > a.users ? b : a));
  const candidates = [...queues].sort((a, b) => Math.max(...Object.values(b.users)) - Math.max(...Object.values(a.users))).slice(0, 10);
  let queue = { id: '', name: '', users: -1 };
  for (const q of candidates) {
    const counted = await opensearch.count({ index: pipeline.indices.users, body: { query: buildUsersQuery({ accountId, cc_queue_id: q.cc_queue_id }) } } as never);
    const n = (counted.body as { count: number }).count;
    if (n > queue.users) queue = { id: q.cc_queue_id, name: q.queue_name, users: n };
  }
  const first = (await get<{ items: { user_id: string }[] }>(`/users?inbox_id=${encodeURIComponent(inbox.inbox_id)}&size=1`)).items[0];
  if (!first) throw new Error(`account ${accountId}: inbox ${inbox.inbox_id} lists no user`);
  return {
    targets: {
      accountId,
      users: buckets[0]!.doc_count,
      accounts: buckets.map((b) => ({ accountId: b.key, users: b.doc_count })),
      inbox: { id: inbox.inbox_id, name: inbox.inbox_name, users: inbox.users, inboxes: inboxes.length },
      queue: { ...queue, queues: queues.length },
      userId: first.user_id,
    },
    token,
  };
}

function targetItems(route: TargetRoute, targets: Targets, token: string): HttpItem[] {
  const base = `/v1/accounts/${encodeURIComponent(targets.accountId)}/access`;
  const paths: Record<TargetRoute, string> = {
    inboxes: `${base}/inboxes`,
    'users?inbox_id': `${base}/users?inbox_id=${encodeURIComponent(targets.inbox.id)}&size=50`,
    'users?cc_queue_id': `${base}/users?cc_queue_id=${encodeURIComponent(targets.queue.id)}&size=50`,
    'summary?as_of': `${base}/summary?as_of=${AS_OF}`,
    'summary?as_of+1ms': '',
    'users?inbox_id&as_of': `${base}/users?inbox_id=${encodeURIComponent(targets.inbox.id)}&size=50&as_of=${AS_OF}`,
    'users/{id}?as_of': `${base}/users/${encodeURIComponent(targets.userId)}?as_of=${AS_OF}`,
  };
  if (route === 'summary?as_of+1ms') return freshInstants(1_000).map((at) => ({ path: `${base}/summary?as_of=${at}`, token }));
  return [{ path: paths[route], token }];
}

const caseName = (c: CaseDef) => `${c.route} ${c.via === 'api' ? 'API' : `direct ${c.via}`} c=${c.connections}`;

export async function runApiLatencyBench(flags: ReturnType<typeof parseFlags<typeof API_FLAGS>>): Promise<ApiLatencyReport> {
  const levels = [...new Set(flags.connections.split(',').map((s) => Number(s.trim())))].filter((n) => Number.isInteger(n) && n >= 1 && n <= 64).sort((a, b) => a - b);
  if (levels.length === 0) throw new Error('--connections: give integers from 1 to 64');
  if (flags.only !== '' && flags.only !== 'targets') throw new Error(`--only: "targets" or nothing (got ${JSON.stringify(flags.only)})`);
  const targetRoutes = (flags.routes === '' ? TARGET_ROUTES : flags.routes.split(',').map((r) => r.trim())) as TargetRoute[];
  const unknownRoute = targetRoutes.find((r) => !(TARGET_ROUTES as string[]).includes(r));
  if (unknownRoute !== undefined) throw new Error(`--routes: ${JSON.stringify(unknownRoute)} is not one of ${TARGET_ROUTES.join(', ')}`);
  // The churn producer regenerates the whole preset's history; a subset of accounts is for the idle target cases.
  if (flags.accounts > 0 && flags.only !== 'targets') throw new Error('--accounts: only with --only targets (the churn of the other cases comes from every account)');
  const ns = createBenchNamespace();
  const machine = await describeMachine(ns.config);
  progress(
    `machine: ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.cpuModel}; Node ${machine.node}, Kafka ${machine.kafka}, OpenSearch ${machine.opensearch}, Redis ${machine.redis}; load ${machine.loadAverage}`,
  );
  progress(`namespace ${ns.prefix}`);
  const secret = randomBytes(36).toString('base64');
  const logFile = join(tmpdir(), `${ns.prefix}-api.log`);
  const memory: ApiLatencyReport['memory'] = {};
  let pipeline: LivePipeline | undefined;
  let projector: Awaited<ReturnType<typeof startInProcessProjector>> | undefined;
  let api: ApiProcess | undefined;
  let worker: LoadWorker | undefined;
  try {
    pipeline = await openLivePipeline(ns);
    // Enough churn for every round under ingest at any plausible rate (the generator is lazy).
    const history = splitHistory(flags.scale, flags.seed, CHURN_FACTOR, flags.accounts);
    progress(
      `publishing the first ${fmt(history.datasetEvents)} events of benchPreset(${flags.scale})${flags.accounts > 0 ? `, its first ${flags.accounts} account(s) only` : ''} (seed ${flags.seed})`,
    );
    const published = await publishDataset(pipeline, history.dataset);
    memory['projector process before start'] = processMemory('self');
    progress('draining with a projector in this process');
    let producerPid: number | undefined;
    projector = await startInProcessProjector(pipeline, machine, () => ({
      ...(api ? { API: api.pid } : {}),
      ...(worker ? { 'load worker': worker.pid } : {}),
      ...(producerPid ? { producer: producerPid } : {}),
    }));
    const drainMs = await pipeline.waitSearchable(published.lastOffsets, flags['timeout-s'] * 1000, (searchable, ms) => {
      const { rss, peakRss } = processMemory('self');
      progress(`  searchable ${fmt(searchable)} / ${fmt(published.total)} events after ${fmt(ms / 1000, 0)} s; this process rss ${mib(rss)}, peak ${mib(peakRss)}`);
    });
    const drainRate = (published.total * 1000) / drainMs;
    progress(`  joined in ${fmt(projector.joinMs / 1000, 1)} s, searchable ${fmt(drainMs / 1000, 1)} s later: ${fmt(drainRate)} events/s`);
    const users = (await pipeline.clients.opensearch.count({ index: pipeline.indices.users } as never)).body as { count: number };
    memory['projector process, dataset loaded'] = processMemory('self');
    const capacityEvents = Math.round(Math.min(50_000, Math.max(5_000, 10 * drainRate)));
    progress(`projector capacity on churn: ${fmt(capacityEvents)} churn events published at once`);
    await projector.window();
    const capacity = await measureChurnCapacity(pipeline, history.churn, capacityEvents);
    const capacityWindow = await projector.window();
    progress(`  published in ${fmt(capacity.publishMs / 1000, 1)} s, all searchable after ${fmt(capacity.searchableMs / 1000, 1)} s: ${fmt(capacity.eventsPerSecond)} events/s`);
    progress(`  ${describeWindow(capacityWindow)}`);
    let churnUsed = capacity.events;

    progress('starting the API: access-index serve, in its own process');
    api = await startApiProcess(ns.config, {
      secret,
      logFile,
      ...(flags['api-cpu-profile-dir'] ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', resolve(flags['api-cpu-profile-dir'])] } : {}),
    });
    memory['API process, started'] = api.memory();
    // The base cases' users (none with --only targets: a large account has no 3-letter prefix matching at most 40 users).
    const samples = flags.only === 'targets' ? [] : await sampleUsers(pipeline, flags.users, flags.seed);
    if (samples.length > 0)
      progress(
        `  ${samples.length} sampled users in ${new Set(samples.map((s) => s.accountId)).size} accounts; search prefixes match ${Math.min(...samples.map((s) => s.total))} to ${Math.max(...samples.map((s) => s.total))} rows`,
      );
    const tokens = new Map<string, string>();
    for (const s of samples) if (!tokens.has(s.accountId)) tokens.set(s.accountId, await mintToken({ secret, accountId: s.accountId, sub: 'bench', ttlSeconds: 6 * 3600 }));
    const directItems: DirectItem[] = samples.map(({ accountId, userId, q }) => ({ accountId, userId, q }));
    const picked = await pickTargets(pipeline, api, secret);
    const targets = picked.targets;
    progress(
      `  largest account ${targets.accountId}: ${fmt(targets.users)} user documents (next: ${targets.accounts
        .slice(1)
        .map((a) => `${a.accountId} ${fmt(a.users)}`)
        .join(', ')}); ` +
        `inbox ${targets.inbox.id} (${targets.inbox.name}) reached by ${fmt(targets.inbox.users)} users, the most of its ${targets.inbox.inboxes} inboxes; ` +
        `queue ${targets.queue.id} (${targets.queue.name}) with ${fmt(targets.queue.users)} users under cc_queue_id, the most of its ${targets.queue.queues} queues; ` +
        `drill-down of user ${targets.userId}`,
    );

    worker = startLoadWorker();
    const cases = caseList(levels, flags.only);
    // The target routes, idle only (each level; through the API).
    const targetCases: CaseDef[] = levels.flatMap((connections) => targetRoutes.map((route) => ({ route, via: 'api' as const, connections })));
    const spec = { durationMs: flags['duration-s'] * 1000, warmupMs: flags['warmup-s'] * 1000 };
    const runCase = async (c: CaseDef, condition: Condition, round: number): Promise<CaseRun> => {
      const loadAverage = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
      const cpu0 = processCpuSeconds(api!.pid);
      const result = isTarget(c.route)
        ? await worker!.run({
            kind: 'http',
            baseUrl: api!.url,
            items: targetItems(c.route, targets, picked.token),
            releaseCursors: { opensearchUrl: ns.config.opensearchUrl, secret },
            connections: c.connections,
            ...spec,
          })
        : c.via === 'api'
          ? await worker!.run({ kind: 'http', baseUrl: api!.url, items: httpItems(c.route, samples, tokens), ok404: c.route === 'drill-down', connections: c.connections, ...spec })
          : await worker!.run({
              kind: 'direct',
              // (the target routes are API cases only)
              op: c.via,
              items: directItems,
              redisUrl: ns.config.redisUrl,
              opensearchUrl: ns.config.opensearchUrl,
              space: pipeline!.space,
              index: pipeline!.indices.users,
              secret,
              connections: c.connections,
              ...spec,
            });
      // The API's CPU over warm-up and measurement, per request answered in both (about the same rate).
      const answered = Object.entries(result.statuses).reduce((a, [, n]) => a + n, 0);
      const apiCpuMsPerRequest = c.via === 'api' ? ((processCpuSeconds(api!.pid) - cpu0) * 1000) / Math.max(1, answered) : undefined;
      const s = result.stats;
      progress(
        `  ${condition} round ${round} ${caseName(c).padEnd(36)} p50 ${fmt(s.p50, 2).padStart(7)} ms  p99 ${fmt(s.p99, 2).padStart(7)} ms  ${fmt(s.rps).padStart(6)}/s${apiCpuMsPerRequest === undefined ? '' : `  API CPU ${fmt(apiCpuMsPerRequest, 2)} ms/req`}${s.errors ? `  ${s.errors} errors ${JSON.stringify(result.statuses)}` : ''}${result.aborted ? `  ${result.aborted}` : ''}`,
      );
      return { ...c, condition, round, result, loadAverage, ...(apiCpuMsPerRequest === undefined ? {} : { apiCpuMsPerRequest }) };
    };

    const targetRate = flags.only === 'targets' ? 0 : flags['ingest-rate'] > 0 ? flags['ingest-rate'] : Math.round(flags['ingest-load'] * capacity.eventsPerSecond);
    const runs: CaseRun[] = [];
    const ingestRounds: ApiLatencyReport['ingest']['rounds'] = [];
    for (let round = 1; round <= flags.runs; round++) {
      progress(`round ${round}/${flags.runs}: idle`);
      for (const c of [...cases, ...targetCases]) runs.push(await runCase(c, 'idle', round));
      memory[`API process, after idle round ${round}`] = api.memory();
      if (targetRate <= 0) continue;
      progress(`round ${round}/${flags.runs}: under ingest, churn at ${fmt(targetRate)} events/s`);
      const producer = await startProducerProcess({
        ...churnOf(pipeline, flags.scale, flags.seed, CHURN_FACTOR),
        skip: churnUsed,
        rate: targetRate,
      });
      producerPid = producer.pid;
      // The window starts once the producer runs (its start-up, which skips what was published, is not ingest).
      await projector.window();
      const lagSampler = sampleEvery(1000, () => pipeline!.lag());
      await sleep(2000);
      for (const c of cases) runs.push(await runCase(c, 'ingest', round));
      const produced = await producer.stop();
      const window = await projector.window();
      churnUsed += produced.sent;
      const lags = await lagSampler.stop();
      const t = performance.now();
      const catchUp = await pipeline.waitSearchable(await pipeline.endOffsets(), 300_000);
      ingestRounds.push({
        round,
        sent: produced.sent,
        rate: produced.rate,
        maxBehind: produced.maxBehind,
        lagMax: Math.max(0, ...lags),
        lagEnd: lags[lags.length - 1] ?? 0,
        catchUpMs: catchUp || performance.now() - t,
        projector: window,
      });
      progress(
        `  produced ${fmt(produced.sent)} events at ${fmt(produced.rate)}/s; projector lag max ${fmt(Math.max(0, ...lags))}, caught up ${fmt(catchUp)} ms after the producer stopped`,
      );
      progress(`  ${describeWindow(window)}`);
      memory[`API process, after ingest round ${round}`] = api.memory();
      memory[`projector process, after ingest round ${round}`] = processMemory('self');
    }
    const apiLogProblems = api.logProblems();

    const summary = summarize(runs);
    const overhead = overheads(summary, runs);
    const goals: GoalRow[] = [];
    for (const o of overhead)
      goals.push({
        goal: `${o.route}: API overhead at p50 ≤ 2 ms`,
        condition: o.condition,
        connections: o.connections,
        measured: o.overheadP50,
        limit: 2,
        met: o.overheadP50 <= 2,
      });
    for (const s of summary.filter((r) => r.route === 'summary' && r.via === 'api'))
      goals.push({ goal: 'summary: API p99 ≤ 5 ms', condition: s.condition, connections: s.connections, measured: s.p99, limit: 5, met: s.p99 <= 5 });

    return {
      bench: 'api-latency',
      at: new Date().toISOString(),
      options: { ...flags, levels, ingestRate: targetRate, publishIntervalMs: ns.config.publishIntervalMs },
      machine,
      dataset: { events: published.total, accounts: history.accounts.length, users: users.count, drain: { joinMs: projector.joinMs, drainMs, eventsPerSecond: drainRate } },
      capacity,
      capacityWindow,
      ingest: { targetRate, rounds: ingestRounds },
      items: samples.length,
      targets,
      cases: runs,
      memory,
      apiLogProblems,
      summary,
      overhead,
      goals,
    };
  } finally {
    await worker?.close().catch(() => undefined);
    await api?.stop().catch(() => undefined);
    await projector?.stop().catch((error) => progress(`projector stop failed: ${(error as Error).message}`));
    await pipeline?.close();
    await rm(logFile, { force: true });
    progress(`deleting namespace ${ns.prefix}`);
    await ns.cleanup().catch((error) => progress(`cleanup of ${ns.prefix} failed: ${(error as Error).message}`));
  }
}

function summarize(runs: CaseRun[]): SummaryRow[] {
  const groups = new Map<string, CaseRun[]>();
  for (const r of runs) {
    const key = `${r.condition}|${r.route}|${r.via}|${r.connections}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()].map((list) => {
    const first = list[0]!;
    return {
      condition: first.condition,
      route: first.route,
      via: first.via,
      connections: first.connections,
      p50: median(list.map((r) => r.result.stats.p50)),
      p99: median(list.map((r) => r.result.stats.p99)),
      rps: median(list.map((r) => r.result.stats.rps)),
      errors: list.reduce((a, r) => a + r.result.stats.errors, 0),
      ...(first.via === 'api' ? { apiCpuMsPerRequest: median(list.map((r) => r.apiCpuMsPerRequest ?? Number.NaN)) } : {}),
      rounds: list.map((r) => ({ p50: r.result.stats.p50, p99: r.result.stats.p99, rps: r.result.stats.rps })),
    };
  });
}

/** API p50 minus direct p50, per round, then the median of those differences. */
function overheads(summary: SummaryRow[], runs: CaseRun[]): OverheadRow[] {
  const out: OverheadRow[] = [];
  for (const api of summary.filter((s) => s.via === 'api')) {
    const route = api.route;
    if (isTarget(route)) continue;
    const direct = DIRECT[route];
    const find = (via: string, round: number) =>
      runs.find((r) => r.condition === api.condition && r.route === api.route && r.via === via && r.connections === api.connections && r.round === round);
    const rounds = runs
      .filter((r) => r.condition === api.condition && r.route === api.route && r.via === 'api' && r.connections === api.connections)
      .map((r) => r.result.stats.p50 - (find(direct, r.round)?.result.stats.p50 ?? Number.NaN));
    const directRow = summary.find((s) => s.condition === api.condition && s.route === api.route && s.via === direct && s.connections === api.connections);
    const pathRow = summary.find((s) => s.condition === api.condition && s.route === api.route && s.via === PATH[route] && s.connections === api.connections);
    out.push({
      condition: api.condition,
      route: api.route,
      connections: api.connections,
      direct,
      apiP50: api.p50,
      directP50: directRow?.p50 ?? Number.NaN,
      overheadP50: median(rounds),
      ...(pathRow ? { pathP50: pathRow.p50 } : {}),
      rounds,
    });
  }
  return out;
}

export function formatApiReport(report: ApiLatencyReport): string {
  const m = report.machine;
  const viaName = (via: string) => (via === 'api' ? 'API' : `direct: ${via}`);
  const latency = table(
    ['condition', 'route', 'via', 'conn', 'p50 ms', 'p99 ms', 'req/s', 'errors', 'API CPU ms/req', 'p50 per round', 'p99 per round'],
    report.summary.map((s) => [
      s.condition,
      s.route,
      viaName(s.via),
      String(s.connections),
      fmt(s.p50, 2),
      fmt(s.p99, 2),
      fmt(s.rps),
      String(s.errors),
      s.apiCpuMsPerRequest === undefined ? '' : fmt(s.apiCpuMsPerRequest, 2),
      s.rounds.map((r) => fmt(r.p50, 2)).join(' / '),
      s.rounds.map((r) => fmt(r.p99, 2)).join(' / '),
    ]),
  );
  const overhead = table(
    ['condition', 'route', 'conn', 'API p50', 'direct p50', 'overhead p50 (median of rounds)', 'per round', 'API server path p50'],
    report.overhead.map((o) => [
      o.condition,
      o.route,
      String(o.connections),
      fmt(o.apiP50, 2),
      `${fmt(o.directP50, 2)} (${o.direct})`,
      fmt(o.overheadP50, 2),
      o.rounds.map((r) => fmt(r, 2)).join(' / '),
      o.pathP50 === undefined ? '' : fmt(o.pathP50, 2),
    ]),
  );
  const goals = table(
    ['goal', 'condition', 'conn', 'measured ms', 'limit ms', 'met'],
    report.goals.map((g) => [g.goal, g.condition, String(g.connections), fmt(g.measured, 2), fmt(g.limit, 0), g.met ? 'yes' : `no (+${fmt(g.measured - g.limit, 2)} ms)`]),
  );
  const memory = table(
    ['process', 'rss', 'peak rss'],
    Object.entries(report.memory).map(([k, v]) => [k, mib(v.rss), mib(v.peakRss)]),
  );
  const ingest = table(
    [
      'round',
      'sent',
      'events/s',
      'max lag (projector)',
      'catch-up ms',
      'projector events/s',
      'event loop busy %',
      'projector cores',
      'API + worker + producer cores',
      'other users cores',
      'machine cores busy',
    ],
    report.ingest.rounds.map((r) => [
      String(r.round),
      fmt(r.sent),
      fmt(r.rate),
      fmt(r.lagMax),
      fmt(r.catchUpMs),
      fmt((r.projector.events * 1000) / r.projector.ms),
      fmt(100 * r.projector.eventLoopUtilization),
      fmt(r.projector.cores.self, 2),
      fmt(
        Object.values(r.projector.cores.others).reduce((a, b) => a + b, 0),
        2,
      ),
      fmt(r.projector.cores.rest, 2),
      fmt(r.projector.cores.machine, 2),
    ]),
  );
  return [
    `API latency, benchPreset(${report.options.scale}) dataset: ${fmt(report.dataset.events)} events, ${report.dataset.accounts} accounts, ${fmt(report.dataset.users)} user documents; ${report.items} request items; ${report.options.runs} round(s) of ${report.options['duration-s']} s per case (+${report.options['warmup-s']} s warm-up)`,
    `machine: ${m.cores} cores, ${m.memoryGiB} GiB, ${m.cpuModel}; Node ${m.node}; Kafka ${m.kafka}; OpenSearch ${m.opensearch}; Redis ${m.redis}; load average at start ${m.loadAverage}`,
    `code: ${m.source.commit}${m.source.uncommitted.length > 0 ? ` with uncommitted changes in ${m.source.uncommitted.join(', ')}` : ''}`,
    ...(report.targets
      ? [
          `target routes (idle, API): largest account ${report.targets.accountId} (${fmt(report.targets.users)} user documents); inboxes = GET /inboxes (${report.targets.inbox.inboxes} inboxes); ` +
            `users?inbox_id = ${report.targets.inbox.id} (${report.targets.inbox.name}, ${fmt(report.targets.inbox.users)} users, the most reached); users?cc_queue_id = ${report.targets.queue.id} (${report.targets.queue.name}, ${fmt(report.targets.queue.users)} users, the most of ${report.targets.queue.queues} queues); first page, size 50; ` +
            `as_of ${AS_OF}; users/{id}?as_of = the drill-down of ${report.targets.userId}`,
        ]
      : []),
    `dataset drain: ${fmt(report.dataset.drain.eventsPerSecond)} events/s (join ${fmt(report.dataset.drain.joinMs / 1000, 1)} s, drain ${fmt(report.dataset.drain.drainMs / 1000, 1)} s); capacity on churn ${fmt(report.capacity.eventsPerSecond)} events/s (${fmt(report.capacity.events)} events); ingest target ${fmt(report.ingest.targetRate)} events/s`,
    '',
    latency,
    '',
    // (empty under --only targets)
    ...(report.overhead.length > 0 ? [overhead, ''] : []),
    ...(report.goals.length > 0 ? [goals, ''] : []),
    ...(report.ingest.rounds.length > 0 ? [ingest, ''] : []),
    memory,
    '',
    `API log warnings/errors: ${JSON.stringify(report.apiLogProblems)}`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const flags = parseFlags('tsx bench/api-latency.ts', API_FLAGS);
  await emitReport(await runApiLatencyBench(flags), flags, formatApiReport);
}

runIfMain(import.meta.url, main);

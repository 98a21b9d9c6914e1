/**
 * Time to repair after an emptied Redis (issue 12): a running `access-index start` process finds
 * its Redis empty while Kafka and OpenSearch kept everything, refuses every report (503
 * index_unavailable), rebuilds the namespace from Kafka into a new generation and swaps.
 *
 *   1. a fresh namespace, benchPreset(scale) published; a private redis-server for the service
 *      (src/services/redis-process.ts: its own port and directory, the arguments `services up`
 *      uses), so that emptying it touches nothing else;
 *   2. the real `access-index start` drains the history: the drain time, until every produced
 *      offset is searchable;
 *   3. the private Redis is SIGKILLed and started again with an empty data directory (a restart
 *      without persistence); t0 = the moment it answers PING again;
 *   4. from t0, a summary and a users listing of one account are polled every `--poll-ms`, with
 *      `min_position` = the topics' end offsets and `wait_ms=0`: the first 503 (detection), and the
 *      first round where both answer 200 again, which reflects every produced event (the time to
 *      repair, as a client sees it); from the service's log: when it said the stores disagree, and
 *      its 'repair done' line (generation, events, seconds of the rebuild). No 200 may come before
 *      that line, and the answers after the repair must equal those before the fault.
 *
 *   npx tsx bench/repair-time.ts [--scale 0.05] [--runs 3] [--seed 42] [--json] [--out file]
 *
 * Only 127.0.0.1; the namespace is deleted, the service and the private Redis are killed at the
 * end, also on error and on Ctrl-C.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { READ_SCOPE } from '../src/api/auth.ts';
import { mintToken } from '../src/api/tokens.ts';
import { benchPreset, generateHistory } from '../src/demo/generator.ts';
import { parseFlags } from './support/args.ts';
import { type BenchNamespace, createBenchNamespace } from './support/bench-namespace.ts';
import { openLivePipeline, publishDataset } from './support/live-pipeline.ts';
import { freePort } from '../src/services/ports.ts';
import { productEnv } from './support/load.ts';
import { describeMachine, type MachineInfo } from './support/machine.ts';
import { type RedisProcess, startRedisProcess } from '../src/services/redis-process.ts';
import { emitReport, fmt, median, progress, runIfMain, table } from './support/report.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const REPAIR_FLAGS = {
  scale: { default: 0.05, help: 'benchPreset scale (issue 12 asks for 0.05)', min: 0.001, max: 1 },
  seed: { default: 42, help: 'generator seed', min: 0, max: 0xffffffff },
  runs: { default: 3, help: 'repetitions, each in a fresh namespace with a fresh private Redis; medians are reported', min: 1, max: 10 },
  'timeout-s': { default: 900, help: 'upper bound of the drain before the fault, in seconds', min: 10, max: 10800 },
  'repair-timeout-s': { default: 600, help: "upper bound of the wait for the repair (the 'repair done' line and 200s), in seconds", min: 10, max: 10800 },
  'poll-ms': { default: 100, help: 'interval of the polled rounds (a summary and a listing each)', min: 20, max: 2000 },
  out: { default: '', help: 'also write the JSON report to this file' },
  json: { default: false, help: 'print the JSON report on stdout instead of the table' },
} as const;

type RepairFlags = ReturnType<typeof parseFlags<typeof REPAIR_FLAGS>>;

/* ------------------------------------------------------------------ what must die with the bench */

const children = new Set<ChildProcess>();
const redises = new Set<RedisProcess>();

function killEverything(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const redis of redises) redis.stopSync();
}

/** Registered before bench-namespace's handlers, so the service dies before its namespace is deleted. */
function installKillHandlers(): void {
  process.on('exit', killEverything);
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.on(signal, () => {
      killEverything();
      if (process.listenerCount(signal) === 1) process.exit(130);
    });
}

/* ------------------------------------------------------------------ the service */

interface LogLine {
  /** performance.now() when the line arrived */
  at: number;
  /** the line's own time (epoch ms) */
  time: number;
  line: Record<string, unknown>;
}

interface Service {
  url: string;
  logFile: string;
  lines: LogLine[];
  exited(): boolean;
  /** the last log lines, without the API's request lines */
  tail(count: number): string[];
  stop(): Promise<void>;
}

/** The API's lines about single requests (the request log, 'request not answered'). */
const isRequestLine = (l: Record<string, unknown>) => l.component === 'api' && 'req_id' in l;

/** `access-index start` on a free port; its JSON log lines parsed as they come (and kept in `logFile`). */
async function startService(env: NodeJS.ProcessEnv, logFile: string, onLine: (l: LogLine) => void): Promise<Service> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'access-index.js'), 'start', '--host', '127.0.0.1'], {
    cwd: repoRoot,
    env: { ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const file = createWriteStream(logFile);
  const lines: LogLine[] = [];
  let buffer = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    file.write(chunk);
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const text = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        continue;
      }
      const entry = { at: performance.now(), time: Date.parse(String(line.time)), line };
      lines.push(entry);
      onLine(entry);
    }
  });
  child.stderr.on('data', (chunk: Buffer) => file.write(chunk));
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  return {
    url: `http://127.0.0.1:${port}`,
    logFile,
    lines,
    exited,
    tail: (count) =>
      lines
        .filter((l) => !isRequestLine(l.line))
        .slice(-count)
        .map((l) => JSON.stringify(l.line)),
    async stop() {
      if (!exited()) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await gone;
        clearTimeout(force);
      }
      children.delete(child);
      await new Promise((r) => file.end(r));
    },
  };
}

/* ------------------------------------------------------------------ polling the API */

interface Answer {
  endpoint: 'summary' | 'users';
  /** ms after t0 when the answer arrived */
  atMs: number;
  /** epoch ms when the answer arrived */
  wall: number;
  status: number;
  /** problem code and fault of a non-200 ('' for a 200) */
  kind: string;
  body: Record<string, unknown> | undefined;
}

async function ask(url: string, token: string, endpoint: Answer['endpoint'], t0: number): Promise<Answer> {
  try {
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
    const body = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    const code = typeof body?.type === 'string' ? body.type.split(':').pop()! : 'unknown';
    const kind = response.status === 200 ? '' : `${response.status} ${code}${body?.fault ? ` (${String(body.fault)})` : ''}`;
    return { endpoint, atMs: performance.now() - t0, wall: Date.now(), status: response.status, kind, body };
  } catch (error) {
    return { endpoint, atMs: performance.now() - t0, wall: Date.now(), status: 0, kind: `no answer: ${(error as Error).name}`, body: undefined };
  }
}

function timelineOf(answers: readonly Answer[]): RepairRun['timeline'] {
  const out: RepairRun['timeline'] = [];
  for (const a of [...answers].sort((x, y) => x.atMs - y.atMs)) {
    const kind = a.status === 200 ? '200' : a.kind;
    const last = out[out.length - 1];
    if (last?.kind === kind) {
      last.toMs = a.atMs;
      last.count += 1;
    } else out.push({ kind, fromMs: a.atMs, toMs: a.atMs, count: 1 });
  }
  return out;
}

/** An answer without what may change between two reads of the same state. */
const comparable = (body: Record<string, unknown> | undefined) => JSON.stringify({ ...body, position: undefined });

/* ------------------------------------------------------------------ one run */

export interface RepairRun {
  namespace: string;
  account: string;
  events: number;
  accounts: number;
  users: number;
  drainMs: number;
  repaired: boolean;
  /** ms after t0; NaN when it did not happen */
  firstRefusalMs: number;
  firstRedisLostRefusalMs: number;
  disagreeLogMs: number;
  repairStartLogMs: number;
  /** the rebuild's 'Generation gN is live' line */
  swapLogMs: number;
  /** the integrity monitor's 'the stores agree; serving' after the rebuild started */
  servingLogMs: number;
  repairDoneLogMs: number;
  /** first round where both answered 200 (every event reflected), ms after t0 */
  apiRepairMs: number;
  service: { generation: string; events: number; seconds: number } | undefined;
  answers: number;
  refusals: Record<string, number>;
  /** 200s that arrived before the 'repair done' line's own time */
  earlyOks: { endpoint: string; atMs: number; beforeLineMs: number }[];
  /** non-200 answers after the first all-200 round */
  afterRepairRefusals: number;
  /** the polled answers, consecutive ones of the same kind together ('200' for a 200) */
  timeline: { kind: string; fromMs: number; toMs: number; count: number }[];
  sameAnswers: boolean;
  logFile: string;
  logTail?: string[];
}

export async function runOnce(flags: RepairFlags, i: number): Promise<RepairRun> {
  const redis = await startRedisProcess({ asServicesUp: true });
  redises.add(redis);
  // The namespace's cleanup runs against the configured servers; the service's Redis is the private one.
  const ns: BenchNamespace = createBenchNamespace(process.env);
  const config = { ...ns.config, redisUrl: redis.url };
  progress(`run ${i + 1}/${flags.runs}: namespace ${ns.prefix}, private Redis ${redis.url} in ${redis.dir}`);
  let service: Service | undefined;
  try {
    const preset = benchPreset(flags.scale);
    const pipeline = await openLivePipeline({ ...ns, config });
    let published: Awaited<ReturnType<typeof publishDataset>>;
    let users: number;
    let drainMs: number;
    const secret = randomBytes(36).toString('base64');
    let t0 = Number.NaN;
    const marks = { disagree: Number.NaN, start: Number.NaN, swap: Number.NaN, serving: Number.NaN, done: Number.NaN, doneTime: Number.NaN };
    let outcome: RepairRun['service'];
    const onLine = ({ at, time, line }: LogLine) => {
      if (isRequestLine(line)) return;
      const level = Number(line.level);
      if (Number.isNaN(t0)) {
        if (level >= 50) progress(`    service (before the fault): ${String(line.msg)}`);
        return;
      }
      if (line.msg === 'the stores disagree; reports are refused' && line.fault === 'redis_lost' && Number.isNaN(marks.disagree)) marks.disagree = at - t0;
      if (String(line.msg).startsWith('rebuilding the namespace from Kafka') && Number.isNaN(marks.start)) marks.start = at - t0;
      if (line.repair !== undefined && /^Generation \S+ is live/.test(String(line.msg))) marks.swap = at - t0;
      if (line.msg === 'the stores agree; serving' && !Number.isNaN(marks.start) && Number.isNaN(marks.serving)) marks.serving = at - t0;
      if (line.msg === 'repair done: the rebuilt generation is live') {
        marks.done = at - t0;
        marks.doneTime = time;
        outcome = { generation: String(line.generation), events: Number(line.events), seconds: Number(line.seconds) };
      }
      if (line.repair !== undefined || level >= 40 || String(line.msg).startsWith('repair done'))
        progress(`    service +${fmt((at - t0) / 1000, 1)} s: ${String(line.msg)}${line.fault ? ` [${String(line.fault)}]` : ''}`);
    };
    try {
      progress(`  publishing benchPreset(${flags.scale}) with seed ${flags.seed}`);
      published = await publishDataset(pipeline, generateHistory({ seed: flags.seed, ...preset }));
      progress('  `access-index start` (projector and API, the private Redis) drains it');
      const started = performance.now();
      service = await startService(productEnv(config, { ACCESS_INDEX_JWT_SECRET: secret, LOG_LEVEL: 'info' }), join(tmpdir(), `${ns.prefix}-start.log`), onLine);
      const running = service;
      await Promise.race([
        pipeline.waitSearchable(published.lastOffsets, flags['timeout-s'] * 1000, (searchable, waitedMs) =>
          progress(`    ${fmt(searchable)} of ${fmt(published.total)} events searchable after ${fmt(waitedMs / 1000)} s`),
        ),
        (async () => {
          while (!running.exited()) await new Promise((r) => setTimeout(r, 200));
          throw new Error(`access-index start exited during the drain; see ${running.logFile}:\n${running.tail(15).join('\n')}`);
        })(),
      ]);
      drainMs = performance.now() - started;
      users = Number((await pipeline.clients.opensearch.count({ index: pipeline.indices.users })).body.count);
      progress(`  drained in ${fmt(drainMs / 1000, 1)} s (${fmt((published.total * 1000) / drainMs)} events/s); ${fmt(users)} user documents`);
    } finally {
      await pipeline.close();
    }

    // One account whose listing fits one page (a listing with a next page keeps a point in time open for 5 minutes).
    const account = [...preset.accounts].sort((a, b) => b.agents - a.agents).find((a) => a.agents <= 800) ?? preset.accounts[preset.accounts.length - 1]!;
    const token = await mintToken({ secret, accountId: account.id, scope: READ_SCOPE, sub: 'bench', ttlSeconds: 3600 });
    const minPosition = encodeURIComponent([...published.lastOffsets].map(([field, offset]) => `${field}:${offset}`).join(','));
    const base = `${service.url}/v1/accounts/${encodeURIComponent(account.id)}/access`;
    const urls = (waitMs: number) => ({
      summary: `${base}/summary?min_position=${minPosition}&wait_ms=${waitMs}`,
      users: `${base}/users?size=1000&min_position=${minPosition}&wait_ms=${waitMs}`,
    });
    const before = { summary: await ask(urls(30_000).summary, token, 'summary', 0), users: await ask(urls(30_000).users, token, 'users', 0) };
    if (before.summary.status !== 200 || before.users.status !== 200)
      throw new Error(`the reads before the fault did not answer 200: ${before.summary.kind} / ${before.users.kind}`);
    if (before.users.body?.next_cursor) progress(`  WARNING: the listing of ${account.id} has a next page (its point in time stays open)`);
    progress(`  account ${account.id}: ${fmt(Number(before.users.body?.total))} users listed; emptying the private Redis (SIGKILL, restart with an empty data directory)`);

    t0 = await redis.start({ from: 'empty' });
    progress('  Redis answers again, empty: polling the summary and the listing');
    const answers: Answer[] = [];
    let allOkMs = Number.NaN;
    let afterRound: Answer[] | undefined;
    let reported = performance.now();
    const deadline = t0 + flags['repair-timeout-s'] * 1000;
    // Until both answer 200 and the service said 'repair done', then 2 s more (steady 200s expected).
    while (performance.now() < deadline && !service.exited()) {
      const round = performance.now();
      const [summary, listing] = await Promise.all([ask(urls(0).summary, token, 'summary', t0), ask(urls(0).users, token, 'users', t0)]);
      answers.push(summary, listing);
      if (Number.isNaN(allOkMs) && summary.status === 200 && listing.status === 200) {
        allOkMs = Math.max(summary.atMs, listing.atMs);
        afterRound = [summary, listing];
        progress(`  both answer 200 with every event ${fmt(allOkMs / 1000, 2)} s after t0`);
      }
      if (!Number.isNaN(allOkMs) && !Number.isNaN(marks.done) && performance.now() - t0 > Math.max(allOkMs, marks.done) + 2_000) break;
      if (performance.now() - reported >= 2_000) {
        reported = performance.now();
        const repair = (listing.body?.repair ?? summary.body?.repair) as { phase?: string; done?: number; total?: number } | undefined;
        progress(
          `    +${fmt((reported - t0) / 1000, 1)} s: ${summary.kind || '200'} / ${listing.kind || '200'}${repair ? `; repair ${repair.phase} ${fmt(repair.done ?? 0)} of ${fmt(repair.total ?? 0)}` : ''}`,
        );
      }
      await new Promise((r) => setTimeout(r, Math.max(0, flags['poll-ms'] - (performance.now() - round))));
    }

    const refusals: Record<string, number> = {};
    for (const a of answers) if (a.status !== 200) refusals[a.kind] = (refusals[a.kind] ?? 0) + 1;
    const firstAt = (match: (a: Answer) => boolean) => answers.find(match)?.atMs ?? Number.NaN;
    const earlyOks = answers
      .filter((a) => a.status === 200 && !(a.wall >= marks.doneTime))
      .map((a) => ({ endpoint: a.endpoint, atMs: a.atMs, beforeLineMs: Number.isNaN(marks.doneTime) ? Number.NaN : marks.doneTime - a.wall }));
    const repaired = outcome !== undefined && !Number.isNaN(allOkMs);
    const run: RepairRun = {
      namespace: ns.prefix,
      account: account.id,
      events: published.total,
      accounts: preset.accounts.length,
      users,
      drainMs,
      repaired,
      firstRefusalMs: firstAt((a) => a.status === 503),
      firstRedisLostRefusalMs: firstAt((a) => a.status === 503 && a.kind.includes('(redis_lost)')),
      disagreeLogMs: marks.disagree,
      repairStartLogMs: marks.start,
      swapLogMs: marks.swap,
      servingLogMs: marks.serving,
      repairDoneLogMs: marks.done,
      apiRepairMs: allOkMs,
      service: outcome,
      answers: answers.length,
      refusals,
      earlyOks,
      afterRepairRefusals: answers.filter((a) => a.atMs > allOkMs && a.status !== 200).length,
      timeline: timelineOf(answers),
      sameAnswers:
        afterRound !== undefined && comparable(afterRound[0]!.body) === comparable(before.summary.body) && comparable(afterRound[1]!.body) === comparable(before.users.body),
      logFile: service.logFile,
    };
    if (!repaired) {
      run.logTail = service.tail(30);
      progress(
        `  NO REPAIR within ${flags['repair-timeout-s']} s (${outcome ? "'repair done' logged" : "no 'repair done' line"}, ${Number.isNaN(allOkMs) ? 'never 200 again' : '200 again'}${service.exited() ? ', the service exited' : ''}); its last log lines (request lines left out):\n${run.logTail.join('\n')}`,
      );
    } else
      progress(
        `  repaired: 200 with every event after ${fmt(allOkMs / 1000, 2)} s; the service rebuilt ${outcome!.generation} (${fmt(outcome!.events)} events) in ${fmt(outcome!.seconds, 1)} s; ${fmt(answers.length)} answers, refusals ${JSON.stringify(refusals)}`,
      );
    if (earlyOks.length > 0)
      progress(
        `  WARNING: ${earlyOks.length} answers were 200 before the 'repair done' line's time (the first ${fmt(Math.min(...earlyOks.map((e) => e.atMs)))} ms after t0, ${fmt(Math.max(...earlyOks.map((e) => e.beforeLineMs)))} ms before the line; the swap was logged ${fmt(marks.swap)} ms after t0)`,
      );
    if (run.afterRepairRefusals > 0) progress(`  WARNING: ${run.afterRepairRefusals} answers were not 200 after the first all-200 round`);
    if (repaired && !run.sameAnswers) progress('  WARNING: the answers after the repair differ from those before the fault');
    if (outcome && outcome.events !== published.total) progress(`  WARNING: the repair replayed ${outcome.events} events, ${published.total} were published`);
    return run;
  } finally {
    await service?.stop();
    progress(`  deleting namespace ${ns.prefix}; stopping the private Redis`);
    await ns.cleanup().catch((error) => progress(`  cleanup of ${ns.prefix} failed: ${(error as Error).message}`));
    await redis.stop();
    redises.delete(redis);
  }
}

/* ------------------------------------------------------------------ the report */

export interface RepairReport {
  bench: 'repair-time';
  at: string;
  options: Record<string, unknown>;
  machine: MachineInfo;
  runs: RepairRun[];
  medians: Record<string, number>;
}

function figures(r: RepairRun): Record<string, number> {
  return {
    events: r.events,
    accounts: r.accounts,
    'users (documents)': r.users,
    'drain s (access-index start)': r.drainMs / 1000,
    'detection ms (first 503 after t0)': r.firstRefusalMs,
    '  first 503 naming redis_lost ms': r.firstRedisLostRefusalMs,
    "  log 'stores disagree' (redis_lost) ms": r.disagreeLogMs,
    "  log 'rebuilding the namespace' s": r.repairStartLogMs / 1000,
    "  log 'Generation … is live' (swap) s": r.swapLogMs / 1000,
    "  log 'the stores agree; serving' s": r.servingLogMs / 1000,
    'repair s, API view (200 with every event)': r.apiRepairMs / 1000,
    "  log 'repair done' s": r.repairDoneLogMs / 1000,
    "  the service's rebuild s (its own figure)": r.service?.seconds ?? Number.NaN,
    'repair events/s (events ÷ service s)': r.service ? r.events / r.service.seconds : Number.NaN,
    'repair events/s (events ÷ API view s)': (r.events * 1000) / r.apiRepairMs,
    'polled answers': r.answers,
    '  503s': Object.entries(r.refusals)
      .filter(([k]) => k.startsWith('503'))
      .reduce((a, [, n]) => a + n, 0),
    '  other non-200s': Object.entries(r.refusals)
      .filter(([k]) => !k.startsWith('503'))
      .reduce((a, [, n]) => a + n, 0),
    "  200s before the 'repair done' line": r.earlyOks.length,
  };
}

export function formatRepairReport(report: RepairReport): string {
  const perRun = report.runs.map(figures);
  const digits = (name: string) => (/ s$| s[ ,)]/.test(name) && !name.includes('events/s') ? 1 : 0);
  const rows = Object.keys(report.medians).map((name) => [name, ...perRun.map((f) => fmt(f[name]!, digits(name))), fmt(report.medians[name]!, digits(name))]);
  const m = report.machine;
  return [
    `repair time after an emptied Redis, benchPreset(${report.options.scale}), seed ${report.options.seed}, ${report.runs.length} run(s), medians in the last column; times after t0 = the service's Redis answers again, empty`,
    `machine: ${m.cores} cores, ${m.memoryGiB} GiB, ${m.cpuModel}; Node ${m.node}; Kafka ${m.kafka}; OpenSearch ${m.opensearch}; Redis ${m.redis}; load average at start ${m.loadAverage}`,
    `code: ${m.source.commit}${m.source.uncommitted.length > 0 ? ` with uncommitted changes in ${m.source.uncommitted.join(', ')}` : ''}`,
    '',
    table(['figure', ...report.runs.map((_, i) => `run ${i + 1}`), 'median'], rows),
    '',
    ...report.runs.map(
      (r, i) =>
        `run ${i + 1}: ${r.repaired ? `repaired into ${r.service!.generation}` : 'NOT REPAIRED'}; polled ${r.account}; answers after the repair ${r.sameAnswers ? 'equal' : 'DIFFER FROM'} those before the fault; non-200s: ${
          Object.entries(r.refusals)
            .map(([k, n]) => `${n}× ${k}`)
            .join(', ') || 'none'
        }`,
    ),
    ...report.runs.map(
      (r, i) => `run ${i + 1} answers after t0: ${r.timeline.map((t) => `${t.count}× ${t.kind} (${fmt(t.fromMs / 1000, 2)}–${fmt(t.toMs / 1000, 2)} s)`).join(' → ')}`,
    ),
    ...report.runs.flatMap((r, i) => (r.logTail ? [`run ${i + 1}: the service's last log lines:`, ...r.logTail] : [])),
    '',
  ].join('\n');
}

export async function runRepairBench(flags: RepairFlags): Promise<RepairReport> {
  const probe = createBenchNamespace();
  const machine = await describeMachine(probe.config);
  await probe.cleanup();
  progress(
    `machine: ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.cpuModel}; Node ${machine.node}, Kafka ${machine.kafka}, OpenSearch ${machine.opensearch}, Redis ${machine.redis}; load ${machine.loadAverage}`,
  );
  const runs: RepairRun[] = [];
  for (let i = 0; i < flags.runs; i++) {
    const run = await runOnce(flags, i);
    runs.push(run);
    // A service that does not repair is a finding; more runs would only repeat it.
    if (!run.repaired) break;
  }
  const perRun = runs.map(figures);
  const medians = Object.fromEntries(Object.keys(perRun[0] ?? {}).map((k) => [k, median(perRun.map((f) => f[k]!))]));
  return { bench: 'repair-time', at: new Date().toISOString(), options: { ...flags }, machine, runs, medians };
}

async function main(): Promise<void> {
  installKillHandlers();
  const flags = parseFlags('tsx bench/repair-time.ts', REPAIR_FLAGS);
  const report = await runRepairBench(flags);
  await emitReport(report, flags, formatRepairReport);
  // A service that did not repair is a finding: the command says so.
  if (report.runs.some((r) => !r.repaired)) process.exit(1);
}

runIfMain(import.meta.url, main);

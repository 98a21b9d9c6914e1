/**
 * Acceptance: "`access-index services down` stops what `services up` started and nothing else."
 *
 * Why a private network namespace: the ports are fixed constants (Kafka 9092 + 9093, OpenSearch
 * 9200, Redis 6379), and the servers on them in the normal network are shared by every other
 * integration test file, so this test may neither stop them nor let `services up` simply find them.
 * Inside a new network namespace (`unshare -n`, entered with `nsenter -n`) 127.0.0.1 is a fresh
 * loopback where nothing listens: `services up` really starts Kafka, OpenSearch and Redis there, and
 * the test can put its own "foreign" Redis (and a decoy) on that loopback that `down` must leave
 * alone. Only the network is private; pids are shared with the host, so the test checks the
 * processes themselves. A fresh ACCESS_INDEX_CACHE keeps the pid files apart from the suite's.
 *
 * Needs root (to create the namespace) and redis-server/redis-cli; skipped otherwise.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveServicePaths } from '../../src/services/paths.ts';
import { commandLineOf, findPortHolder, isAlive, readPidFile, sleep } from '../../src/services/process-control.ts';
import { probeKafka, probeOpenSearch, probeRedis } from '../../src/services/readiness.ts';
import { serverAddresses } from '../helpers/servers.ts';

const BIN = fileURLToPath(new URL('../../bin/access-index.js', import.meta.url));

const ok = (command: string, args: string[]): boolean => spawnSync(command, args, { stdio: 'ignore' }).status === 0;
const CAN_UNSHARE = ok('unshare', ['-n', 'true']) && ok('nsenter', ['--version']) && ok('ip', ['-V']);
const HAS_REDIS = ok('redis-server', ['--version']) && ok('redis-cli', ['--version']);
const SKIP_REASON = !CAN_UNSHARE
  ? ' [SKIPPED: cannot create a network namespace (`unshare -n` needs root, plus nsenter and ip)]'
  : !HAS_REDIS
    ? ' [SKIPPED: redis-server / redis-cli not installed]'
    : '';

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion and collects its output (never rejects on a non-zero exit). */
function exec(command: string, args: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 120_000): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A table line of `services up | status`: "<Label>  up|down  <origin>  pid N ...". */
function row(output: string, label: string): { up: boolean; origin: string; pid?: number } {
  const line = output.split('\n').find((l) => new RegExp(`^${label}\\s+(up|down)\\b`).test(l));
  if (!line) throw new Error(`no ${label} line in:\n${output}`);
  const [, state, rest = ''] = /^\S+\s+(up|down)\s+(.*)$/.exec(line) ?? [];
  const pid = /\bpid (\d+)/.exec(rest)?.[1];
  return { up: state === 'up', origin: rest.replace(/\s{2,}.*$/, ''), ...(pid ? { pid: Number(pid) } : {}) };
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * Makes Maven's records of what Central does not have (the OpenSearch zip's missing POM) two days
 * old, as they are on the first run after midnight: Maven's "daily" policy then asks Central again,
 * which the namespace cannot reach. `up` must take what ~/.m2 holds without asking.
 */
function ageMavenNotFoundRecords(dir = join(homedir(), '.m2', 'repository', 'org', 'opensearch')): void {
  if (!existsSync(dir)) return;
  const twoDaysAgo = Date.now() - 2 * 86_400_000;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) ageMavenNotFoundRecords(path);
    else if (entry.name.endsWith('.lastUpdated')) writeFileSync(path, readFileSync(path, 'utf8').replace(/(\.lastUpdated=)\d+/g, `$1${twoDaysAgo}`));
  }
}

/** The decoy's port in the namespace: none of the servers' (OpenSearch's transport takes 9300-9400). */
const DECOY_PORT = 18_765;

const STARTED = 'started by `services up`';
const FOUND = 'found (not started by us)';

describe.skipIf(SKIP_REASON !== '')(`services down stops only what services up started (private network namespace)${SKIP_REASON}`, { timeout: 150_000 }, () => {
  let holder: ChildProcess | undefined;
  let netns = '';
  let cache = '';
  /** Processes this file spawned into the namespace itself (foreign Redis, decoy). */
  const ownChildren = new Set<ChildProcess>();

  /** The argv prefix that runs a command inside the namespace. */
  const inNs = (args: string[]): [string, string[]] => ['nsenter', ['-t', String(holder!.pid), '-n', '--', ...args]];

  /** Environment of the CLI: the private cache, and no server addresses inherited from the test run. */
  const cliEnv = (): NodeJS.ProcessEnv => {
    const env: NodeJS.ProcessEnv = { ...process.env, ACCESS_INDEX_CACHE: cache };
    delete env.KAFKA_BROKERS;
    delete env.OPENSEARCH_URL;
    delete env.REDIS_URL;
    return env;
  };
  const cli = (...args: string[]): Promise<Result> => exec(...inNs([process.execPath, BIN, 'services', ...args]), cliEnv());
  const pidFile = (id: 'kafka' | 'opensearch' | 'redis'): string => join(resolveServicePaths(cliEnv()).run, `${id}.pid`);

  /** Live processes in our namespace, the holder excepted. */
  function namespaceProcesses(): number[] {
    const pids: number[] = [];
    if (!netns) return pids;
    for (const entry of readdirSync('/proc')) {
      const pid = Number(entry);
      if (!Number.isInteger(pid) || pid === holder?.pid) continue;
      try {
        if (readlinkSync(`/proc/${pid}/ns/net`) === netns && isAlive(pid)) pids.push(pid);
      } catch {
        // gone, or a zombie
      }
    }
    return pids.sort((a, b) => a - b);
  }

  /** Spawns a long-running process into the namespace; resolves once `ready` says so. */
  async function spawnInNs(args: string[], ready: (pid: number) => Promise<boolean>): Promise<ChildProcess> {
    const [command, argv] = inNs(args);
    const child = spawn(command, argv, { stdio: 'ignore', detached: true });
    ownChildren.add(child);
    child.once('exit', () => ownChildren.delete(child));
    const deadline = Date.now() + 15_000;
    for (;;) {
      const isReady = await ready(child.pid!);
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${args.join(' ')} exited early (${child.exitCode ?? child.signalCode})`);
      if (isReady) return child;
      if (Date.now() > deadline) throw new Error(`${args.join(' ')} not ready in 15 s`);
      await sleep(200);
    }
  }

  /** The pid listening on 127.0.0.1:port inside the namespace (undefined when none). */
  async function listenerPid(port: number): Promise<number | undefined> {
    const { stdout } = await exec(...inNs(['ss', '-ltnpH', `sport = :${port}`]));
    const pid = /pid=(\d+)/.exec(stdout)?.[1];
    return pid ? Number(pid) : undefined;
  }

  async function stopChild(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** Kills everything in the namespace but the holder: what `up` started and what this file did. */
  async function clearNamespace(): Promise<void> {
    for (const id of ['kafka', 'opensearch', 'redis'] as const) {
      const record = cache ? readPidFile(pidFile(id)) : undefined;
      if (record && isAlive(record.pid) && commandLineOf(record.pid)?.includes(record.marker)) kill(record.pid);
    }
    for (const child of [...ownChildren]) await stopChild(child);
    // Anything else still in the namespace was put there by this file.
    for (const pid of namespaceProcesses()) kill(pid);
    const deadline = Date.now() + 10_000;
    while (namespaceProcesses().length > 0 && Date.now() < deadline) await sleep(100);
  }

  const redisPing = async (): Promise<string> => (await exec(...inNs(['redis-cli', '-h', '127.0.0.1', '-p', '6379', 'ping']))).stdout.trim();

  /** The suite's own servers outside the namespace: their port holders now, and whether they answer. */
  async function outside(): Promise<{ answers: Record<string, boolean>; holders: number[] }> {
    const addresses = serverAddresses();
    const [kafka, opensearch, redis] = await Promise.all([probeKafka(addresses.kafkaBrokers), probeOpenSearch(addresses.opensearchUrl), probeRedis(addresses.redisUrl)]);
    const ports = [addresses.kafkaBrokers[0]!, addresses.opensearchUrl, addresses.redisUrl].map((a) => Number(/:(\d+)\/?$/.exec(a)?.[1]));
    const holders = (await Promise.all(ports.map((port) => findPortHolder(port)))).flatMap((h) => (h ? [h.pid] : []));
    return { answers: { kafka: kafka.ok, opensearch: opensearch.ok, redis: redis.ok }, holders };
  }
  const allAnswer = { kafka: true, opensearch: true, redis: true };

  beforeAll(async () => {
    cache = mkdtempSync(join(tmpdir(), 'access-index-services-down-'));
    // As root OpenSearch runs as the service user, who must be able to reach its folder in the cache.
    chmodSync(cache, 0o755);
    holder = spawn('unshare', ['-n', 'sleep', 'infinity'], { stdio: 'ignore' });
    const own = readlinkSync('/proc/self/ns/net');
    const deadline = Date.now() + 5000;
    for (;;) {
      try {
        // Set only once it is the new namespace: afterAll kills every process in `netns`.
        const ns = readlinkSync(`/proc/${holder.pid}/ns/net`);
        if (ns !== own && commandLineOf(holder.pid!)?.startsWith('sleep')) {
          netns = ns;
          break;
        }
      } catch {
        // not there yet
      }
      if (Date.now() > deadline) throw new Error('the namespace holder did not start');
      await sleep(50);
    }
    const lo = await exec(...inNs(['ip', 'link', 'set', 'lo', 'up']));
    expect(lo.code, lo.stderr).toBe(0);
    ageMavenNotFoundRecords();
  });

  afterAll(async () => {
    // Whatever happened above: nothing of ours may outlive the file.
    if (holder?.pid !== undefined && isAlive(holder.pid)) {
      await exec(...inNs([process.execPath, BIN, 'services', 'down']), cliEnv(), 60_000).catch(() => undefined);
    }
    await clearNamespace();
    if (holder) await stopChild(holder);
    if (cache) rmSync(cache, { recursive: true, force: true });
  });

  it('with a foreign Redis on 6379: `down` stops the Kafka and OpenSearch that `up` started, and leaves that Redis running', async () => {
    expect(namespaceProcesses()).toEqual([]);
    const before = await outside();
    expect(before.answers).toEqual(allAnswer);

    const foreign = await spawnInNs(
      ['redis-server', '--port', '6379', '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
      async (pid) => (await listenerPid(6379)) === pid && (await redisPing()) === 'PONG',
    );
    const foreignPid = foreign.pid!;
    expect(commandLineOf(foreignPid)).toMatch(/^redis-server /); // nsenter exec'd into it: same pid

    const up = await cli('up');
    expect(up.code, up.stderr).toBe(0);
    const kafka = row(up.stdout, 'Kafka');
    const opensearch = row(up.stdout, 'OpenSearch');
    const redis = row(up.stdout, 'Redis');
    expect(kafka).toMatchObject({ up: true, origin: STARTED });
    expect(opensearch).toMatchObject({ up: true, origin: STARTED });
    expect(redis).toMatchObject({ up: true, origin: FOUND, pid: foreignPid });
    expect(up.stderr).not.toMatch(/starting Redis/);

    // The pid files name exactly the servers the table names; there is none for the found Redis.
    const kafkaPid = readPidFile(pidFile('kafka'))?.pid;
    const opensearchPid = readPidFile(pidFile('opensearch'))?.pid;
    expect(kafkaPid).toBe(kafka.pid);
    expect(opensearchPid).toBe(opensearch.pid);
    expect(existsSync(pidFile('redis'))).toBe(false);
    for (const pid of [kafkaPid!, opensearchPid!]) {
      expect(isAlive(pid)).toBe(true);
      expect(readlinkSync(`/proc/${pid}/ns/net`)).toBe(netns); // started in the namespace, not outside
      expect(before.holders).not.toContain(pid);
    }

    const down = await cli('down');
    expect(down.code, down.stderr).toBe(0);

    // Started ones gone (a zombie waiting for pid 1 counts as gone), with their pid files.
    expect(isAlive(kafkaPid!)).toBe(false);
    expect(isAlive(opensearchPid!)).toBe(false);
    expect(existsSync(pidFile('kafka'))).toBe(false);
    expect(existsSync(pidFile('opensearch'))).toBe(false);
    // The found Redis untouched: same process, still answering; nothing else left in the namespace.
    expect(isAlive(foreignPid)).toBe(true);
    expect(foreign.exitCode).toBeNull();
    expect(await redisPing()).toBe('PONG');
    expect(namespaceProcesses()).toEqual([foreignPid]);
    // ...and `down` said so.
    expect(down.stderr).toMatch(/^Kafka: stopped$/m);
    expect(down.stderr).toMatch(/^OpenSearch: stopped$/m);
    expect(down.stderr).toMatch(/^Redis: running but not started by `services up`, left alone$/m);

    const status = await cli('status');
    expect(status.code).toBe(1); // some are down
    expect(row(status.stdout, 'Kafka')).toMatchObject({ up: false });
    expect(row(status.stdout, 'OpenSearch')).toMatchObject({ up: false });
    expect(row(status.stdout, 'Redis')).toMatchObject({ up: true, origin: FOUND, pid: foreignPid });

    // The suite's servers outside the namespace: same processes, still answering.
    const after = await outside();
    expect(after.answers).toEqual(allAnswer);
    expect(after.holders).toEqual(before.holders);
    for (const pid of before.holders) expect(isAlive(pid)).toBe(true);
  });

  it("when `up` started all three: `down` stops all three and leaves a decoy carrying a server's marker running", async () => {
    // Stop the foreign Redis of the first case (and, had that case failed, whatever it left).
    await clearNamespace();
    expect(namespaceProcesses()).toEqual([]);
    expect(await redisPing()).not.toBe('PONG');
    const before = await outside();
    expect(before.answers).toEqual(allAnswer);

    const up = await cli('up');
    expect(up.code, up.stderr).toBe(0);
    expect(up.stderr).toMatch(/^Redis: nothing on port 6379, starting Redis/m);
    const rows = { kafka: row(up.stdout, 'Kafka'), opensearch: row(up.stdout, 'OpenSearch'), redis: row(up.stdout, 'Redis') };
    const records = {
      kafka: readPidFile(pidFile('kafka')),
      opensearch: readPidFile(pidFile('opensearch')),
      redis: readPidFile(pidFile('redis')),
    };
    for (const id of ['kafka', 'opensearch', 'redis'] as const) {
      expect(rows[id], id).toMatchObject({ up: true, origin: STARTED });
      expect(records[id]?.pid, id).toBe(rows[id].pid);
      expect(isAlive(records[id]!.pid), id).toBe(true);
      expect(readlinkSync(`/proc/${records[id]!.pid}/ns/net`), id).toBe(netns);
    }
    const started = Object.values(records).map((r) => r!.pid);
    expect(namespaceProcesses()).toEqual([...started].sort((a, b) => a - b));

    // A process that is not ours, in the same namespace, listening on a port of its own, whose
    // command line even contains Kafka's pid-file marker: only the recorded pid may be stopped.
    // (Not 9300-9400: OpenSearch's transport listens there.)
    const marker = records.kafka!.marker;
    const decoy = await spawnInNs(
      [process.execPath, '-e', `require('node:net').createServer().listen(${DECOY_PORT}, '127.0.0.1')`, marker],
      async (pid) => (await listenerPid(DECOY_PORT)) === pid,
    );
    const decoyPid = decoy.pid!;
    expect(commandLineOf(decoyPid)).toContain(marker);

    const down = await cli('down');
    expect(down.code, down.stderr).toBe(0);

    for (const id of ['kafka', 'opensearch', 'redis'] as const) {
      expect(isAlive(records[id]!.pid), id).toBe(false);
      expect(existsSync(pidFile(id)), id).toBe(false);
    }
    expect(isAlive(decoyPid)).toBe(true);
    expect(decoy.exitCode).toBeNull();
    expect(await listenerPid(DECOY_PORT)).toBe(decoyPid);
    expect(namespaceProcesses()).toEqual([decoyPid]);
    for (const label of ['Kafka', 'OpenSearch', 'Redis']) expect(down.stderr).toMatch(new RegExp(`^${label}: stopped$`, 'm'));

    const status = await cli('status');
    expect(status.code).toBe(1);
    for (const label of ['Kafka', 'OpenSearch', 'Redis']) expect(row(status.stdout, label), label).toMatchObject({ up: false });

    const after = await outside();
    expect(after.answers).toEqual(allAnswer);
    expect(after.holders).toEqual(before.holders);
    for (const pid of before.holders) expect(isAlive(pid)).toBe(true);

    await stopChild(decoy);
    expect(isAlive(decoyPid)).toBe(false);
  });
});

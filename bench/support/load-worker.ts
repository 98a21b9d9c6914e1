/**
 * The load worker (a child process of the API benches, see load.ts): receives one case at a time
 * over IPC, runs it, answers with the latency statistics.
 *
 * A case is closed-loop: `connections` callers, each sending its next request as soon as the
 * previous one is answered, for `warmupMs` (not recorded) then `durationMs` (recorded): a request
 * is recorded when it ends after the warm-up, and none starts after the window. Requests
 * rotate through the case's items. HTTP goes through one keep-alive agent with exactly
 * `connections` sockets; direct reads use one ioredis connection and one OpenSearch client, as the
 * API does.
 */
import { Agent, request } from 'node:http';
import { Client } from '@opensearch-project/opensearch';
import { Redis } from 'ioredis';
import { readSummary } from '../../src/redis/counters-reader.ts';
import { decodeCursor } from '../../src/api/cursor.ts';
import { readPositions } from '../../src/redis/positions-reader.ts';
import { readUser } from '../../src/api/user-reader.ts';
import { buildSort, buildUsersQuery, rowSourceFields, type UsersFilter, type UsersSort } from '../../src/api/users-query.ts';
import { closePit, searchUsersPage } from '../../src/api/users-search.ts';
import { type DirectItem, type DirectOp, latencyStats, type LoadJob, type LoadResult } from './load.ts';

/** Stop a case early when listings leave this many points in time open (a shared cluster allows 300). */
const MAX_CURSORS = 20;

function httpGet(agent: Agent, base: URL, path: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: base.hostname, port: base.port, path, method: 'GET', agent, headers: { authorization: `Bearer ${token}`, accept: 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const SORT: UsersSort = { sort: 'name', order: 'asc' };
const filterOf = (accountId: string, q: string): UsersFilter => ({ accountId, q, channel: 'voice', access_type: 'inbox' });

async function runJob(job: LoadJob): Promise<LoadResult> {
  const statuses: Record<string, number> = {};
  let cursors = 0;
  let released = 0;
  /** points in time to close between calls, outside the timed part (releaseCursors) */
  const toRelease: string[] = [];
  let release = async () => {};
  let aborted: string | undefined;
  let call: (i: number) => Promise<boolean>;
  let cleanup = async () => {};

  if (job.kind === 'http') {
    const agent = new Agent({ keepAlive: true, maxSockets: job.connections, maxFreeSockets: job.connections });
    const base = new URL(job.baseUrl);
    call = async (i) => {
      const item = job.items[i % job.items.length]!;
      const { status, body } = await httpGet(agent, base, item.path, item.token);
      statuses[status] = (statuses[status] ?? 0) + 1;
      const cursor = /"next_cursor":"([^"]+)"/.exec(body)?.[1];
      if (cursor !== undefined) {
        cursors += 1;
        const pit = job.releaseCursors ? decodeCursor(cursor, job.releaseCursors.secret)?.pit : undefined;
        // An as_of listing's cursor holds no point in time (decision 47): nothing to close, and
        // nothing left open (it counts as released, or fast as_of listings stop the case).
        if (pit && !pit.startsWith('as_of:')) toRelease.push(pit);
        else if (pit) released += 1;
      }
      // A drill-down of a user the churn deleted is a proper answer (404), as the direct GET's "not found" is.
      return status === 200 || (status === 404 && job.ok404 === true);
    };
    const releaser = job.releaseCursors ? new Client({ node: job.releaseCursors.opensearchUrl, requestTimeout: 30_000, maxRetries: 0 }) : undefined;
    if (releaser)
      release = async () => {
        while (toRelease.length > 0) {
          await closePit(releaser, toRelease.shift()!);
          released += 1;
        }
      };
    cleanup = async () => {
      await release();
      agent.destroy();
      await releaser?.close();
    };
  } else {
    const redis = new Redis(job.redisUrl, { maxRetriesPerRequest: 2 });
    const opensearch = new Client({ node: job.opensearchUrl, requestTimeout: 30_000, maxRetries: 0 });
    const { space, index } = job;
    const ops: Record<DirectOp, (item: DirectItem) => Promise<unknown>> = {
      'summary-multi': (item) => readSummary(redis, space, item.accountId, 'all'),
      'summary-path': async (item) => {
        await readPositions(redis, space);
        return readSummary(redis, space, item.accountId, 'all');
      },
      search: async (item) => {
        const filter = filterOf(item.accountId, item.q);
        const response = await opensearch.search({
          index,
          body: { size: 50, query: buildUsersQuery(filter), sort: buildSort(SORT, filter), track_total_hits: true, _source: rowSourceFields(filter) },
        } as never);
        if ((response.body as { hits: { total: { value: number } } }).hits.total.value > 50) cursors += 1;
      },
      'search-pit': async (item) => {
        const page = await searchUsersPage(opensearch, { index, filter: filterOf(item.accountId, item.q), sort: SORT, size: 50, position: '', secret: job.secret });
        if (page.nextCursor) cursors += 1;
      },
      get: (item) => readUser(opensearch, index, item.accountId, item.userId),
      'get-path': async (item) => {
        await readPositions(redis, space);
        return readUser(opensearch, index, item.accountId, item.userId);
      },
    };
    const op = ops[job.op];
    const items = job.items;
    call = async (i) => {
      try {
        await op(items[i % items.length]!);
        statuses.ok = (statuses.ok ?? 0) + 1;
        return true;
      } catch (error) {
        const key = (error as Error).message.slice(0, 120);
        statuses[key] = (statuses[key] ?? 0) + 1;
        return false;
      }
    };
    cleanup = async () => {
      redis.disconnect();
      await opensearch.close();
    };
  }

  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const t0 = performance.now();
  const measureFrom = t0 + job.warmupMs;
  const end = measureFrom + job.durationMs;
  const cpu0 = process.cpuUsage();
  let cpuAtMeasure: NodeJS.CpuUsage | undefined;
  const loop = async () => {
    while (!aborted) {
      const started = performance.now();
      if (started >= end) return;
      if (started >= measureFrom && !cpuAtMeasure) cpuAtMeasure = process.cpuUsage();
      let ok = false;
      try {
        ok = await call(next++);
      } catch (error) {
        const key = (error as Error).message.slice(0, 120);
        statuses[key] = (statuses[key] ?? 0) + 1;
      }
      const finished = performance.now();
      // A request counts when it ends after the warm-up: one slower than the warm-up (an `as_of`
      // answer on a big account takes seconds) is recorded rather than lost with it.
      if (finished >= measureFrom) {
        if (ok) latencies.push(finished - started);
        else errors += 1;
      }
      await release();
      if (cursors - released > MAX_CURSORS) aborted = `stopped: ${cursors} listings left a point in time open`;
    }
  };
  try {
    await Promise.all(Array.from({ length: job.connections }, loop));
  } finally {
    await cleanup();
  }
  const cpu = process.cpuUsage(cpuAtMeasure ?? cpu0);
  const windowMs = Math.min(performance.now(), end) - measureFrom;
  return {
    stats: latencyStats(latencies, windowMs, errors),
    statuses,
    cursors,
    ...(job.kind === 'http' && job.releaseCursors ? { releasedCursors: released } : {}),
    workerCpuSeconds: (cpu.user + cpu.system) / 1e6,
    ...(aborted ? { aborted } : {}),
  };
}

process.on('message', (job: LoadJob) => {
  runJob(job).then(
    (result) => process.send!({ ok: true, result }),
    (error) => process.send!({ ok: false, error: (error as Error).stack ?? String(error) }),
  );
});
process.on('SIGTERM', () => process.exit(0));
process.on('disconnect', () => process.exit(0));

/**
 * The freshness bench's probes in their own process (see startProbeProcess in probes.ts): the
 * Redis watcher, the API requests and, in the neighbour case, the small account's own producer run
 * here, as a client of the service would, instead of on the event loop of the projector being
 * measured.
 */
import { Redis } from 'ioredis';
import type { Producer } from 'kafkajs';
import { mintToken } from '../../src/api/tokens.ts';
import { createKafka } from '../../src/kafka/client.ts';
import { silentLogger } from '../../src/logger.ts';
import { accountKeys, generationKeys } from '../../src/redis/keys.ts';
import { sleep } from '../../src/retry.ts';
import { createProber, createRedisWatcher, type ProbeInit, type ProbeReply, type ProbeRequest, type RedisWatcher, type SampleResult, type SmallAccountJob } from './probes.ts';

const reply = (message: ProbeReply) => process.send!(message);

interface Session {
  redis: Redis;
  watcher: RedisWatcher;
  producer: Producer;
  probe: ReturnType<typeof createProber>;
}

async function open(init: ProbeInit): Promise<Session> {
  const { space } = init;
  const redis = new Redis(init.redisUrl, { maxRetriesPerRequest: 2 });
  const watcher = createRedisWatcher(redis, generationKeys(space).positions, (accountId) => accountKeys(space, accountId).meta);
  const producer = createKafka({ kafkaBrokers: init.brokers }, silentLogger(), 'bench-probes').producer();
  await producer.connect();
  const tokens = new Map<string, Promise<string>>();
  const token = (accountId: string) => {
    let t = tokens.get(accountId);
    if (!t) tokens.set(accountId, (t = mintToken({ secret: init.secret, accountId, sub: 'bench', ttlSeconds: 6 * 3600 })));
    return t;
  };
  return { redis, watcher, producer, probe: createProber({ watcher, apiUrl: init.apiUrl, token, waitMs: init.waitMs }) };
}

/** One change of the small account every `sampleMs` (an inbox granted to one of its users, then revoked), each probed. */
async function smallAccount(session: Session, job: SmallAccountJob): Promise<SampleResult[]> {
  const probes: Promise<SampleResult>[] = [];
  const started = performance.now();
  for (let n = 0; performance.now() - started < job.durationMs; n++) {
    const tick = performance.now();
    const userId = job.users[Math.floor(n / 2) % job.users.length]!;
    const type = n % 2 === 0 ? 'inbox.user_granted' : 'inbox.user_revoked';
    const value = {
      specversion: '1.0',
      id: `${job.idPrefix}-nb-${n}`,
      source: 'bench-neighbour',
      type,
      time: new Date().toISOString(),
      accountid: job.accountId,
      datacontenttype: 'application/json',
      data: { inbox_id: job.inboxId, user_id: userId },
    };
    const sentAtEpochMs = Date.now();
    const t0 = performance.now();
    const [meta] = await session.producer.send({ topic: job.topic, messages: [{ key: job.accountId, value: JSON.stringify(value) }] });
    const ackMs = performance.now() - t0;
    probes.push(session.probe({ topic: job.topic, partition: meta!.partition, offset: BigInt(meta!.baseOffset!), accountId: job.accountId, type, userId, ackMs, sentAtEpochMs }));
    await sleep(Math.max(0, job.sampleMs - (performance.now() - tick)));
  }
  reply({ kind: 'small-sent' });
  return Promise.all(probes);
}

let session: Promise<Session> | undefined;

function fail(error: unknown): void {
  reply({ kind: 'error', error: (error as Error).stack ?? String(error) });
}

process.on('message', (message: ProbeRequest) => {
  switch (message.kind) {
    case 'init':
      session = open(message.init);
      session.then(() => reply({ kind: 'ready' }), fail);
      return;
    case 'probe':
      void session!.then((s) => s.probe({ ...message.sample, offset: BigInt(message.sample.offset) })).then((result) => reply({ kind: 'probed', id: message.id, result }), fail);
      return;
    case 'small':
      void session!.then((s) => smallAccount(s, message.job)).then((results) => reply({ kind: 'small-done', results }), fail);
      return;
    case 'stop':
      void session!
        .then(async (s) => {
          await s.watcher.stop();
          await s.producer.disconnect();
          s.redis.disconnect();
        })
        .catch(fail)
        .finally(() => process.disconnect());
  }
});

/**
 * `access-index verify` as an operator runs it: clean after a projection (exit 0), and after the
 * index or a counter is tampered with, each difference printed and exit 1.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { accountKeys } from '../../src/redis/keys.ts';
import { userDocId } from '../../src/opensearch/user-document.ts';
import { createTestNamespace } from '../helpers/namespace.ts';
import { serverAddresses } from '../helpers/servers.ts';
import { createEventBuilder } from '../support/builders.ts';
import { envelope, topicOf } from '../support/envelopes.ts';
import { prepareNamespace } from '../support/pipeline.ts';
import { spawnCommand } from '../support/processes.ts';

describe('verify command', () => {
  const ns = createTestNamespace();
  let close = async () => {};
  afterAll(async () => {
    await close();
    await ns.cleanup();
  });

  const verify = async () => {
    const servers = serverAddresses();
    const p = spawnCommand(['verify'], {
      ...ns.env,
      KAFKA_BROKERS: servers.kafkaBrokers.join(','),
      OPENSEARCH_URL: servers.opensearchUrl,
      REDIS_URL: servers.redisUrl,
      LOG_LEVEL: 'warn',
    });
    const code = await p.exited;
    return { code, lines: p.logs.map((l) => String(l.msg ?? l.stderr ?? '')) };
  };

  it('is clean after projecting, and names each difference after tampering', async () => {
    const env = await prepareNamespace(ns, { partitions: 1 });
    close = () => env.close();
    const e = createEventBuilder();
    const events = [
      e.inbox('i1'),
      e.queue('q1', { inbox: 'i1', automatic: true }),
      e.role('r', ['RecordingPlay:Edit']),
      e.user('u1'),
      e.user('u2'),
      e.assignRole('r', 'u1'),
      e.member('q1', 'u1'),
      e.grantUser('i1', 'u2'),
    ];
    const projector = env.projector();
    await projector.start();
    await env.waitForPositions(await env.produce(events.map((ev) => ({ topic: topicOf(ev.type), key: 'acc', value: JSON.stringify(envelope('acc', ev)) }))));
    await projector.stop();

    const clean = await verify();
    expect(clean.code).toBe(0);
    expect(clean.lines.some((l) => l.startsWith('clean: 1 accounts, 0 differences'))).toBe(true);

    // Tamper: one document loses its entries, one counter drifts.
    await env.clients.opensearch.update({ index: env.index, id: userDocId('acc', 'u2'), body: { doc: { entries: [] } }, refresh: true });
    await env.clients.redis.hincrby(accountKeys(env.space, 'acc').userCounters, 'all|total', 5);
    const dirty = await verify();
    expect(dirty.code).toBe(1);
    expect(dirty.lines).toContainEqual(expect.stringMatching(/^acc: user u2: \.entries\.0: expected .*inbox_user_grant.*, found undefined$/));
    expect(dirty.lines).toContainEqual('acc: counter u|all|total: expected 2, found 7');
    expect(dirty.lines.some((l) => l.startsWith('DIFFERENCES: 1 accounts, 2 differences'))).toBe(true);
  });
});

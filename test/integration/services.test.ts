/**
 * `access-index services`: run as a user would, against the servers this test run found or
 * started. It may not stop them (other test files use them), so it shows what can be shown safely:
 * a second `up` is quick and starts nothing, and `down` with no record of having started anything
 * stops nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnCommand } from '../support/processes.ts';

function run(args: string[], env: Record<string, string> = {}) {
  const p = spawnCommand(args, env);
  const started = Date.now();
  return p.exited.then((code) => ({
    code,
    seconds: (Date.now() - started) / 1000,
    output: p.logs.map((l) => (typeof l.stderr === 'string' ? l.stderr : String(l.msg ?? ''))).join('\n'),
  }));
}

const pidsOf = (output: string) => [...output.matchAll(/pid (\d+)/g)].map((m) => m[1]).sort();

describe('services up | status | down', () => {
  it('a second `up` returns within 5 s and starts nothing', async () => {
    const before = await run(['services', 'status']);
    expect(before.code).toBe(0);
    const up = await run(['services', 'up']);
    expect(up.code).toBe(0);
    expect(up.seconds).toBeLessThan(5);
    expect(up.output).not.toMatch(/starting/i);
    const after = await run(['services', 'status']);
    expect(pidsOf(after.output)).toEqual(pidsOf(before.output));
  });

  it('`down` stops only what `up` started: with no record of starting anything, it stops nothing', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'access-index-cache-'));
    try {
      const before = await run(['services', 'status']);
      const down = await run(['services', 'down'], { ACCESS_INDEX_CACHE: cache });
      expect(down.code).toBe(0);
      const after = await run(['services', 'status']);
      expect(after.code).toBe(0);
      expect(pidsOf(after.output)).toEqual(pidsOf(before.output));
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  it('servers named by the environment are only checked, never started or stopped', async () => {
    const env = { KAFKA_BROKERS: '127.0.0.1:9092', OPENSEARCH_URL: 'http://127.0.0.1:9200', REDIS_URL: 'redis://127.0.0.1:6379' };
    const status = await run(['services', 'status'], env);
    expect(status.code).toBe(0);
    expect(status.output).toMatch(/environment/i);
    const down = await run(['services', 'down'], env);
    expect(down.code).toBe(0);
    expect((await run(['services', 'status'])).code).toBe(0);
  });
});

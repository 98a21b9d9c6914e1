/**
 * `npm start` as a newcomer runs it (`access-index quickstart`), in its own namespace and port:
 * it prints the page's URL and a token per demo account, and the report behind them shows the demo.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/services/ports.ts';
import { createTestNamespace } from '../helpers/namespace.ts';
import { type ManagedProcess, spawnCommand } from '../support/processes.ts';

describe('quickstart (npm start)', () => {
  const ns = createTestNamespace();
  let proc: ManagedProcess | undefined;

  afterAll(async () => {
    expect(await proc?.kill('SIGTERM')).toBe(0);
    await ns.cleanup();
  });

  it('prints a URL and tokens, and the page and the API show the demo data', async () => {
    const port = await freePort();
    proc = spawnCommand(['quickstart'], { ...ns.env, PORT: String(port), LOG_LEVEL: 'warn', ACCESS_INDEX_JWT_SECRET: 'quickstart-test-secret-of-32-characters' });
    const urlLine = await proc.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('The access report is at '), 120_000);
    const url = String(urlLine.msg).replace('The access report is at ', '');
    expect(url).toBe(`http://127.0.0.1:${port}/`);
    const tokenLine = await proc.waitForLog((l) => typeof l.msg === 'string' && /^\s+acc_\w+: ey/.test(l.msg));
    const [, account, token] = /^\s+(acc_\w+): (\S+)$/.exec(String(tokenLine.msg))!;

    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Access report');

    const summary = await fetch(`${url}v1/accounts/${account}/access/summary`, { headers: { authorization: `Bearer ${token}` } });
    expect(summary.status).toBe(200);
    const body = (await summary.json()) as { users: { total: number; inbox: number }; queues: { automatic_call_recording: number } };
    expect(body.users.total).toBeGreaterThan(10);
    expect(body.users.inbox).toBeGreaterThan(0);
    const rows = await fetch(`${url}v1/accounts/${account}/access/users?size=5`, { headers: { authorization: `Bearer ${token}` } });
    expect(((await rows.json()) as { items: unknown[] }).items).toHaveLength(5);
  });
});

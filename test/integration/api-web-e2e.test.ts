/**
 * The web report page end to end: a real socket, a real Chromium (Debian's, driven by
 * playwright-core), the real API and pipeline. Signs in, reads the summary, searches, filters,
 * pages, opens a drill-down, switches to the queues view, exports CSV; saves screenshots to
 * docs/screenshots/.
 */
import { fold } from '../../src/opensearch/search-terms.ts';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { type BrowserContext, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FactEvent, type UserDoc, countersFromDocs, queuesFromCounters, reportRow, summarize } from '../../projections/index.ts';
import { createApp } from '../../src/api/app.ts';
import type { IntegrityGate } from '../../src/api/integrity-gate.ts';
import { mintToken } from '../../src/api/tokens.ts';
import type { Verdict } from '../../src/integrity/monitor.ts';
import { silentLogger } from '../../src/logger.ts';
import { type Metrics, createMetrics } from '../../src/metrics.ts';
import { createEventBuilder } from '../support/builders.ts';
import { type ApiEnv, SECRET, compareCodePoints, expectedDocs, startApiEnv } from './api-harness.ts';
import { ACCOUNT_A, accountA } from './api-scenario.ts';

const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/lib/chromium/chromium'].filter((p): p is string => !!p);
const CHROMIUM = CANDIDATES.find((path) => existsSync(path));
const SCREENSHOTS = new URL('../../docs/screenshots/', import.meta.url);

if (!CHROMIUM) console.warn(`[api-web-e2e] SKIPPED: no Chromium found at ${CANDIDATES.join(', ')} (install it: apt-get install -y chromium, or set CHROMIUM_PATH)`);

/** Scenario A plus enough users for two pages of 50. */
function events(): FactEvent[] {
  const b = createEventBuilder(Date.parse('2026-04-02T08:00:00Z'), 'web');
  const more: FactEvent[] = [];
  for (let n = 0; n < 30; n++) {
    const id = `w${String(n).padStart(2, '0')}`;
    more.push(b.user(id, `Wren Agent ${String(n).padStart(2, '0')}`), b.grantUser('i2', id));
  }
  return [...accountA(), ...more];
}

describe.skipIf(!CHROMIUM)('web report page in Chromium', () => {
  let api: ApiEnv;
  let server: Server;
  let url: string;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  let docs: UserDoc[];
  // The app under test carries an integrity gate the test can turn (a repair under way) and the
  // metrics registry whose consumer-lag gauge the in-process projector would sample.
  let verdict: Verdict = { ok: true, checkedAt: new Date().toISOString() };
  const gate: IntegrityGate = { verdict: () => verdict, connection: () => 0 };
  let metrics: Metrics;
  const setLag = (behind: number) => {
    for (const topic of api.topics) metrics.consumerLag.set({ topic, partition: '0' }, topic === api.topics[0] ? behind : 0);
  };

  const rowNames = () => page.locator('#users-body tr .name').allTextContents();
  const expectedNames = (filter: Parameters<typeof reportRow>[1]) =>
    docs
      .flatMap((d) => (reportRow(d, filter) ? [d] : []))
      .sort((a, b) => compareCodePoints(fold(a.display_name), fold(b.display_name)) || compareCodePoints(a.user_id, b.user_id))
      .map((d) => d.display_name);

  beforeAll(async () => {
    api = await startApiEnv();
    await api.load(ACCOUNT_A, events());
    docs = [...expectedDocs(events()).values()];
    metrics = createMetrics({ defaultMetrics: false });
    setLag(0);
    const app = createApp({
      redis: api.env.clients.redis,
      opensearch: api.env.clients.opensearch,
      namespace: api.env.config.namespace,
      jwtSecret: SECRET,
      metrics,
      logger: silentLogger(),
      topics: api.topics,
      integrity: gate,
    });
    server = await new Promise<Server>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server)) as Server;
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    profile = mkdtempSync(join(tmpdir(), 'access-index-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM!,
      headless: true,
      acceptDownloads: true,
      viewport: { width: 1280, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    // The freshness line refreshes every 300 ms instead of 5 s.
    await context.addInitScript(() => Object.assign(globalThis, { accessIndexFreshnessMs: 300 }));
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(15_000);
    mkdirSync(SCREENSHOTS, { recursive: true });
  });

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await new Promise((resolve) => server?.close(resolve));
    await api?.close();
  });

  it('explains a refused token readably', async () => {
    await page.goto(url);
    await page.getByLabel('Access token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('This is not a token');

    await page.getByLabel('Access token').fill(await mintToken({ secret: `${SECRET}-wrong`, accountId: ACCOUNT_A }));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('The token was refused: the token signature does not verify');
    expect(await page.getByLabel('Access token').isVisible()).toBe(true);
  });

  it('signs in with a token and shows the summary and the first page', async () => {
    await page.getByLabel('Access token').fill(await api.token(ACCOUNT_A, { sub: 'e2e' }));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('#account-id').textContent()).toBe(ACCOUNT_A);
    const summary = summarize(docs);
    const card = (metric: string) => page.locator(`.card[data-metric="${metric}"] .value`).textContent();
    await expect.poll(() => card('users.total')).toBe(String(summary.users.total));
    for (const type of ['inbox', 'automatic_call_recording', 'ad_hoc_call_recording'] as const) {
      expect(await card(`users.${type}`)).toBe(String(summary.users[type]));
      expect(await card(`queues.${type}`)).toBe(String(summary.queues[type]));
    }
    expect(await card('inboxes')).toBe(String(summary.inboxes));
    const all = expectedNames({});
    await expect.poll(() => page.locator('#users-status').textContent()).toBe(`Showing 1–50 of ${all.length} users`);
    expect(await rowNames()).toEqual(all.slice(0, 50));
    expect(await page.locator('#position').textContent()).toMatch(/^As of Kafka offsets .+:\d+:\d+/);
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Up to date' }).count()).toBe(1);
    await page.screenshot({ path: new URL('report.png', SCREENSHOTS).pathname });
  });

  it('pages forward and back with the cursors', async () => {
    const all = expectedNames({});
    await page.getByRole('button', { name: 'Next →' }).click();
    await expect.poll(() => page.locator('#users-status').textContent()).toBe(`Showing 51–${all.length} of ${all.length} users`);
    expect(await rowNames()).toEqual(all.slice(50));
    expect(await page.getByRole('button', { name: 'Next →' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: '← Previous' }).click();
    await expect.poll(rowNames).toEqual(all.slice(0, 50));
    // Names sort with accents folded, so "Émile" is among the E's, and shows as inactive.
    expect(await page.locator('#users-body tr', { hasText: 'Émile Zola' }).locator('.badge.inactive').textContent()).toBe('Inactive');
  });

  it('searches as one types, folding case and accents', async () => {
    await page.getByLabel('Search users').fill('MUL');
    await expect.poll(rowNames).toEqual(['Dara Müller']);
    await page.getByLabel('Search users').fill('wren agent 0');
    await expect.poll(rowNames).toEqual(Array.from({ length: 10 }, (_, n) => `Wren Agent 0${n}`));
    await page.getByLabel('Search users').fill('');
    await expect.poll(async () => (await rowNames()).length).toBe(50);
  });

  it('filters by channel and by access type, summary included', async () => {
    await page.getByLabel('Channel').selectOption('video');
    await expect.poll(rowNames).toEqual(expectedNames({ channel: 'video' }));
    await expect.poll(() => page.locator('.card[data-metric="users.total"] .value').textContent()).toBe(String(summarize(docs, 'video').users.total));
    await page.getByLabel('Channel').selectOption('');
    await page.getByLabel('Access type').selectOption('ad_hoc_call_recording');
    await expect.poll(rowNames).toEqual(expectedNames({ access_type: 'ad_hoc_call_recording' }));
    const badges = await page.locator('#users-body tr').first().locator('.badge').allTextContents();
    expect(badges).toEqual(['Ad hoc recording']);
    await page.getByLabel('Access type').selectOption('');
  });

  it('opens the drill-down with each entry and why it is granted', async () => {
    await page.getByLabel('Search users').fill('ana cruz');
    await expect.poll(rowNames).toEqual(['Ana Cruz']);
    await page.getByRole('button', { name: /show what Ana Cruz can access/ }).click();
    const dialog = page.getByRole('dialog', { name: 'Ana Cruz' });
    await expect.poll(() => dialog.isVisible()).toBe(true);
    const entries = dialog.locator('.entry');
    expect(await entries.count()).toBe(4);
    const text = (await dialog.textContent()) ?? '';
    expect(text).toContain('Queue Sales');
    expect(text).toContain('Member of Sales (agent) — automatic recording on the queue, role r1');
    expect(text).toContain("Member of Sales (agent) — the queue's inbox, with automatic recording, role r1");
    expect(text).toContain('Agent of Sales — ad hoc recording on the queue');
    expect(text).toContain('Inbox granted to the user directly');
    expect(text).toContain('Can Access 3');
    await dialog.screenshot({ path: new URL('drill-down.png', SCREENSHOTS).pathname });
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog.isVisible()).toBe(false);
  });

  it('switches to the queues view by keyboard', async () => {
    await page.getByRole('tab', { name: 'Users' }).focus();
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => page.getByRole('tab', { name: 'Queues' }).getAttribute('aria-selected')).toBe('true');
    await expect.poll(() => page.locator('#queues-body tr .name').allTextContents()).toEqual(['Chat', 'Email desk', 'Sales', 'Support video']);
    const sales = page.locator('#queues-body tr', { hasText: 'Sales' }).locator('td');
    const q1 = queuesFromCounters(countersFromDocs(docs), {}).find((q) => q.cc_queue_id === 'q1')!.users;
    expect(await sales.allTextContents()).toEqual(['Salesq1', 'Voice', String(q1.inbox), String(q1.automatic_call_recording), String(q1.ad_hoc_call_recording)]);
    await page.getByRole('tab', { name: 'Users' }).click();
  });

  it('exports the filtered report as CSV', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^access-acc-north-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(csv.startsWith('\uFEFFuser_id,display_name,')).toBe(true);
    expect(csv.trim().split('\n').length).toBe(5); // header + Ana Cruz's four entries (search "ana cruz")
  });

  it('says how far behind the index is, in events and seconds, while the page is open', async () => {
    const freshness = () => page.locator('#freshness').textContent();
    setLag(120);
    await expect.poll(freshness).toMatch(/^120 events behind \((not advancing at the moment|about \d+ s)\)$/);
    // The position advances (three more users indexed): the estimate follows the pace.
    const b = createEventBuilder(Date.parse('2026-04-03T08:00:00Z'), 'web-fresh');
    await api.load(ACCOUNT_A, [b.user('f1', 'Fresh One'), b.user('f2', 'Fresh Two'), b.user('f3', 'Fresh Three')]);
    await expect.poll(freshness, { timeout: 10_000 }).toMatch(/^120 events behind \(about \d+ s\)$/);
    setLag(0);
    await expect.poll(freshness).toBe('Up to date');
  });

  it('shows a 503 during a repair as such, with its progress, never as an empty report', async () => {
    await page.getByLabel('Search users').fill('');
    await expect.poll(async () => (await rowNames()).length).toBe(50);
    verdict = {
      ok: false,
      fault: 'index_lost',
      reason: 'an index of the live generation is missing in OpenSearch',
      repair: { code: 'index_lost', reason: 'an index of the live generation is missing in OpenSearch', phase: 'rebuilding', generation: 'g2', started_at: '2026-04-03T09:00:00.000Z', heartbeat_at: '2026-04-03T09:00:05.000Z', done: 1200, total: 4800 },
      checkedAt: new Date().toISOString(),
    };
    const notice = page.locator('#unavailable');
    await expect.poll(() => notice.isVisible()).toBe(true);
    const text = (await notice.textContent()) ?? '';
    expect(text).toContain('The report cannot be trusted now: an index of the live generation is missing in OpenSearch');
    expect(text).toContain('Fault: index_lost');
    expect(text).toContain('1200 of 4800 (25 %)');
    expect(await rowNames()).toEqual([]);
    expect(await page.locator('#users-status').textContent()).toBe('Not available: the service cannot answer now (see above).');
    expect(await page.locator('#freshness').textContent()).toBe('Service unavailable: the report cannot be shown now.');
    await page.screenshot({ path: new URL('unavailable.png', SCREENSHOTS).pathname });
    verdict = { ok: true, checkedAt: new Date().toISOString() };
    await expect.poll(() => notice.isVisible()).toBe(false);
    await expect.poll(async () => (await rowNames()).length).toBe(50);
    await expect.poll(() => page.locator('#freshness').textContent()).toBe('Up to date');
  });
});

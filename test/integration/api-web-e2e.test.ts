/**
 * The web report page end to end: a real socket, a real Chromium (Debian's, driven by
 * playwright-core), the real API and pipeline. Signs in, reads the summary, searches, filters,
 * pages, opens a drill-down, switches to the queues view, exports CSV; says how fresh the index
 * is and shows a 503 as such; opens the users who reach an inbox or a queue with their paths and
 * CSV; the report as of a past instant against a replay; a user's history; every view as a link
 * (reload, back and forward, a shared URL); an accessibility check (axe-core) on every view;
 * saves screenshots of each view (to docs/screenshots/ with UPDATE_SCREENSHOTS=1, else a temporary directory).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { type BrowserContext, type Page, chromium } from 'playwright-core';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FactEvent, type ReportFilter, type UserDoc, countersFromDocs, filterEntries, queuesFromCounters, reportRow, summarize } from '../../projections/index.ts';
import { createApp } from '../../src/api/app.ts';
import type { IntegrityGate } from '../../src/api/integrity-gate.ts';
import { mintToken } from '../../src/api/tokens.ts';
import type { Verdict } from '../../src/integrity/monitor.ts';
import { silentLogger } from '../../src/logger.ts';
import { type Metrics, createMetrics } from '../../src/metrics.ts';
import { createEventBuilder } from '../support/builders.ts';
import { testHistory } from '../support/history.ts';
import { csvRows } from '../../src/api/csv-rows.ts';
import { parseCsv } from './api-csv-parse.ts';
import { type ApiEnv, SECRET, byDisplayName, expectedDocs, startApiEnv } from './api-harness.ts';
import { ACCOUNT_A, accountA } from './api-scenario.ts';

/** How long a target view may take to answer under the whole suite's load (expect.poll's 1 s was once too short in CI: "Loading…"); one that never answers still fails. */
const PAGE_MS = 10_000;

const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/lib/chromium/chromium'].filter((p): p is string => !!p);
const CHROMIUM = CANDIDATES.find((path) => existsSync(path));
// The screenshots of docs/ are rewritten only when asked (UPDATE_SCREENSHOTS=1); a test run leaves the tree clean.
const SCREENSHOTS =
  process.env.UPDATE_SCREENSHOTS === '1' ? new URL('../../docs/screenshots/', import.meta.url) : new URL(`file://${mkdtempSync(join(tmpdir(), 'access-index-screenshots-'))}/`);

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
      .sort(byDisplayName)
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
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s)) as Server;
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    profile = mkdtempSync(join(tmpdir(), 'access-index-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM!,
      headless: true,
      acceptDownloads: true,
      viewport: { width: 1280, height: 900 },
      timezoneId: 'UTC',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    // The freshness line refreshes every 300 ms instead of 5 s.
    await context.addInitScript(() => Object.assign(globalThis, { accessIndexFreshnessMs: 300 }));
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (error) => console.error(`[api-web-e2e] page error: ${error.message}`));
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
    const csv = readFileSync(await download.path(), 'utf8');
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
      repair: {
        code: 'index_lost',
        reason: 'an index of the live generation is missing in OpenSearch',
        phase: 'rebuilding',
        generation: 'g2',
        started_at: '2026-04-03T09:00:00.000Z',
        heartbeat_at: '2026-04-03T09:00:05.000Z',
        done: 1200,
        total: 4800,
      },
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

  const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  /** The serious and critical accessibility violations axe-core finds in the page as it is. */
  async function axeViolations(): Promise<string[]> {
    // Evaluated through the DevTools protocol: the page's CSP forbids inline scripts, not this.
    if (!(await page.evaluate(() => 'axe' in globalThis))) await page.evaluate(AXE);
    return page.evaluate(async () => {
      const g = globalThis as unknown as {
        axe: { run(ctx: unknown, opts: object): Promise<{ violations: { id: string; impact: string | null; nodes: { target: unknown[] }[] }[] }> };
        document: unknown;
      };
      const result = await g.axe.run(g.document, { resultTypes: ['violations'] });
      return result.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => JSON.stringify(n.target)).join(' ')}`);
    });
  }
  const search = () => new URL(page.url()).searchParams;
  const targetNames = () => page.locator('#target-body tr .name').allTextContents();
  const expectedTarget = (filter: Parameters<typeof reportRow>[1]) => expectedNames(filter);

  it('lists the inboxes reached, and opens the users who reach one with their paths and its CSV', async () => {
    await page.getByRole('tab', { name: 'Inboxes' }).click();
    const reach = (id: string) => docs.filter((d) => reportRow(d, { inbox_id: id })).length;
    await expect.poll(() => page.locator('#inboxes-body tr .name').allTextContents()).toEqual(['Chat overflow', 'Escalations', 'Sales voicemail']);
    expect(await page.locator('#inboxes-body tr', { hasText: 'Escalations' }).locator('td.num').textContent()).toBe(String(reach('i2')));
    expect(search().get('tab')).toBe('inboxes');
    await page.screenshot({ path: new URL('inboxes.png', SCREENSHOTS).pathname });

    await page.getByRole('link', { name: 'Escalations' }).click();
    await expect.poll(() => page.locator('#target-title').textContent()).toBe('Who reaches inbox Escalations (i2)');
    const all = expectedTarget({ inbox_id: 'i2' });
    await expect.poll(targetNames).toEqual(all.slice(0, 20));
    expect(await page.locator('#target-status').textContent()).toBe(`Showing 1–20 of ${all.length} users`);
    expect(search().get('inbox_id')).toBe('i2');
    const ana = page.locator('#target-body tr', { hasText: 'Ana Cruz' });
    expect(await ana.locator('.paths').textContent()).toContain('Inbox granted to the user directly');
    const dara = page.locator('#target-body tr', { hasText: 'Dara Müller' });
    expect(await dara.locator('.paths').textContent()).toContain('Member of Support video (supervisor) — the inbox is granted to the queue');
    await page.screenshot({ path: new URL('target.png', SCREENSHOTS).pathname, fullPage: true });
    await page.getByRole('button', { name: 'Next →' }).click();
    await expect.poll(targetNames).toEqual(all.slice(20, 40));

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV for this target' }).click()]);
    const lines = readFileSync(await download.path(), 'utf8')
      .trim()
      .split('\n');
    expect(lines.length - 1).toBe(docs.reduce((n, d) => n + filterEntries(d.entries, { inbox_id: 'i2' }).length, 0));
    expect(lines.slice(1).every((l) => l.includes(',inbox,i2,Escalations,'))).toBe(true);
  });

  it('opens the users who reach a queue, and every view is a link: reload, back and forward', async () => {
    await page.getByRole('tab', { name: 'Queues' }).click();
    await page.getByRole('link', { name: 'Sales' }).click();
    await expect.poll(() => page.locator('#target-title').textContent()).toBe('Who reaches queue Sales (q1)');
    const reaching = expectedTarget({ cc_queue_id: 'q1' });
    await expect.poll(targetNames).toEqual(reaching);
    expect(await page.locator('#target-body tr', { hasText: 'Ana Cruz' }).locator('.paths').textContent()).toContain(
      'Member of Sales (agent) — automatic recording on the queue, role r1',
    );
    expect(search().get('cc_queue_id')).toBe('q1');

    await page.reload();
    await expect.poll(targetNames).toEqual(reaching);
    expect(await page.getByRole('tab', { name: 'Queues' }).getAttribute('aria-selected')).toBe('true');

    await page.goBack(); // the queues list
    await expect.poll(() => page.locator('#view-queues').isVisible()).toBe(true);
    expect(await page.locator('#view-target').isVisible()).toBe(false);
    await page.goBack(); // the inbox i2, page 1
    await expect.poll(() => page.locator('#target-title').textContent()).toBe('Who reaches inbox Escalations (i2)');
    await page.goForward();
    await page.goForward();
    await expect.poll(() => page.locator('#target-title').textContent()).toBe('Who reaches queue Sales (q1)');

    await page.getByRole('tab', { name: 'Users' }).click();
    await page.getByLabel('Channel').selectOption('video');
    await expect.poll(rowNames).toEqual(expectedNames({ channel: 'video' }));
    expect(search().get('channel')).toBe('video');
    await page.goBack();
    await expect.poll(() => page.getByLabel('Channel').inputValue()).toBe('');
    await expect.poll(async () => (await rowNames()).length).toBe(50);
  });

  it('shows the whole report as of a past instant, equal to a replay, with a way back to now', async () => {
    const instant = '2026-04-02T00:00:00.000Z'; // after scenario A, before the other users
    const then = [...expectedDocs(events().filter((e) => e.timeMs <= Date.parse(instant))).values()];
    expect(summarize(then).users.total).toBeLessThan(summarize(docs).users.total);
    expect(summarize(then).users.total).toBeGreaterThan(0);
    await page.getByLabel('As of', { exact: true }).fill('2026-04-02T00:00:00');
    await page.getByRole('button', { name: 'Show', exact: true }).click();
    await expect.poll(() => search().get('as_of')).toBe(instant);
    const banner = page.getByRole('region', { name: 'Historical report' });
    await expect.poll(() => banner.textContent()).toContain('Showing the report as it stood on');
    const card = (metric: string) => page.locator(`.card[data-metric="${metric}"] .value`).textContent();
    await expect.poll(() => card('users.total')).toBe(String(summarize(then).users.total));
    const names = then
      .flatMap((d) => (reportRow(d, {}) ? [d] : []))
      .sort(byDisplayName)
      .map((d) => d.display_name);
    await expect.poll(rowNames).toEqual(names);
    await expect.poll(() => page.locator('#freshness').textContent()).toMatch(/^Historical report: as of .+, not live\.$/);
    await page.screenshot({ path: new URL('as-of.png', SCREENSHOTS).pathname });

    await page.getByRole('tab', { name: 'Inboxes' }).click();
    const escalationsThen = then.filter((d) => reportRow(d, { inbox_id: 'i2' })).length;
    await expect.poll(() => page.locator('#inboxes-body tr', { hasText: 'Escalations' }).locator('td.num').textContent()).toBe(String(escalationsThen));
    expect(search().get('as_of')).toBe(instant);
    await page.getByRole('link', { name: 'Escalations' }).click();
    const reachedThen = then
      .flatMap((d) => (reportRow(d, { inbox_id: 'i2' }) ? [d] : []))
      .sort(byDisplayName)
      .map((d) => d.display_name);
    await expect.poll(targetNames).toEqual(reachedThen.slice(0, 20));
    expect(await page.locator('#target-status').textContent()).toBe(`Showing 1–20 of ${reachedThen.length} users`);
    expect(search().get('as_of')).toBe(instant);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV for this target' }).click()]);
    const lines = readFileSync(await download.path(), 'utf8')
      .trim()
      .split('\n');
    expect(lines.length - 1).toBe(then.reduce((n, d) => n + filterEntries(d.entries, { inbox_id: 'i2' }).length, 0));

    await page.getByRole('button', { name: 'Back to now' }).click();
    await expect.poll(() => banner.isVisible()).toBe(false);
    expect(search().get('as_of')).toBeNull();
    await expect.poll(() => page.locator('#target-status').textContent()).toBe(`Showing 1–20 of ${docs.filter((d) => reportRow(d, { inbox_id: 'i2' })).length} users`);
    await page.getByRole('tab', { name: 'Users' }).click();
  });

  it("shows a user's history, paged, each change with its time and event", async () => {
    const token = await api.token(ACCOUNT_A);
    const all: { event: { id: string; type: string } }[] = [];
    for (let cursor: string | null = null; ;) {
      const body = (await (await api.get(`/v1/accounts/${ACCOUNT_A}/access/users/u1/history?size=1000${cursor ? `&cursor=${cursor}` : ''}`, token)).json()) as {
        items: typeof all;
        next_cursor: string | null;
      };
      all.push(...body.items);
      if (!(cursor = body.next_cursor)) break;
    }
    await page.getByLabel('Search users').fill('ana cruz');
    await expect.poll(rowNames).toEqual(['Ana Cruz']);
    await page.getByRole('button', { name: /show what Ana Cruz can access/ }).click();
    const dialog = page.getByRole('dialog', { name: 'Ana Cruz' });
    await dialog.getByRole('tab', { name: 'History' }).click();
    await expect.poll(() => dialog.locator('#history-items > li').count()).toBe(Math.min(20, all.length));
    const first = (await dialog.locator('#history-items > li').first().textContent()) ?? '';
    expect(first).toContain(`Caused by event ${all[0]!.event.type} (id ${all[0]!.event.id},`);
    expect(first).toMatch(/Gained|Created/);
    expect(search().get('user')).toBe('u1');
    expect(search().get('user_tab')).toBe('history');
    await dialog.screenshot({ path: new URL('history.png', SCREENSHOTS).pathname });
    if (all.length > 20) {
      await dialog.getByRole('button', { name: 'More changes' }).click();
      await expect.poll(() => dialog.locator('#history-items > li').count()).toBe(Math.min(40, all.length));
    }
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog.isVisible()).toBe(false);
    await expect.poll(() => search().get('user')).toBeNull();
  });

  it('reopens a shared link (target, as_of, user and tab) in another tab after signing in', async () => {
    const shared = `${url}?tab=inboxes&inbox_id=i2&as_of=2026-04-02T00%3A00%3A00.000Z&user=u1&user_tab=history`;
    const other = await context.newPage();
    other.setDefaultTimeout(15_000);
    try {
      await other.goto(shared);
      await other.getByLabel('Access token').fill(await api.token(ACCOUNT_A));
      await other.getByRole('button', { name: 'Sign in' }).click();
      const dialog = other.getByRole('dialog', { name: 'Ana Cruz' });
      await expect.poll(() => dialog.isVisible(), { timeout: 10_000 }).toBe(true);
      expect(await dialog.getByRole('tab', { name: 'History' }).getAttribute('aria-selected')).toBe('true');
      await expect.poll(() => dialog.locator('#history-items > li').count()).toBeGreaterThan(0);
      expect(await other.locator('#target-title').textContent()).toBe('Who reaches inbox Escalations (i2)');
      expect(await other.getByRole('region', { name: 'Historical report' }).isVisible()).toBe(true);
    } finally {
      await other.close();
    }
  });

  it('for random inboxes and queues of a generated history, live and as of random instants, lists and exports what a replay of the rules gives', async () => {
    // The generator's small test account (40 agents, 500 events over 30 days), in its own account.
    const account = 'acc_test_small';
    const history = testHistory(11).events.filter((e) => e.key === account);
    await api.env.waitForPositions(await api.env.produce(history.map((e) => ({ topic: e.topic, key: e.key, value: e.value }))), 120_000);
    const events = history.map((e) => e.event);
    const ids = (type: string, field: 'inbox_id' | 'cc_queue_id') =>
      [...new Set(events.flatMap((e) => (e.type === type ? [(e.data as Record<string, string>)[field]!] : [])))].sort();
    const inboxes = ids('inbox.upserted', 'inbox_id');
    const queues = ids('queue.upserted', 'cc_queue_id');
    const first = events[0]!.timeMs;
    const last = events[events.length - 1]!.timeMs;
    let seed = 20261130;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed % n;
    };
    const pick = <T>(from: readonly T[], n: number) => [...from].sort(() => rand(3) - 1).slice(0, n);
    const targets: ReportFilter[] = [...pick(inboxes, 3).map((inbox_id) => ({ inbox_id })), ...pick(queues, 3).map((cc_queue_id) => ({ cc_queue_id }))];

    const other = await context.newPage();
    other.setDefaultTimeout(15_000);
    try {
      await other.goto(url);
      await other.getByLabel('Access token').fill(await api.token(account));
      await other.getByRole('button', { name: 'Sign in' }).click();
      await expect.poll(() => other.locator('#account-id').textContent()).toBe(account);
      const shown = () => other.locator('#target-body tr .name').allTextContents();
      let compared = 0;
      let reached = 0;
      for (const target of targets) {
        // Live, then two random instants of the history (the middle of its span is where it changes most).
        for (const at of [undefined, first + rand(last - first), first + rand(last - first)]) {
          const docs = [...expectedDocs(at === undefined ? events : events.filter((e) => e.timeMs <= at)).values()].sort(byDisplayName);
          const expected = docs.filter((d) => reportRow(d, target));
          const query = new URLSearchParams({
            tab: target.inbox_id ? 'inboxes' : 'queues',
            ...(target as Record<string, string>),
            ...(at === undefined ? {} : { as_of: new Date(at).toISOString() }),
          });
          const label = `${query}`;
          await other.goto(`${url}?${query}`);
          if (expected.length === 0) {
            await expect.poll(() => other.locator('#target-status').textContent(), { message: label, timeout: PAGE_MS }).toBe('Nobody reaches it under these filters.');
          } else {
            // Every page, forward, with the count the page states.
            await expect
              .poll(() => other.locator('#target-status').textContent(), { message: label, timeout: PAGE_MS })
              .toMatch(new RegExp(`^Showing 1–\\d+ of ${expected.length} users`));
            const names: string[] = [];
            for (;;) {
              const rows = await shown();
              names.push(...rows);
              if (names.length >= expected.length || (await other.locator('#target-next').isDisabled())) break;
              await other.locator('#target-next').click();
              await expect.poll(() => other.locator('#target-status').textContent(), { message: label, timeout: PAGE_MS }).toMatch(new RegExp(`^Showing ${names.length + 1}–`));
            }
            expect(names, label).toEqual(expected.map((d) => d.display_name));
          }
          const [download] = await Promise.all([other.waitForEvent('download'), other.getByRole('button', { name: 'Export CSV for this target' }).click()]);
          const csv = parseCsv(readFileSync(await download.path(), 'utf8').replace(/^\uFEFF/, ''));
          expect(csv.slice(1), label).toEqual(docs.flatMap((d) => csvRows(d, target)));
          compared += 1;
          reached += expected.length;
        }
      }
      // Not vacuous: every (target, instant) pair was compared, and most reach someone.
      expect(compared).toBe(targets.length * 3);
      expect(reached).toBeGreaterThan(targets.length * 3);
    } finally {
      await other.close();
    }
  });

  it('has no serious or critical accessibility violations in any view, and fits a laptop screen', async () => {
    await page.goto(`${url}`);
    await expect.poll(async () => (await rowNames()).length).toBe(50);
    expect(await axeViolations()).toEqual([]);
    const shown = (selector: string) => async () => (await page.locator(selector).count()) > 0;
    const views: [string, () => Promise<boolean>][] = [
      ['?tab=inboxes', shown('#inboxes-body tr')],
      ['?tab=queues&cc_queue_id=q1', shown('#target-body tr .paths li')],
      ['?as_of=2026-04-02T00%3A00%3A00.000Z', shown('#users-body tr')],
      ['?user=u1', shown('#drill[open] #drill-entries li')],
      ['?user=u1&user_tab=history', shown('#drill[open] #history-items li')],
    ];
    for (const [view, ready] of views) {
      await page.goto(`${url}${view}`);
      await expect.poll(ready, { timeout: 10_000 }).toBe(true);
      expect([view, await axeViolations()]).toEqual([view, []]);
    }
    await page.setViewportSize({ width: 1024, height: 700 });
    await page.goto(url);
    await expect.poll(async () => (await rowNames()).length).toBe(50);
    // No horizontal scrolling at 1024 px.
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await page.screenshot({ path: new URL('laptop.png', SCREENSHOTS).pathname });
    await page.setViewportSize({ width: 1280, height: 900 });
  });
});

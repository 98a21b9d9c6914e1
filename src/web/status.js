// Where the report stands: errors, a 503 from the service (shown as such, never as an empty
// report), and freshness in words ("Up to date", "N events behind (about S s)").
import { $, ApiError, el, state } from './core.js';

export function showError(title, detail, fields = []) {
  const box = $('error');
  box.replaceChildren(el('strong', {}, title), detail ? el('span', {}, ` ${detail}`) : null);
  if (fields.length)
    box.append(
      el(
        'ul',
        {},
        fields.map((f) => el('li', {}, `${f.field}: ${f.message}`)),
      ),
    );
  box.hidden = false;
}

export function clearError() {
  $('error').hidden = true;
}

export function reportFailure(error) {
  if (error instanceof ApiError && error.status === 503) return markViewsUnavailable();
  if (error instanceof ApiError) {
    if (error.status !== 401) showError(`${error.problem.title || 'Error'}:`, error.problem.detail || '', error.problem.errors || []);
  } else showError('The report could not be loaded:', error.message || String(error));
}

/** The 503 problem in words: the reason, the fault, and a repair's progress when one is under way. */
export function showUnavailable(problem) {
  const parts = [el('strong', {}, problem.title || 'The report is not available now'), el('p', {}, problem.detail || 'The service answered 503.')];
  if (problem.fault) parts.push(el('p', { class: 'muted' }, `Fault: ${problem.fault}`));
  const repair = problem.repair;
  if (repair) {
    const percent = repair.total > 0 ? Math.floor((100 * repair.done) / repair.total) : null;
    parts.push(
      el(
        'p',
        { class: 'repair' },
        `Repair: ${repair.phase}${repair.started_at ? `, since ${new Date(repair.started_at).toLocaleString()}` : ''}`,
        percent === null ? null : el('progress', { max: String(repair.total), value: String(repair.done), 'aria-label': 'Repair progress' }),
        percent === null ? null : ` ${repair.done} of ${repair.total} (${percent} %)`,
      ),
    );
  }
  if (Array.isArray(problem.lag))
    parts.push(el('p', { class: 'muted' }, `Behind: ${problem.lag.map((l) => `${l.topic}:${l.partition} has ${l.have ?? 'nothing'} of ${l.wanted}`).join(', ')}`));
  parts.push(el('p', { class: 'muted' }, 'The page retries by itself every few seconds.'));
  $('unavailable').replaceChildren(...parts);
  $('unavailable').hidden = false;
  state.unavailable = true;
  markViewsUnavailable();
  setFreshness('Service unavailable: the report cannot be shown now.', 'down');
}

/** No table may read as "nobody has access" while the service refuses to answer. */
export function markViewsUnavailable() {
  if (!state.unavailable) return;
  for (const view of ['users', 'queues', 'inboxes', 'target']) {
    $(`${view}-body`).replaceChildren();
    $(`${view}-status`).textContent = 'Not available: the service cannot answer now (see above).';
  }
  $('cards').replaceChildren(el('p', { class: 'muted' }, 'Summary not available.'));
  $('pager').hidden = true;
  $('target-pager').hidden = true;
}

/** The service answers again: drop the notice (the caller reloads what the page shows). */
export function hideUnavailable() {
  $('unavailable').hidden = true;
  state.unavailable = false;
  $('pager').hidden = false;
  $('target-pager').hidden = false;
}

export function setFreshness(text, level) {
  const line = $('freshness');
  if (line.textContent !== text) line.textContent = text;
  line.dataset.level = level;
}

const offsetSum = (position) =>
  (position || '')
    .split(',')
    .filter(Boolean)
    .reduce((sum, p) => sum + Number(p.split(':').pop()), 0);

/**
 * The projector's lag, from the public /metrics (access_index_consumer_lag: messages in Kafka not
 * yet searchable, sampled by the projector running in the API's process). Null when this server
 * does not report it (the API alone).
 */
async function readLag() {
  const response = await fetch('/metrics');
  if (!response.ok) return null;
  const lines = (await response.text()).split('\n').filter((l) => l.startsWith('access_index_consumer_lag{'));
  if (lines.length === 0) return null;
  return lines.reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

/**
 * Creates the freshness loop: every `intervalMs` while the page is visible, `refreshSummary()`
 * (cheap: Redis counters) brings a fresh position; N comes from the lag, S from how fast the
 * position advanced over the last minute.
 */
export function createFreshness({ refreshSummary, intervalMs }) {
  let timer;
  let samples = [];

  async function tick() {
    if (!state.token) return;
    if (state.asOf) {
      // Past answers are costly: ask again only to learn whether the service is back.
      if (state.unavailable) await refreshSummary().catch(() => undefined);
      if (!state.unavailable) setFreshness(`Historical report: as of ${new Date(state.asOf).toLocaleString()}, not live.`, 'unknown');
      return;
    }
    try {
      await refreshSummary();
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 503)) setFreshness('Freshness unknown: the service did not answer.', 'unknown');
      return;
    }
    let lag = null;
    try {
      lag = await readLag();
    } catch {
      // the metrics are optional
    }
    const now = Date.now();
    samples.push({ at: now, sum: offsetSum(state.position) });
    while (samples.length > 2 && now - samples[0].at > 60_000) samples.shift();
    if (lag === null) return setFreshness(`Lag not reported by this server; indexed up to ${state.position || 'nothing yet'}.`, 'unknown');
    if (lag === 0) return setFreshness('Up to date', 'ok');
    const first = samples[0];
    const rate = now > first.at ? ((offsetSum(state.position) - first.sum) * 1000) / (now - first.at) : 0;
    const eta = rate > 0 ? ` (about ${Math.max(1, Math.round(lag / rate))} s)` : ' (not advancing at the moment)';
    setFreshness(`${lag} event${lag === 1 ? '' : 's'} behind${eta}`, 'behind');
  }

  return {
    tick,
    start() {
      clearInterval(timer);
      samples = [];
      tick();
      timer = setInterval(() => {
        if (document.visibilityState === 'visible') tick();
      }, intervalMs);
    },
    stop() {
      clearInterval(timer);
    },
  };
}

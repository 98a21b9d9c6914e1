// The access report page: one ES module, no build step. It talks to the API of the same origin
// with the token the admin pasted, kept in sessionStorage (this tab only). All data is rendered as
// text nodes, never as HTML, since names come from another system.

const TOKEN_KEY = 'access-index-token';
const TYPE_LABEL = {
  inbox: 'Inbox',
  automatic_call_recording: 'Automatic recording',
  ad_hoc_call_recording: 'Ad hoc recording',
};
const CHANNEL_LABEL = { voice: 'Voice', video: 'Video', messaging: 'Messaging', email: 'Email' };
const PAGE_SIZE = 50;
// How often the freshness line (and the summary) refreshes while the page is open; a test may set
// window.accessIndexFreshnessMs before the script runs.
const FRESHNESS_MS = globalThis.accessIndexFreshnessMs ?? 5_000;

const $ = (id) => document.getElementById(id);

const state = {
  token: null,
  accountId: null,
  // cursors[i] opens page i; page 0 has none.
  cursors: [null],
  page: 0,
  nextCursor: null,
  tab: 'users',
  seq: 0,
  position: null,
  unavailable: false,
  samples: [],
  freshnessTimer: undefined,
  asOf: '',
};

/** Builds an element; children are nodes or strings (always as text). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child);
  return node;
}

/** The claims of a JWT, read for display only (the server verifies it). */
function claimsOf(token) {
  const part = token.split('.')[1];
  if (!part) throw new Error('This is not a token: it should have three parts separated by dots.');
  const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0))));
}

// ---- errors ----

function showError(title, detail, fields = []) {
  const box = $('error');
  box.replaceChildren(el('strong', {}, title), detail ? el('span', {}, ` ${detail}`) : null);
  if (fields.length) box.append(el('ul', {}, fields.map((f) => el('li', {}, `${f.field}: ${f.message}`))));
  box.hidden = false;
}

function clearError() {
  $('error').hidden = true;
}

class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

/** GET from the API with the token; problems become ApiError, 401 signs out. */
async function api(path, params = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== '' && v !== null && v !== undefined));
  const url = `/v1/accounts/${encodeURIComponent(state.accountId)}/access${path}${query.size ? `?${query}` : ''}`;
  const response = await fetch(url, { headers: { Authorization: `Bearer ${state.token}` } });
  const position = response.headers.get('X-Access-Index-Position');
  if (position !== null) showPosition(position);
  if (response.ok) {
    if (!$('unavailable').hidden) serviceBack();
    return response;
  }
  let problem = { title: `HTTP ${response.status}` };
  try {
    problem = await response.json();
  } catch {
    // not a problem document (a proxy's error page): keep the status
  }
  if (response.status === 503) showUnavailable(problem);
  if (response.status === 401) {
    signOut();
    showError('Please sign in again.', problem.detail ? `The token was refused: ${problem.detail}.` : '');
  }
  throw new ApiError(response.status, problem);
}

function reportFailure(error) {
  if (error instanceof ApiError && error.status === 503) return markViewsUnavailable();
  if (error instanceof ApiError) {
    if (error.status !== 401) showError(`${error.problem.title || 'Error'}:`, error.problem.detail || '', error.problem.errors || []);
  } else showError('The report could not be loaded:', error.message || String(error));
}

function showPosition(position) {
  state.position = position;
  $('position').textContent = position ? `As of Kafka offsets ${position.split(',').join(', ')}` : 'Nothing indexed yet.';
}

// ---- service unavailable (503): shown as such, never as an empty report ----

/** The 503 problem in words: the reason, the fault, and a repair's progress when one is under way. */
function showUnavailable(problem) {
  const box = $('unavailable');
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
  if (Array.isArray(problem.lag)) parts.push(el('p', { class: 'muted' }, `Behind: ${problem.lag.map((l) => `${l.topic}:${l.partition} has ${l.have ?? 'nothing'} of ${l.wanted}`).join(', ')}`));
  parts.push(el('p', { class: 'muted' }, 'The page retries by itself every few seconds.'));
  box.replaceChildren(...parts);
  box.hidden = false;
  state.unavailable = true;
  markViewsUnavailable();
  setFreshness('Service unavailable: the report cannot be shown now.', 'down');
}

/** No table may read as "nobody has access" while the service refuses to answer. */
function markViewsUnavailable() {
  if (!state.unavailable) return;
  for (const view of ['users', 'queues', 'inboxes']) {
    const body = $(`${view}-body`);
    const status = $(`${view}-status`);
    if (body) body.replaceChildren();
    if (status) status.textContent = 'Not available: the service cannot answer now (see above).';
  }
  $('cards').replaceChildren(el('p', { class: 'muted' }, 'Summary not available.'));
  $('pager').hidden = true;
}

/** The service answers again: drop the notice and reload what the page shows. */
function serviceBack() {
  $('unavailable').hidden = true;
  state.unavailable = false;
  $('pager').hidden = false;
  refresh();
}

// ---- freshness in words ----

function setFreshness(text, level) {
  const line = $('freshness');
  if (line.textContent !== text) line.textContent = text;
  line.dataset.level = level;
}

const offsetSum = (position) => (position || '').split(',').filter(Boolean).reduce((sum, p) => sum + Number(p.split(':').pop()), 0);

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
 * "Up to date" or "N events behind (about S s)": N from the lag, S from how fast the position
 * has advanced over the last samples. Also refreshes the summary cards while the page is open.
 */
async function tickFreshness() {
  if (!state.token || state.asOf) return;
  try {
    await loadSummary();
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
  state.samples.push({ at: now, sum: offsetSum(state.position) });
  while (state.samples.length > 1 && now - state.samples[0].at > 60_000) state.samples.shift();
  if (lag === null) return setFreshness(`Lag not reported by this server; indexed up to ${state.position || 'nothing yet'}.`, 'unknown');
  if (lag === 0) return setFreshness('Up to date', 'ok');
  const first = state.samples[0];
  const rate = now > first.at ? ((offsetSum(state.position) - first.sum) * 1000) / (now - first.at) : 0;
  const eta = rate > 0 ? ` (about ${Math.max(1, Math.round(lag / rate))} s)` : ' (not advancing at the moment)';
  setFreshness(`${lag} event${lag === 1 ? '' : 's'} behind${eta}`, 'behind');
}

function startFreshness() {
  clearInterval(state.freshnessTimer);
  state.samples = [];
  tickFreshness();
  state.freshnessTimer = setInterval(() => {
    if (document.visibilityState === 'visible') tickFreshness();
  }, FRESHNESS_MS);
}

// ---- filters ----

function filters() {
  const [sort, order] = $('sort').value.split(':');
  return { q: $('q').value.trim(), channel: $('channel').value, access_type: $('access-type').value, sort, order };
}

function describeFilters() {
  const f = filters();
  const parts = [];
  if (f.channel) parts.push(`${CHANNEL_LABEL[f.channel]} channel only`);
  if (f.access_type) parts.push(`${TYPE_LABEL[f.access_type]} only`);
  return parts.join(' · ');
}

// ---- summary ----

async function loadSummary() {
  const { channel } = filters();
  const s = await (await api('/summary', { channel })).json();
  const card = (metric, label, value) => el('div', { class: 'card', 'data-metric': metric }, el('span', { class: 'value' }, String(value)), el('span', { class: 'label' }, label));
  const group = (title, ...cards) => el('section', { class: 'card-group', 'aria-label': title }, el('h3', {}, title), el('div', { class: 'cards' }, cards));
  $('cards').replaceChildren(
    group(
      'Users with access',
      card('users.total', 'Any type', s.users.total),
      card('users.inbox', 'Inbox', s.users.inbox),
      card('users.automatic_call_recording', 'Automatic recording', s.users.automatic_call_recording),
      card('users.ad_hoc_call_recording', 'Ad hoc recording', s.users.ad_hoc_call_recording),
    ),
    group(
      'Queues giving access',
      card('queues.inbox', 'Inbox', s.queues.inbox),
      card('queues.automatic_call_recording', 'Automatic recording', s.queues.automatic_call_recording),
      card('queues.ad_hoc_call_recording', 'Ad hoc recording', s.queues.ad_hoc_call_recording),
    ),
    group('Inboxes', card('inboxes', 'Reached', s.inboxes)),
  );
}

// ---- users ----

function badges(types) {
  return el('span', { class: 'badges' }, types.map((t) => el('span', { class: `badge ${t}` }, TYPE_LABEL[t] || t)));
}

async function loadUsers() {
  const seq = ++state.seq;
  const f = filters();
  $('users-status').textContent = 'Loading…';
  const params = { ...f, size: PAGE_SIZE, cursor: state.cursors[state.page], include_empty: $('include-empty').checked ? 'true' : '' };
  const page = await (await api('/users', params)).json();
  if (seq !== state.seq) return; // a newer request is on its way: drop this answer
  state.nextCursor = page.next_cursor;
  const rows = page.items.map((u) =>
    el(
      'tr',
      {},
      el('td', {}, el('span', { class: 'name' }, u.display_name || u.user_id), el('span', { class: 'email' }, u.user_email)),
      el('td', {}, u.user_access === 'inactive' ? el('span', { class: 'badge inactive' }, 'Inactive') : el('span', { class: 'muted' }, 'Active')),
      el('td', { class: 'num' }, el('button', { type: 'button', class: 'link count', 'aria-label': `${u.can_access} — show what ${u.display_name || u.user_id} can access`, onclick: () => openDrill(u.user_id) }, String(u.can_access))),
      el('td', {}, badges(u.access_types)),
    ),
  );
  $('users-body').replaceChildren(...rows);
  const first = state.page * PAGE_SIZE + 1;
  const last = state.page * PAGE_SIZE + page.items.length;
  $('users-status').textContent = page.total === 0 ? 'No users match.' : `Showing ${first}–${last} of ${page.total} users${describeFilters() ? ` · ${describeFilters()}` : ''}`;
  $('page-label').textContent = page.total > 0 ? `Page ${state.page + 1} of ${Math.max(1, Math.ceil(page.total / PAGE_SIZE))}` : '';
  $('prev').disabled = state.page === 0;
  $('next').disabled = !page.next_cursor;
}

/** A listing stays open 5 minutes between pages; after that, start again from the first page. */
function restartIfExpired(error) {
  const expired = error instanceof ApiError && error.status === 400 && (error.problem.errors || []).some((e) => e.field === 'cursor');
  if (!expired) return reportFailure(error);
  state.cursors = [null];
  state.page = 0;
  loadUsers()
    .then(() => showError('The listing had expired:', 'it was reloaded from the first page.'))
    .catch(reportFailure);
}

// ---- drill-down ----

function queueName(entry, id) {
  return entry.queues.find((q) => q.id === id)?.name || id;
}

/** One path in plain words: how the user comes to have the entry. */
function explain(path, entry) {
  const member = path.member_type ? ` (${path.member_type})` : '';
  const queue = path.queue_id ? queueName(entry, path.queue_id) : '';
  const role = path.role_id ? `, role ${path.role_id}` : '';
  switch (path.rule) {
    case 'inbox_user_grant':
      return 'Inbox granted to the user directly';
    case 'inbox_queue_grant':
      return `Member of ${queue}${member} — the inbox is granted to the queue`;
    case 'automatic_recording_inbox':
      return `Member of ${queue}${member} — the queue's inbox, with automatic recording${role}`;
    case 'automatic_recording':
      return `Member of ${queue}${member} — automatic recording on the queue${role}`;
    case 'ad_hoc_recording':
      return `Agent of ${queue} — ad hoc recording on the queue`;
    default:
      return path.rule;
  }
}

async function openDrill(userId) {
  clearError();
  try {
    const { channel, access_type } = filters();
    const u = await (await api(`/users/${encodeURIComponent(userId)}`, { channel, access_type })).json();
    $('drill-title').textContent = u.display_name || u.user_id;
    $('drill-sub').textContent = `${u.user_email} · ${u.user_access === 'inactive' ? 'Inactive' : 'Active'} · Can Access ${u.can_access}`;
    $('drill-filter').textContent = describeFilters() ? `Filtered: ${describeFilters()}` : '';
    const items = u.entries.map((entry) =>
      el(
        'li',
        { class: 'entry' },
        el('div', { class: 'entry-head' }, el('span', { class: `badge ${entry.access_type}` }, TYPE_LABEL[entry.access_type]), el('strong', {}, `${entry.target.type === 'queue' ? 'Queue' : 'Inbox'} ${entry.target.name || entry.target.id}`), el('span', { class: 'muted' }, entry.target.id)),
        el('ul', { class: 'paths' }, entry.granted_by.map((p) => el('li', {}, explain(p, entry), ' ', el('span', { class: 'chip' }, CHANNEL_LABEL[p.channel] || p.channel)))),
      ),
    );
    $('drill-entries').replaceChildren(...(items.length ? items : [el('li', { class: 'muted' }, 'No access under the current filters.')]));
    $('drill').showModal();
  } catch (error) {
    reportFailure(error);
  }
}

// ---- queues ----

async function loadQueues() {
  const { channel, access_type } = filters();
  $('queues-status').textContent = 'Loading…';
  const { items } = await (await api('/queues', { channel, access_type })).json();
  $('queues-body').replaceChildren(
    ...items.map((q) =>
      el('tr', {}, el('td', {}, el('span', { class: 'name' }, q.queue_name), el('span', { class: 'email' }, q.cc_queue_id)), el('td', {}, CHANNEL_LABEL[q.channel] || '—'), el('td', { class: 'num' }, String(q.users.inbox)), el('td', { class: 'num' }, String(q.users.automatic_call_recording)), el('td', { class: 'num' }, String(q.users.ad_hoc_call_recording))),
    ),
  );
  $('queues-status').textContent = items.length ? `${items.length} queues give access${describeFilters() ? ` · ${describeFilters()}` : ''}` : 'No queue gives access under these filters.';
}

// ---- CSV ----

async function exportCsv() {
  clearError();
  const button = $('export');
  button.disabled = true;
  button.textContent = 'Exporting…';
  try {
    const { q, channel, access_type, sort, order } = filters();
    const response = await api('/users.csv', { q, channel, access_type, sort, order });
    const blob = await response.blob();
    const name = /filename="([^"]+)"/.exec(response.headers.get('Content-Disposition') || '')?.[1] || 'access.csv';
    const url = URL.createObjectURL(blob);
    const a = el('a', { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (error) {
    reportFailure(error);
  } finally {
    button.disabled = false;
    button.textContent = 'Export CSV';
  }
}

// ---- flow ----

async function refresh() {
  clearError();
  state.cursors = [null];
  state.page = 0;
  try {
    await Promise.all([loadSummary(), state.tab === 'users' ? loadUsers() : loadQueues()]);
  } catch (error) {
    reportFailure(error);
  }
}

function selectTab(tab) {
  state.tab = tab;
  for (const name of ['users', 'queues']) {
    const selected = name === tab;
    $(`tab-${name}`).setAttribute('aria-selected', String(selected));
    $(`tab-${name}`).tabIndex = selected ? 0 : -1;
    $(`view-${name}`).hidden = !selected;
  }
  (tab === 'users' ? loadUsers() : loadQueues()).catch(reportFailure);
}

function signIn(token) {
  const claims = claimsOf(token);
  if (typeof claims.account_id !== 'string') throw new Error('This token names no account (no account_id claim).');
  if (typeof claims.exp === 'number' && claims.exp * 1000 < Date.now()) throw new Error('This token has expired: ask for a new one.');
  state.token = token;
  state.accountId = claims.account_id;
  sessionStorage.setItem(TOKEN_KEY, token);
  $('account-id').textContent = claims.account_id;
  $('who').hidden = false;
  $('sign-in').hidden = true;
  $('report').hidden = false;
  refresh();
  startFreshness();
}

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = null;
  clearInterval(state.freshnessTimer);
  $('unavailable').hidden = true;
  state.unavailable = false;
  $('who').hidden = true;
  $('report').hidden = true;
  $('sign-in').hidden = false;
  $('token').value = '';
}

function debounce(fn, ms) {
  let timer;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  };
}

function wire() {
  $('sign-in-form').addEventListener('submit', (event) => {
    event.preventDefault();
    clearError();
    try {
      signIn($('token').value.trim());
    } catch (error) {
      showError('Cannot sign in:', error.message);
    }
  });
  $('sign-out').addEventListener('click', () => {
    signOut();
    clearError();
  });
  $('filters').addEventListener('submit', (event) => event.preventDefault());
  $('q').addEventListener('input', debounce(refresh, 300));
  for (const id of ['channel', 'access-type', 'sort', 'include-empty']) $(id).addEventListener('change', refresh);
  $('export').addEventListener('click', exportCsv);
  $('next').addEventListener('click', () => {
    if (!state.nextCursor) return;
    state.cursors[state.page + 1] = state.nextCursor;
    state.page += 1;
    loadUsers().catch(restartIfExpired);
  });
  $('prev').addEventListener('click', () => {
    if (state.page === 0) return;
    state.page -= 1;
    loadUsers().catch(restartIfExpired);
  });
  $('tab-users').addEventListener('click', () => selectTab('users'));
  $('tab-queues').addEventListener('click', () => selectTab('queues'));
  for (const tab of ['users', 'queues'])
    $(`tab-${tab}`).addEventListener('keydown', (event) => {
      if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft') return;
      const other = tab === 'users' ? 'queues' : 'users';
      selectTab(other);
      $(`tab-${other}`).focus();
    });
  $('drill-close').addEventListener('click', () => $('drill').close());
}

wire();
const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) {
  try {
    signIn(saved);
  } catch {
    signOut();
  }
} else signOut();

// The access report page: ES modules, no build step. It talks to the API of the same origin with
// the token the admin pasted, kept in sessionStorage (this tab only). Every view is a link: the
// tab, filters, selected inbox, queue or user and `as_of` live in the query string, so reloading
// or sharing the URL reopens the same view, and back/forward walk the views.
import { $, ApiError, api, claimsOf, el, filters, hooks, state, targetParams, when } from './core.js';
import { historyMore, openDrill, showDrillTab } from './drill.js';
import { clearError, createFreshness, hideUnavailable, reportFailure, showError, showUnavailable } from './status.js';
import { loadInboxes, loadQueues, loadSummary, loadTarget, loadUsers, pages, resetPages, targetLabel } from './views.js';

const TOKEN_KEY = 'access-index-token';
const TABS = ['users', 'queues', 'inboxes'];
// How often the freshness line (and the summary) refreshes; a test may set it before the script runs.
const freshness = createFreshness({ refreshSummary: loadSummary, intervalMs: globalThis.accessIndexFreshnessMs ?? 5_000 });

// ---- the view in the URL ----

function urlOf() {
  const f = filters();
  const params = new URLSearchParams();
  if (state.tab !== 'users') params.set('tab', state.tab);
  if (state.target) params.set(state.target.type === 'inbox' ? 'inbox_id' : 'cc_queue_id', state.target.id);
  for (const key of ['q', 'channel', 'access_type']) if (f[key]) params.set(key, f[key]);
  if (`${f.sort}:${f.order}` !== 'name:asc') params.set('sort', `${f.sort}:${f.order}`);
  if (f.include_empty) params.set('include_empty', 'true');
  if (state.asOf) params.set('as_of', state.asOf);
  if (state.user) params.set('user', state.user);
  if (state.user && state.userTab !== 'access') params.set('user_tab', state.userTab);
  return `${location.pathname}${params.size ? `?${params}` : ''}`;
}

/** Records the current view: a new history entry, or (while typing a search) the same one. */
function saveView(mode = 'push') {
  const url = urlOf();
  if (url === `${location.pathname}${location.search}`) return;
  if (mode === 'push') history.pushState(null, '', url);
  else history.replaceState(null, '', url);
}

/** Sets the controls and the state from the URL. */
function readView() {
  const params = new URLSearchParams(location.search);
  const select = (id, value, fallback) => {
    const control = $(id);
    control.value = value ?? fallback;
    if (control.selectedIndex < 0) control.value = fallback; // a value the page does not offer
  };
  $('q').value = params.get('q') ?? '';
  select('channel', params.get('channel'), '');
  select('access-type', params.get('access_type'), '');
  select('sort', params.get('sort'), 'name:asc');
  $('include-empty').checked = params.get('include_empty') === 'true';
  state.tab = TABS.includes(params.get('tab')) ? params.get('tab') : 'users';
  const inbox = params.get('inbox_id');
  const queue = params.get('cc_queue_id');
  state.target = inbox ? { type: 'inbox', id: inbox } : queue ? { type: 'queue', id: queue } : null;
  if (state.target) state.tab = state.target.type === 'inbox' ? 'inboxes' : 'queues';
  state.asOf = params.get('as_of') ?? '';
  state.user = params.get('user');
  state.userTab = params.get('user_tab') === 'history' ? 'history' : 'access';
}

// ---- rendering ----

function showTabs() {
  for (const name of TABS) {
    const selected = name === state.tab;
    $(`tab-${name}`).setAttribute('aria-selected', String(selected));
    $(`tab-${name}`).tabIndex = selected ? 0 : -1;
    $(`view-${name}`).hidden = !selected || !!state.target;
  }
  $('view-target').hidden = !state.target;
}

function showAsOf() {
  $('as-of-banner').hidden = !state.asOf;
  $('as-of-text').textContent = state.asOf ? `Showing the report as it stood on ${when(state.asOf)}. Nothing after that instant is counted.` : '';
  $('as-of').value = state.asOf ? toLocalInput(state.asOf) : '';
  document.body.classList.toggle('historical', !!state.asOf);
}

/** An instant as the value of a datetime-local control (the browser's time zone). */
function toLocalInput(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function loadView() {
  if (state.target) return loadTarget(openUser);
  if (state.tab === 'queues') return loadQueues(openTarget);
  if (state.tab === 'inboxes') return loadInboxes(openTarget);
  return loadUsers(openUser);
}

/** Everything the URL names: summary, the tab or target, the drill-down. */
async function render() {
  clearError();
  resetPages();
  showTabs();
  showAsOf();
  if (state.target && !state.names[state.target.type].has(state.target.id)) {
    // A shared link to a target: its name comes from the (small) list of inboxes or queues.
    await (state.target.type === 'inbox' ? loadInboxes(openTarget) : loadQueues(openTarget)).catch(() => undefined);
  }
  if (!state.user && $('drill').open) $('drill').close();
  await Promise.all([Promise.all([loadSummary(), loadView()]).catch(reportFailure), state.user ? openDrill().catch(drillFailed) : undefined]);
  freshness.tick();
}

function drillFailed(error) {
  state.user = null;
  saveView('replace');
  reportFailure(error);
}

// ---- navigation ----

function openUser(userId) {
  state.user = userId;
  state.userTab = 'access';
  saveView();
  clearError();
  openDrill().catch(drillFailed);
}

function openTarget(type, id) {
  state.target = { type, id };
  state.tab = type === 'inbox' ? 'inboxes' : 'queues';
  saveView();
  pages.target = { cursors: [null], page: 0, next: null };
  showTabs();
  $('target-title').textContent = `Who reaches ${targetLabel()}`;
  $('target-title').focus();
  loadTarget(openUser).catch(reportFailure);
}

function selectTab(tab) {
  state.tab = tab;
  state.target = null;
  saveView();
  showTabs();
  loadView().catch(reportFailure);
}

/** Filters changed: back to the first page of every listing. */
function filtersChanged(mode) {
  saveView(mode);
  clearError();
  resetPages();
  Promise.all([loadSummary(), loadView()]).catch(reportFailure);
}

function setAsOf(iso) {
  state.asOf = iso;
  saveView();
  render();
}

/** A live listing stays open 5 minutes between pages, an as_of one until a rebuild; after that, start again from the first page. */
function restartIfExpired(error) {
  const expired = error instanceof ApiError && error.status === 400 && (error.problem.errors || []).some((e) => e.field === 'cursor');
  if (!expired) return reportFailure(error);
  resetPages();
  loadView()
    .then(() => showError('The listing had expired:', 'it was reloaded from the first page.'))
    .catch(reportFailure);
}

function turnPage(name, step) {
  const p = pages[name];
  if (step > 0 && !p.next) return;
  if (step < 0 && p.page === 0) return;
  if (step > 0) p.cursors[p.page + 1] = p.next;
  p.page += step;
  loadView().catch(restartIfExpired);
}

// ---- CSV ----

/** Downloads the CSV of what the view shows (filters, target, as_of), with the token. */
async function exportCsv(button) {
  clearError();
  const label = button.textContent;
  button.disabled = true;
  button.textContent = 'Exporting…';
  try {
    const { q, channel, access_type, sort, order } = filters();
    const response = await api('/users.csv', { q, channel, access_type: state.target?.type === 'inbox' ? '' : access_type, sort, order, ...targetParams() });
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
    button.textContent = label;
  }
}

// ---- signing in ----

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
  render();
  freshness.start();
}

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = null;
  freshness.stop();
  hideUnavailable();
  if ($('drill').open) $('drill').close();
  $('who').hidden = true;
  $('report').hidden = true;
  $('sign-in').hidden = false;
  $('token').value = '';
}

hooks.unavailable = showUnavailable;
hooks.available = () => {
  hideUnavailable();
  render();
};
hooks.signedOut = (problem) => {
  signOut();
  showError('Please sign in again.', problem.detail ? `The token was refused: ${problem.detail}.` : '');
};

function debounce(fn, ms) {
  let timer;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  };
}

/** Arrow keys move between the tabs of a tab list (WAI-ARIA tabs pattern). */
function arrowTabs(ids, select) {
  ids.forEach((id, i) =>
    $(id).addEventListener('keydown', (event) => {
      const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
      if (!step) return;
      event.preventDefault();
      const next = (i + step + ids.length) % ids.length;
      select(next);
      $(ids[next]).focus();
    }),
  );
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
  $('q').addEventListener(
    'input',
    debounce(() => filtersChanged('replace'), 300),
  );
  for (const id of ['channel', 'access-type', 'sort', 'include-empty']) $(id).addEventListener('change', () => filtersChanged('push'));
  $('export').addEventListener('click', () => exportCsv($('export')));
  $('target-export').addEventListener('click', () => exportCsv($('target-export')));
  $('next').addEventListener('click', () => turnPage('users', 1));
  $('prev').addEventListener('click', () => turnPage('users', -1));
  $('target-next').addEventListener('click', () => turnPage('target', 1));
  $('target-prev').addEventListener('click', () => turnPage('target', -1));
  $('target-back').addEventListener('click', () => {
    selectTab(state.tab);
    $(`tab-${state.tab}`).focus();
  });
  for (const tab of TABS) $(`tab-${tab}`).addEventListener('click', () => selectTab(tab));
  arrowTabs(
    TABS.map((t) => `tab-${t}`),
    (i) => selectTab(TABS[i]),
  );
  const userTabs = ['access', 'history'];
  const selectUserTab = (tab) => {
    state.userTab = tab;
    saveView('replace');
    showDrillTab(tab).catch(reportFailure);
  };
  for (const tab of userTabs) $(`dtab-${tab}`).addEventListener('click', () => selectUserTab(tab));
  arrowTabs(
    userTabs.map((t) => `dtab-${t}`),
    (i) => selectUserTab(userTabs[i]),
  );
  $('history-more').addEventListener('click', () => historyMore().catch(reportFailure));
  $('drill-close').addEventListener('click', () => $('drill').close());
  $('drill').addEventListener('close', () => {
    if (!state.user) return;
    state.user = null;
    saveView();
  });
  $('as-of-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const value = $('as-of').value;
    if (!value) return setAsOf('');
    const instant = new Date(value);
    if (Number.isNaN(instant.getTime())) return showError('As of:', 'pick a date and time.');
    setAsOf(instant.toISOString());
  });
  $('as-of-now').addEventListener('click', () => {
    setAsOf('');
    $('as-of').focus();
  });
  window.addEventListener('popstate', () => {
    readView();
    if (state.token) render();
  });
}

wire();
readView();
const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) {
  try {
    signIn(saved);
  } catch {
    signOut();
  }
} else signOut();

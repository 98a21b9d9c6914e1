// The report's views: summary cards, the users listing, queues, inboxes, and the users who reach
// one inbox or queue (with each one's path). Listings load a page at a time through cursors.
import { $, CHANNEL_LABEL, TYPE_LABEL, api, badges, describeFilters, el, filters, state, targetParams } from './core.js';
import { explainEntry } from './drill.js';

const PAGE_SIZE = 50;
// The target view fetches each row's drill-down for its paths: fewer rows a page, a few at a time.
const TARGET_PAGE_SIZE = 20;
const DRILL_CONCURRENCY = 5;

/** A cursor-paged listing: cursors[i] opens page i (page 0 has none). */
function pager() {
  return { cursors: [null], page: 0, next: null };
}
export const pages = { users: pager(), target: pager() };
export function resetPages() {
  pages.users = pager();
  pages.target = pager();
}

export async function loadSummary() {
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

/** A user's name as a link-like button opening the drill-down. */
function userButton(u, openUser) {
  return el(
    'button',
    { type: 'button', class: 'link count', 'aria-label': `${u.can_access} — show what ${u.display_name || u.user_id} can access`, onclick: () => openUser(u.user_id) },
    String(u.can_access),
  );
}

function showPage(prefix, p, total, size, count) {
  $(`${prefix}page-label`).textContent = total > 0 ? `Page ${p.page + 1} of ${Math.max(1, Math.ceil(total / size))}` : '';
  $(`${prefix}prev`).disabled = p.page === 0;
  $(`${prefix}next`).disabled = !p.next;
  return { first: p.page * size + 1, last: p.page * size + count };
}

export async function loadUsers(openUser) {
  const seq = ++state.seq;
  const p = pages.users;
  $('users-status').textContent = 'Loading…';
  const page = await (await api('/users', { ...filters(), size: PAGE_SIZE, cursor: p.cursors[p.page] })).json();
  if (seq !== state.seq) return; // a newer request is on its way: drop this answer
  p.next = page.next_cursor;
  $('users-body').replaceChildren(
    ...page.items.map((u) =>
      el(
        'tr',
        {},
        el('td', {}, el('span', { class: 'name' }, u.display_name || u.user_id), el('span', { class: 'email' }, u.user_email)),
        el('td', {}, u.user_access === 'inactive' ? el('span', { class: 'badge inactive' }, 'Inactive') : el('span', { class: 'muted' }, 'Active')),
        el('td', { class: 'num' }, userButton(u, openUser)),
        el('td', {}, badges(u.access_types)),
      ),
    ),
  );
  const { first, last } = showPage('', p, page.total, PAGE_SIZE, page.items.length);
  $('users-status').textContent = page.total === 0 ? 'No users match.' : `Showing ${first}–${last} of ${page.total} users${describeFilters() ? ` · ${describeFilters()}` : ''}`;
}

export async function loadQueues(openTarget) {
  const { channel, access_type } = filters();
  $('queues-status').textContent = 'Loading…';
  const { items } = await (await api('/queues', { channel, access_type })).json();
  state.names.queue = new Map(items.map((q) => [q.cc_queue_id, q.queue_name]));
  $('queues-body').replaceChildren(
    ...items.map((q) =>
      el(
        'tr',
        {},
        el(
          'td',
          {},
          el('a', { href: targetHref('queue', q.cc_queue_id), class: 'name', onclick: (e) => follow(e, () => openTarget('queue', q.cc_queue_id)) }, q.queue_name),
          el('span', { class: 'email' }, q.cc_queue_id),
        ),
        el('td', {}, CHANNEL_LABEL[q.channel] || '—'),
        el('td', { class: 'num' }, String(q.users.inbox)),
        el('td', { class: 'num' }, String(q.users.automatic_call_recording)),
        el('td', { class: 'num' }, String(q.users.ad_hoc_call_recording)),
      ),
    ),
  );
  $('queues-status').textContent = items.length
    ? `${items.length} queues give access${describeFilters() ? ` · ${describeFilters()}` : ''}. Open a queue to see who reaches it.`
    : 'No queue gives access under these filters.';
}

export async function loadInboxes(openTarget) {
  const { channel } = filters();
  $('inboxes-status').textContent = 'Loading…';
  const { items } = await (await api('/inboxes', { channel })).json();
  state.names.inbox = new Map(items.map((i) => [i.inbox_id, i.inbox_name]));
  $('inboxes-body').replaceChildren(
    ...items.map((i) =>
      el(
        'tr',
        {},
        el(
          'td',
          {},
          el('a', { href: targetHref('inbox', i.inbox_id), class: 'name', onclick: (e) => follow(e, () => openTarget('inbox', i.inbox_id)) }, i.inbox_name),
          el('span', { class: 'email' }, i.inbox_id),
        ),
        el('td', { class: 'num' }, String(i.users)),
      ),
    ),
  );
  $('inboxes-status').textContent = items.length
    ? `${items.length} inboxes are reached${filters().channel ? ` · ${CHANNEL_LABEL[filters().channel]} channel only` : ''}. Open an inbox to see who reaches it.`
    : 'No inbox is reached under these filters.';
}

/** The page's own link to a target (so it can open in a new tab, or be copied). */
function targetHref(type, id) {
  const url = new URL(location.href);
  url.searchParams.set('tab', type === 'inbox' ? 'inboxes' : 'queues');
  url.searchParams.delete('inbox_id');
  url.searchParams.delete('cc_queue_id');
  url.searchParams.delete('user');
  url.searchParams.set(type === 'inbox' ? 'inbox_id' : 'cc_queue_id', id);
  return `${url.pathname}${url.search}`;
}

/** A plain click stays in the page; a click with a modifier opens the link as the browser does. */
function follow(event, fn) {
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  fn();
}

/** Runs fn over items, at most `limit` at a time. */
async function mapLimit(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    }),
  );
  return out;
}

export function targetLabel() {
  const { type, id } = state.target;
  const name = state.names[type]?.get(id);
  return `${type === 'inbox' ? 'inbox' : 'queue'} ${name && name !== id ? `${name} (${id})` : id}`;
}

function pathItem(entry, path) {
  return el(
    'li',
    {},
    el('span', { class: `badge ${entry.access_type}` }, TYPE_LABEL[entry.access_type]),
    ' ',
    explainEntry(path, entry),
    ' ',
    el('span', { class: 'chip' }, CHANNEL_LABEL[path.channel] || path.channel),
  );
}

/** The users who reach the selected inbox or queue, each with the paths from the drill-down. */
export async function loadTarget(openUser) {
  const seq = ++state.seq;
  const p = pages.target;
  const { channel, access_type, q, sort, order } = filters();
  const base = { channel, access_type: state.target.type === 'inbox' ? '' : access_type, ...targetParams() };
  $('target-title').textContent = `Who reaches ${targetLabel()}`;
  $('target-back').textContent = state.target.type === 'inbox' ? '← All inboxes' : '← All queues';
  $('target-status').textContent = 'Loading…';
  const page = await (await api('/users', { ...base, q, sort, order, size: TARGET_PAGE_SIZE, cursor: p.cursors[p.page] })).json();
  if (seq !== state.seq) return;
  p.next = page.next_cursor;
  // As of a past instant each drill-down replays the account's intervals (seconds for the largest
  // accounts): the rows then show access types, and the paths open with the user.
  const drills = state.asOf
    ? page.items.map(() => null)
    : await mapLimit(page.items, DRILL_CONCURRENCY, async (u) => (await api(`/users/${encodeURIComponent(u.user_id)}`, base)).json());
  if (seq !== state.seq) return;
  $('target-body').replaceChildren(
    ...page.items.map((u, i) =>
      el(
        'tr',
        {},
        el(
          'td',
          {},
          el('span', { class: 'name' }, u.display_name || u.user_id),
          el('span', { class: 'email' }, u.user_email),
          u.user_access === 'inactive' ? el('span', { class: 'badge inactive' }, 'Inactive') : null,
        ),
        el('td', { class: 'num' }, userButton(u, openUser)),
        el(
          'td',
          {},
          drills[i] === null
            ? [badges(u.access_types), el('span', { class: 'muted' }, ' Open the user for the paths as of then.')]
            : el(
                'ul',
                { class: 'paths' },
                drills[i].entries.flatMap((entry) => entry.granted_by.map((path) => pathItem(entry, path))),
              ),
        ),
      ),
    ),
  );
  const { first, last } = showPage('target-', p, page.total, TARGET_PAGE_SIZE, page.items.length);
  $('target-status').textContent =
    page.total === 0 ? 'Nobody reaches it under these filters.' : `Showing ${first}–${last} of ${page.total} users${describeFilters() ? ` · ${describeFilters()}` : ''}`;
}

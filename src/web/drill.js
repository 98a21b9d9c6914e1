// A user's drill-down: what they can access and why (Access tab), and their access changes over
// time, each with the event that caused it (History tab, paged).
import { $, CHANNEL_LABEL, TYPE_LABEL, api, describeFilters, el, filters, state, targetParams, when } from './core.js';

const HISTORY_PAGE = 20;

function queueName(entry, id) {
  return entry.queues.find((q) => q.id === id)?.name || id;
}

/** One path in plain words: how the user comes to have the entry. */
export function explainEntry(path, entry) {
  const member = path.member_type ? ` (${path.member_type})` : '';
  const queue = path.queue_id ? queueName(entry, path.queue_id) : '';
  const role = path.role_id ? `, role ${path.role_id}` : '';
  const target = `${entry.target.type === 'queue' ? 'queue' : 'inbox'} ${entry.target.name || entry.target.id}`;
  switch (path.rule) {
    case 'inbox_user_grant':
      return `Inbox granted to the user directly`;
    case 'inbox_queue_grant':
      return `Member of ${queue}${member} — the inbox is granted to the queue`;
    case 'automatic_recording_inbox':
      return `Member of ${queue}${member} — the queue's inbox, with automatic recording${role}`;
    case 'automatic_recording':
      return `Member of ${queue}${member} — automatic recording on the queue${role}`;
    case 'ad_hoc_recording':
      return `Agent of ${queue} — ad hoc recording on the queue`;
    default:
      return `${path.rule} (${target})`;
  }
}

function entryItem(entry) {
  return el(
    'li',
    { class: 'entry' },
    el(
      'div',
      { class: 'entry-head' },
      el('span', { class: `badge ${entry.access_type}` }, TYPE_LABEL[entry.access_type]),
      el('strong', {}, `${entry.target.type === 'queue' ? 'Queue' : 'Inbox'} ${entry.target.name || entry.target.id}`),
      el('span', { class: 'muted' }, entry.target.id),
    ),
    el(
      'ul',
      { class: 'paths' },
      entry.granted_by.map((p) => el('li', {}, explainEntry(p, entry), ' ', el('span', { class: 'chip' }, CHANNEL_LABEL[p.channel] || p.channel))),
    ),
  );
}

/** Fills the drill-down of state.user (Access tab) and opens the dialog. */
export async function openDrill() {
  const userId = state.user;
  const { channel, access_type } = filters();
  const u = await (await api(`/users/${encodeURIComponent(userId)}`, { channel, access_type, ...targetParams() })).json();
  if (state.user !== userId) return;
  $('drill-title').textContent = u.display_name || u.user_id;
  $('drill-sub').textContent = `${u.user_email} · ${u.user_access === 'inactive' ? 'Inactive' : 'Active'} · Can Access ${u.can_access}`;
  const scope = [describeFilters(), state.target ? `through ${state.target.type} ${state.target.id} only` : '', state.asOf ? `as of ${when(state.asOf)}` : '']
    .filter(Boolean)
    .join(' · ');
  $('drill-filter').textContent = scope ? `Filtered: ${scope}` : '';
  $('drill-entries').replaceChildren(...(u.entries.length ? u.entries.map(entryItem) : [el('li', { class: 'muted' }, 'No access under the current filters.')]));
  history.reset();
  showDrillTab(state.userTab);
  if (!$('drill').open) $('drill').showModal();
}

export function showDrillTab(tab) {
  for (const name of ['access', 'history']) {
    const selected = name === tab;
    $(`dtab-${name}`).setAttribute('aria-selected', String(selected));
    $(`dtab-${name}`).tabIndex = selected ? 0 : -1;
    $(`drill-${name}`).hidden = !selected;
  }
  if (tab === 'history' && !history.loaded) return history.more();
  return Promise.resolve();
}

const CHANGE_WORD = { granted: 'Gained', revoked: 'Lost', changed: 'Changed', created: 'Created', updated: 'Profile updated', deleted: 'Deleted' };

function changeItem(item) {
  const head = [el('strong', {}, CHANGE_WORD[item.change] || item.change)];
  const details = [];
  if (item.kind === 'entry') {
    const entry = item.entry;
    head.push(
      ' ',
      el('span', { class: `badge ${item.access_type}` }, TYPE_LABEL[item.access_type] || item.access_type),
      ' ',
      `${item.target.type === 'queue' ? 'Queue' : 'Inbox'} ${item.target.name || item.target.id}`,
    );
    if (entry)
      details.push(
        el(
          'ul',
          { class: 'paths' },
          entry.granted_by.map((p) => el('li', {}, explainEntry(p, entry), ' ', el('span', { class: 'chip' }, CHANNEL_LABEL[p.channel] || p.channel))),
        ),
      );
  } else if (item.profile) {
    const prev = item.previous;
    const changed = prev
      ? Object.keys(item.profile)
          .filter((k) => item.profile[k] !== prev[k])
          .map((k) => `${k.replace('_', ' ')}: ${prev[k]} → ${item.profile[k]}`)
      : [`${item.profile.display_name} <${item.profile.user_email}>, ${item.profile.user_access}`];
    head.push(' ', changed.join('; '));
  }
  const e = item.event;
  return el(
    'li',
    { class: `entry change ${item.change}` },
    el('div', { class: 'entry-head' }, el('time', { datetime: item.at }, when(item.at))),
    el('div', {}, head),
    details,
    el('p', { class: 'muted event' }, `Caused by event ${e.type} (id ${e.id}, ${e.topic}:${e.partition} offset ${e.offset})`),
  );
}

/** The History tab: pages of changes, oldest first, "More changes" while there are more. */
const history = {
  loaded: false,
  cursor: null,
  count: 0,
  reset() {
    this.loaded = false;
    this.cursor = null;
    this.count = 0;
    $('history-items').replaceChildren();
    $('history-more').hidden = true;
    $('history-status').textContent = '';
  },
  async more() {
    const userId = state.user;
    $('history-status').textContent = 'Loading…';
    const page = await (await api(`/users/${encodeURIComponent(userId)}/history`, { size: HISTORY_PAGE, cursor: this.cursor })).json();
    if (state.user !== userId) return;
    this.loaded = true;
    this.cursor = page.next_cursor;
    this.count += page.items.length;
    $('history-items').append(...page.items.map(changeItem));
    $('history-more').hidden = !page.next_cursor;
    $('history-status').textContent =
      this.count === 0 ? 'No change recorded.' : `${this.count} change${this.count === 1 ? '' : 's'} shown, oldest first${page.next_cursor ? '; more below' : ''}.`;
  },
};

export const historyMore = () => history.more();

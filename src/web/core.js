// What every part of the page shares: the state, DOM helpers, labels, and the API client. All
// data is rendered as text nodes, never as HTML, since names come from another system.

export const TYPE_LABEL = {
  inbox: 'Inbox',
  automatic_call_recording: 'Automatic recording',
  ad_hoc_call_recording: 'Ad hoc recording',
};
export const CHANNEL_LABEL = { voice: 'Voice', video: 'Video', messaging: 'Messaging', email: 'Email' };

export const $ = (id) => document.getElementById(id);

export const state = {
  token: null,
  accountId: null,
  tab: 'users',
  // the selected inbox or queue ({ type: 'inbox' | 'queue', id }), or null
  target: null,
  // the user whose drill-down is open, and its tab ('access' | 'history')
  user: null,
  userTab: 'access',
  // the report's instant (RFC 3339), or '' for now
  asOf: '',
  // names of the inboxes and queues last listed, for headings
  names: { inbox: new Map(), queue: new Map() },
  position: null,
  unavailable: false,
  seq: 0,
};

/** Set by app.js: what to do when the service answers 503, answers again, or refuses the token. */
export const hooks = { unavailable: () => {}, available: () => {}, signedOut: () => {} };

/** Builds an element; children are nodes or strings (always as text). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null) continue;
    if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child);
  return node;
}

/** The claims of a JWT, read for display only (the server verifies it). */
export function claimsOf(token) {
  const part = token.split('.')[1];
  if (!part) throw new Error('This is not a token: it should have three parts separated by dots.');
  const json = atob(
    part
      .replace(/-/g, '+')
      .replace(/_/g, '/')
      .padEnd(Math.ceil(part.length / 4) * 4, '='),
  );
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0))));
}

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export function showPosition(position) {
  state.position = position;
  $('position').textContent = position ? `As of Kafka offsets ${position.split(',').join(', ')}` : 'Nothing indexed yet.';
}

/** The report's URL for a path and parameters (empty ones left out), `as_of` added when set. */
export function reportUrl(path, params = {}) {
  const all = { ...params, ...(state.asOf && !path.endsWith('/history') ? { as_of: state.asOf } : {}) };
  const query = new URLSearchParams(Object.entries(all).filter(([, v]) => v !== '' && v !== null && v !== undefined));
  return `/v1/accounts/${encodeURIComponent(state.accountId)}/access${path}${query.size ? `?${query}` : ''}`;
}

/** GET from the API with the token; problems become ApiError, 401 signs out, 503 is shown as such. */
export async function api(path, params = {}) {
  const response = await fetch(reportUrl(path, params), { headers: { Authorization: `Bearer ${state.token}` } });
  const position = response.headers.get('X-Access-Index-Position');
  if (position !== null) showPosition(position);
  if (response.ok) {
    if (state.unavailable) hooks.available();
    return response;
  }
  let problem = { title: `HTTP ${response.status}` };
  try {
    problem = await response.json();
  } catch {
    // not a problem document (a proxy's error page): keep the status
  }
  if (response.status === 503) hooks.unavailable(problem);
  if (response.status === 401) hooks.signedOut(problem);
  throw new ApiError(response.status, problem);
}

/** The filters of the form, as API parameters. */
export function filters() {
  const [sort, order] = $('sort').value.split(':');
  return { q: $('q').value.trim(), channel: $('channel').value, access_type: $('access-type').value, sort, order, include_empty: $('include-empty').checked ? 'true' : '' };
}

/** The target filter as API parameters. */
export function targetParams() {
  if (!state.target) return {};
  return state.target.type === 'inbox' ? { inbox_id: state.target.id } : { cc_queue_id: state.target.id };
}

export function describeFilters() {
  const f = filters();
  const parts = [];
  if (f.channel) parts.push(`${CHANNEL_LABEL[f.channel]} channel only`);
  if (f.access_type) parts.push(`${TYPE_LABEL[f.access_type]} only`);
  return parts.join(' · ');
}

export function badges(types) {
  return el(
    'span',
    { class: 'badges' },
    types.map((t) => el('span', { class: `badge ${t}` }, TYPE_LABEL[t] || t)),
  );
}

/** A date-time for people, with the exact instant beside it for auditors. */
export function when(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${d.toLocaleString()} (${iso})`;
}

/**
 * What a caller cannot do: read without a valid token, read another account, read without the
 * scope; and what hostile input cannot do: break the search (500), or reach another account's data.
 */
import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/api/tokens.ts';
import { type ApiEnv, SECRET, expectedDocs, startApiEnv } from './api-harness.ts';
import { ACCOUNT_A, ACCOUNT_B, accountA, accountB } from './api-scenario.ts';

const BASE = `/v1/accounts/${ACCOUNT_A}/access`;
const ROUTES = ['/summary', '/users', '/users/u1', '/queues', '/inboxes', '/users.csv'];

describe('API security', () => {
  let api: ApiEnv;
  let token: string;
  let namesA: Map<string, string>;

  beforeAll(async () => {
    api = await startApiEnv();
    token = await api.token(ACCOUNT_A);
    await api.load(ACCOUNT_A, accountA());
    await api.load(ACCOUNT_B, accountB());
    namesA = new Map([...expectedDocs(accountA()).values()].map((d) => [d.user_id, d.display_name]));
  });

  afterAll(async () => {
    await api?.close();
  });

  async function expectRefused(authorization: string | undefined, status: 401 | 403, challenge: RegExp | null) {
    for (const route of ROUTES) {
      const res = await api.app.request(`${BASE}${route}`, { headers: authorization ? { authorization } : {} });
      const text = await res.text();
      expect(res.status, `${route} ${text}`).toBe(status);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      if (challenge) expect(res.headers.get('www-authenticate')).toMatch(challenge);
      expect(res.headers.get('x-access-index-position')).toBeNull();
      const body = JSON.parse(text);
      expect(Object.keys(body).sort()).toEqual(['detail', 'instance', 'request_id', 'status', 'title', 'type']);
      expect(text).not.toMatch(/Ana|Müller|Sales|voicemail/);
    }
  }

  it('401 without a token, or with one that does not verify', async () => {
    const now = Math.floor(Date.now() / 1000);
    const key = new TextEncoder().encode(SECRET);
    const claims = { account_id: ACCOUNT_A, scope: 'access-reports:read' };
    await expectRefused(undefined, 401, /^Bearer realm="access-index"$/);
    await expectRefused(`Basic ${Buffer.from('admin:admin').toString('base64')}`, 401, /error="invalid_token"/);
    await expectRefused('Bearer garbage', 401, /error="invalid_token"/);
    await expectRefused(`Bearer ${await mintToken({ secret: SECRET, accountId: ACCOUNT_A, ttlSeconds: 60, now: () => Date.now() - 3_600_000 })}`, 401, /expired/);
    await expectRefused(`Bearer ${await mintToken({ secret: `${SECRET}-other`, accountId: ACCOUNT_A })}`, 401, /signature/);
    await expectRefused(
      `Bearer ${new UnsecuredJWT(claims)
        .setSubject('mallory')
        .setExpirationTime(now + 600)
        .encode()}`,
      401,
      /HS256/,
    );
    await expectRefused(
      `Bearer ${await new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS384' })
        .setSubject('m')
        .setExpirationTime(now + 600)
        .sign(key)}`,
      401,
      /HS256/,
    );
    // A valid signature under a header claiming "none" is still not HS256.
    const [, payload, signature] = (await mintToken({ secret: SECRET, accountId: ACCOUNT_A })).split('.');
    const noneHeader = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    await expectRefused(`Bearer ${noneHeader}.${payload}.${signature}`, 401, /invalid_token/);
    await expectRefused(`Bearer ${noneHeader}.${payload}.`, 401, /invalid_token/);
  });

  it('403 for another account, a token naming no account, or a missing scope', async () => {
    await expectRefused(`Bearer ${await api.token(ACCOUNT_B)}`, 403, null);
    await expectRefused(`Bearer ${await mintToken({ secret: SECRET })}`, 403, null);
    await expectRefused(`Bearer ${await api.token(ACCOUNT_A, { scope: 'access-index:admin' })}`, 403, /error="insufficient_scope", scope="access-reports:read"/);
    await expectRefused(`Bearer ${await api.token(ACCOUNT_A, { scope: '' })}`, 403, /insufficient_scope/);
    await expectRefused(`Bearer ${await api.token(ACCOUNT_A, { scope: 'access-reports:readx' })}`, 403, /insufficient_scope/);
  });

  it('hostile searches give correct results or a 400, never a 500, never another account', async () => {
    const hostile = [
      '*',
      '?',
      '"',
      '()',
      '[]',
      '{}',
      ':',
      '\\',
      '/',
      '~',
      '^',
      'AND',
      'OR',
      'NOT',
      'ana AND dara',
      'ana OR dara',
      '*:*',
      'account_id:acc-south',
      '"ana"',
      'ana*',
      'an?',
      '(ana)',
      '{"match_all":{}}',
      'south',
      'Ana Cruz South',
      '🙂',
      'ana 🙂',
      'אבי',
      '‮ana',
      'ana\u200b',
      'Ａｎａ',
      'ǅ',
      '\u0000',
      '%',
      '%00',
      '<script>alert(1)</script>',
      'a'.repeat(256),
    ];
    for (const q of hostile) {
      const res = await api.get(`${BASE}/users?size=1000&q=${encodeURIComponent(q)}`, token);
      expect([200, 400], q).toContain(res.status);
      const body = (await res.json()) as any;
      if (res.status === 400) continue;
      for (const row of body.items) {
        expect(namesA.get(row.user_id), `${q} -> ${row.user_id}`).toBe(row.display_name);
        expect(row.display_name).not.toMatch(/South/);
      }
      const csv = await api.get(`${BASE}/users.csv?q=${encodeURIComponent(q)}`, token);
      expect(csv.status, q).toBe(200);
      expect(await csv.text()).not.toMatch(/South/);
    }
    const tooLong = await api.get(`${BASE}/users?q=${'a'.repeat(10_000)}`, token);
    expect(tooLong.status).toBe(400);
    expect(((await tooLong.json()) as any).errors).toEqual([{ field: 'q', message: 'must have at most 256 characters (got 10000)' }]);
    const manyWords = await api.get(`${BASE}/users?q=${encodeURIComponent('a b c d e f g h i j k l m n o p q')}`, token);
    expect(manyWords.status).toBe(400);
    expect(((await manyWords.json()) as any).errors[0].field).toBe('q');
    // Searches that look like query syntax match as the words they contain.
    expect(((await (await api.get(`${BASE}/users?q=${encodeURIComponent('(ana)')}`, token)).json()) as any).items.map((r: any) => r.user_id)).toEqual(['u1']);
  });

  it('ids that could forge a document key are refused', async () => {
    for (const id of ['u1%1Facc-south', 'u1%00', `${'x'.repeat(257)}`]) {
      const res = await api.get(`${BASE}/users/${id}`, token);
      expect(res.status, id).toBe(400);
      expect(((await res.json()) as any).errors[0].field).toBe('user_id');
    }
    const traversal = await api.get(`${BASE}/users/..%2F..%2Fsummary`, token);
    expect(traversal.status).toBe(404);
  });

  it('unknown, repeated and bad parameters: one 400 naming each', async () => {
    const cases: [string, string[]][] = [
      ['/summary?chanel=voice', ['chanel']],
      ['/users?acces_type=inbox&sise=5', ['acces_type', 'sise']],
      ['/users/u1?q=ana', ['q']],
      ['/queues?size=5', ['size']],
      ['/users.csv?cursor=x&size=5', ['cursor', 'size']],
      ['/users?size=0&order=up&sort=bogus&include_empty=yes&wait_ms=30001&min_position=zcc.users', ['size', 'order', 'sort', 'include_empty', 'wait_ms', 'min_position']],
      ['/users?size=abc&channel=fax&access_type=all', ['size', 'channel', 'access_type']],
      ['/summary?channel=voice&channel=video', ['channel']],
      ['/users?size=1001', ['size']],
      ['/summary?wait_ms=-1', ['wait_ms']],
    ];
    for (const [path, fields] of cases) {
      const res = await api.get(`${BASE}${path}`, token);
      expect(res.status, path).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      const body = (await res.json()) as any;
      expect(body.errors.map((e: any) => e.field).sort(), path).toEqual([...fields].sort());
      expect(body.detail).toContain(fields[0]);
      expect(body.type).toBe('tag:access-index,2026:problem:bad_request');
    }
    const unknown = (await (await api.get(`${BASE}/summary?chanel=voice`, token)).json()) as any;
    expect(unknown.errors[0].message).toBe('unknown parameter (accepted: channel, as_of, min_position, wait_ms)');
  });
});

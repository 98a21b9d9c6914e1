import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { usersQuerySchema, userParamsSchema } from '../../schemas/api.ts';
import { ADMIN_SCOPE, createTokenVerifier, requireScope } from '../../src/api/auth.ts';
import type { ApiEnv } from '../../src/api/context.ts';
import { problemFromError, problemResponse } from '../../src/api/problem.ts';
import { mintToken } from '../../src/api/tokens.ts';
import { fieldErrors } from '../../src/api/validation.ts';

describe('parameter validation', () => {
  it('names every bad field in plain words, unknown ones with what is accepted', () => {
    const errors = fieldErrors(usersQuerySchema, { size: 'ten', wait_ms: '40000', sort: 'age', acces_type: 'inbox' }, ['q', 'size']);
    expect(errors).toEqual([
      { field: 'sort', message: 'expected one of "name", "email", "can_access" (got "age")' },
      { field: 'size', message: 'must be a whole number' },
      { field: 'wait_ms', message: 'must be at most 30000' },
      { field: 'acces_type', message: 'unknown parameter (accepted: q, size)' },
    ]);
    expect(fieldErrors(usersQuerySchema, { size: '0' })).toEqual([{ field: 'size', message: 'must be at least 1' }]);
    expect(fieldErrors(usersQuerySchema, { size: '2.5' })).toEqual([{ field: 'size', message: 'must be a whole number' }]);
    expect(fieldErrors(usersQuerySchema, { min_position: 'zcc.users:0' })[0]!.field).toBe('min_position');
  });

  it('accepts good input and fills the defaults', () => {
    expect(usersQuerySchema.parse({ q: 'ana', min_position: 'zcc.users:0:5,zcc.roles:3:0' })).toMatchObject({ size: 50, sort: 'name', wait_ms: 5000, include_empty: 'false' });
    expect(fieldErrors(userParamsSchema, { account_id: 'a', user_id: 'u\u001fx' })).toEqual([{ field: 'user_id', message: 'must not contain control characters' }]);
  });
});

describe('admin routes', () => {
  const SECRET = 'a-secret-that-is-long-enough-for-hs256!';
  const app = new Hono<ApiEnv>();
  app.use('/admin/*', requireScope(createTokenVerifier(SECRET), ADMIN_SCOPE, { matchAccount: false }));
  app.get('/admin/rebuild', (c) => c.json({ sub: c.var.principal.sub }));
  app.onError((error, c) => {
    const { problem, headers } = problemFromError(error, c.req.path);
    return problemResponse(problem, headers);
  });
  const call = async (token?: string) => app.request('/admin/rebuild', { headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('need the admin scope, whatever the account', async () => {
    expect((await call()).status).toBe(401);
    expect((await call(await mintToken({ secret: SECRET, accountId: 'a' }))).status).toBe(403);
    const admin = await call(await mintToken({ secret: SECRET, scope: `access-reports:read ${ADMIN_SCOPE}`, sub: 'ops' }));
    expect(admin.status).toBe(200);
    expect(await admin.json()).toEqual({ sub: 'ops' });
  });
});

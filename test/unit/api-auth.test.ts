import { SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createTokenVerifier } from '../../src/api/auth.ts';
import { mintToken, parseTtl } from '../../src/api/tokens.ts';
import { AppError } from '../../src/errors.ts';

const SECRET = 'a-secret-that-is-long-enough-for-hs256!';
const verify = createTokenVerifier(SECRET);

async function refusal(header: string | undefined): Promise<AppError> {
  try {
    await verify(header);
  } catch (error) {
    return error as AppError;
  }
  throw new Error('accepted');
}

describe('token verification', () => {
  it('accepts a minted token and reads its claims', async () => {
    const token = await mintToken({ secret: SECRET, accountId: 'acc', scope: 'access-reports:read other', sub: 'ana' });
    const principal = await verify(`Bearer ${token}`);
    expect(principal).toEqual({ sub: 'ana', accountId: 'acc', scopes: new Set(['access-reports:read', 'other']) });
  });

  it('refuses what does not verify, each with a reason and as unauthorized', async () => {
    const key = new TextEncoder().encode(SECRET);
    const now = Math.floor(Date.now() / 1000);
    const cases: [string | undefined, string][] = [
      [undefined, 'an Authorization: Bearer token is required'],
      ['Basic dXNlcjpwYXNz', 'the Authorization header must be "Bearer <token>"'],
      ['Bearer', 'the Authorization header must be "Bearer <token>"'],
      ['Bearer not.a.jwt', 'the token is malformed'],
      [`Bearer ${await mintToken({ secret: SECRET, accountId: 'a', now: () => Date.now() - 13 * 3600_000 })}`, 'the token has expired'],
      [`Bearer ${await mintToken({ secret: `${SECRET}?`, accountId: 'a' })}`, 'the token signature does not verify'],
      [
        `Bearer ${new UnsecuredJWT({ account_id: 'a', scope: 'access-reports:read' })
          .setSubject('x')
          .setExpirationTime(now + 60)
          .encode()}`,
        'the token must be signed with HS256',
      ],
      [
        `Bearer ${await new SignJWT({ account_id: 'a' })
          .setProtectedHeader({ alg: 'HS512' })
          .setSubject('x')
          .setExpirationTime(now + 60)
          .sign(key)}`,
        'the token must be signed with HS256',
      ],
      [`Bearer ${await new SignJWT({ account_id: 'a' }).setProtectedHeader({ alg: 'HS256' }).setSubject('x').sign(key)}`, "the token's exp claim is not acceptable"],
      [
        `Bearer ${await new SignJWT({ account_id: 'a' })
          .setProtectedHeader({ alg: 'HS256' })
          .setExpirationTime(now + 60)
          .sign(key)}`,
        "the token's sub claim is not acceptable",
      ],
    ];
    for (const [header, reason] of cases) {
      const error = await refusal(header);
      expect(error.code, reason).toBe('unauthorized');
      expect(error.message).toBe(reason);
    }
  });

  it('reads lifetimes', () => {
    expect(parseTtl('12h')).toBe(43_200);
    expect(parseTtl('90')).toBe(90);
    expect(parseTtl('15m')).toBe(900);
    expect(parseTtl('7d')).toBe(604_800);
    expect(parseTtl('0s')).toBeNull();
    expect(parseTtl('1w')).toBeNull();
  });
});

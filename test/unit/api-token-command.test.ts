import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { createTokenVerifier } from '../../src/api/auth.ts';
import { registerTokenCommand, tokenFor } from '../../src/cli/commands/token.ts';
import { ConfigError } from '../../src/config.ts';

const SECRET = 'a-secret-that-is-long-enough-for-hs256!';
const env = { ACCESS_INDEX_JWT_SECRET: SECRET };
const defaults = { scope: 'access-reports:read', ttl: '12h', sub: 'access-index-cli' };

describe('token command', () => {
  it('mints a token the API accepts, with the claims asked for', async () => {
    const token = await tokenFor({ ...defaults, account: 'acc_3F9k', scope: 'access-reports:read access-index:admin', sub: 'ana' }, env);
    expect(await createTokenVerifier(SECRET)(`Bearer ${token}`)).toEqual({ sub: 'ana', accountId: 'acc_3F9k', scopes: new Set(['access-reports:read', 'access-index:admin']) });
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    expect(payload.exp - payload.iat).toBe(12 * 3600);
    const short = JSON.parse(Buffer.from((await tokenFor({ ...defaults, account: 'a', ttl: '90s' }, env)).split('.')[1]!, 'base64url').toString());
    expect(short.exp - short.iat).toBe(90);
  });

  it('says what is wrong: no secret, a bad lifetime, no account', async () => {
    await expect(tokenFor({ ...defaults, account: 'a' }, {})).rejects.toThrow(ConfigError);
    await expect(tokenFor({ ...defaults, account: 'a', ttl: '2 weeks' }, env)).rejects.toThrow(/--ttl must be/);
    const program = new Command().exitOverride().configureOutput({ writeErr: () => undefined });
    registerTokenCommand(program);
    await expect(program.parseAsync(['node', 'access-index', 'token'])).rejects.toThrow(/--account/);
  });
});

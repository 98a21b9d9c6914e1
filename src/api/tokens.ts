/** Minting tokens the API accepts (the `token` command, tests, the quickstart). */
import { SignJWT } from 'jose';
import { READ_SCOPE } from './auth.ts';

export interface MintOptions {
  secret: string;
  accountId?: string;
  /** space-separated scopes; default the read scope */
  scope?: string;
  sub?: string;
  /** lifetime in seconds; default 12 hours */
  ttlSeconds?: number;
  now?: () => number;
}

/** An HS256 JWT with sub, account_id, scope, iat and exp. */
export async function mintToken(options: MintOptions): Promise<string> {
  const nowSec = Math.floor((options.now ?? Date.now)() / 1000);
  const claims: Record<string, string> = { scope: options.scope ?? READ_SCOPE };
  if (options.accountId !== undefined) claims.account_id = options.accountId;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.sub ?? 'access-index-cli')
    .setIssuedAt(nowSec)
    .setExpirationTime(nowSec + (options.ttlSeconds ?? 12 * 3600))
    .sign(new TextEncoder().encode(options.secret));
}

/** Parses a lifetime like `90s`, `15m`, `12h`, `7d` (or plain seconds); null when unreadable. */
export function parseTtl(text: string): number | null {
  const match = /^(\d{1,9})([smhd]?)$/.exec(text.trim());
  if (!match) return null;
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  const seconds = Number(match[1]) * unit;
  return seconds > 0 ? seconds : null;
}

/**
 * Bearer-token auth: HS256 JWTs signed with the configured secret. 401 when the token is missing
 * or does not verify (any algorithm but HS256 is refused, `none` included); 403 when it verifies
 * but lacks the scope or is for another account (contract section 4).
 */
import type { MiddlewareHandler } from 'hono';
import { createSecretKey } from 'node:crypto';
import { errors as joseErrors, jwtVerify } from 'jose';
import { AppError } from '../errors.ts';
import type { ApiEnv, Principal } from './context.ts';

/** Scope needed to read an account's reports. */
export const READ_SCOPE = 'access-reports:read';
/** Scope needed by admin routes (rebuild and the like). */
export const ADMIN_SCOPE = 'access-index:admin';

export interface TokenVerifierOptions {
  /** seconds of clock skew tolerated on exp/nbf/iat */
  clockToleranceSec?: number;
  now?: () => number;
}

export type TokenVerifier = (authorization: string | undefined) => Promise<Principal>;

function invalid(description: string, cause?: unknown): AppError {
  return new AppError('unauthorized', description, { details: { bearer_error: 'invalid_token' }, cause });
}

function describe(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'the token has expired';
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'the token must be signed with HS256';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'the token signature does not verify';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `the token's ${error.claim} claim is not acceptable`;
  return 'the token is malformed';
}

/** A verifier of `Authorization` header values; throws AppError 'unauthorized' on any failure. */
export function createTokenVerifier(secret: string, options: TokenVerifierOptions = {}): TokenVerifier {
  // A key object made once: given raw bytes, jose imports the HMAC key again on every request
  // (16 % of the API's CPU in the latency bench's profile).
  const key = createSecretKey(new TextEncoder().encode(secret));
  return async (authorization) => {
    if (!authorization) throw new AppError('unauthorized', 'an Authorization: Bearer token is required');
    const match = /^Bearer +([A-Za-z0-9_.~+/=-]+)$/i.exec(authorization.trim());
    if (!match) throw invalid('the Authorization header must be "Bearer <token>"');
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(match[1]!, key, {
        algorithms: ['HS256'],
        // A token without an expiry would be valid forever once leaked.
        requiredClaims: ['exp', 'sub'],
        clockTolerance: options.clockToleranceSec ?? 5,
        ...(options.now ? { currentDate: new Date(options.now()) } : {}),
      }));
    } catch (error) {
      throw invalid(describe(error), error);
    }
    if (typeof payload.sub !== 'string' || payload.sub === '') throw invalid('the token sub claim must be a non-empty string');
    const scope = typeof payload.scope === 'string' ? payload.scope : '';
    return {
      sub: payload.sub,
      accountId: typeof payload.account_id === 'string' ? payload.account_id : null,
      scopes: new Set(scope.split(' ').filter(Boolean)),
    };
  };
}

/**
 * Middleware: a verified token with `scope`; with `matchAccount`, also for the path's account.
 * The principal is then in `c.var.principal`.
 */
export function requireScope(verify: TokenVerifier, scope: string, options: { matchAccount: boolean }): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const principal = await verify(c.req.header('authorization'));
    if (!principal.scopes.has(scope)) throw new AppError('forbidden', `the token lacks the scope ${scope}`, { details: { scope } });
    // Same message whether the token names another account or none: nothing about other accounts leaks.
    if (options.matchAccount && principal.accountId !== c.req.param('account_id')) throw new AppError('forbidden', 'the token is not for this account');
    c.set('principal', principal);
    await next();
  };
}

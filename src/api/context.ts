/** The Hono environment of the API: what middleware hands to the handlers. */
import type { Logger } from '../logger.ts';

/** Who is calling, from a verified token. */
export interface Principal {
  sub: string;
  /** the account the token is for, or null when it names none (admin tokens may not) */
  accountId: string | null;
  scopes: ReadonlySet<string>;
}

export interface ApiEnv {
  Variables: {
    /** set by the auth middleware on protected routes */
    principal: Principal;
    /** the request's logger (carries the request id) */
    log: Logger;
    requestId: string;
  };
}

/**
 * Redis key layout. Everything lives under `<namespace>:<generation>:`, so a rebuild writes a new
 * generation beside the live one and a swap is one pointer change (`<namespace>:live`).
 * Per-account keys carry the account in a hash tag, so one account's keys share a slot and one Lua
 * script can change them together.
 */

export interface KeySpace {
  namespace: string;
  generation: string;
}

export const liveGenerationKey = (namespace: string) => `${namespace}:live`;

/**
 * hash: the namespace's repair in progress (code, reason, action, phase, progress, heartbeat_at):
 * what the API names in its 503s while it refuses to serve (src/integrity/repair-state.ts)
 */
export const repairKey = (namespace: string) => `${namespace}:repair`;

export function accountKeys(space: KeySpace, accountId: string) {
  const p = `${space.namespace}:${space.generation}:{${accountId}}`;
  return {
    prefix: p,
    /** hash: flat fact key -> value (projections/facts.ts) */
    facts: `${p}:facts`,
    /** sorted set: event id -> event time ms */
    seen: `${p}:seen`,
    /**
     * hash: v (version), n (newest event ms), off:<topic>:<partition> (last applied offset),
     * s:<topic>:<partition> (the account's own searchable position: written and refreshed)
     */
    meta: `${p}:meta`,
    /** hash: `<scope>|total` / `<scope>|<type>` -> users */
    userCounters: `${p}:cu`,
    /** hash per scope and type: queue id -> users whose entries of that type involve the queue */
    queueCounters: (scope: string, type: string) => `${p}:cq:${scope}:${type}`,
    /** hash per scope: inbox id -> users with an Inbox entry on it */
    inboxCounters: (scope: string) => `${p}:ci:${scope}`,
    /** hash: user id -> account version of documents not yet confirmed written to OpenSearch */
    dirty: `${p}:dirty`,
    /** hash: fact interval id -> `<version>\n<JSON record>` not yet confirmed written */
    intervalOutbox: `${p}:hout`,
    /** hash: raw fact key -> JSON {v: value, f: the event that set it} (projections/raw-facts.ts) */
    rawFacts: `${p}:raw`,
    /**
     * sorted set (all scores 0, read by lex range): `<subject>\0<raw key>` for each raw fact, so
     * that a user's history finds the open intervals of a few subjects without reading the whole
     * account (src/redis/open-intervals.ts, decision 47)
     */
    rawSubjects: `${p}:rsub`,
  };
}

export type AccountKeys = ReturnType<typeof accountKeys>;

/** The meta field prefix of an account's applied offsets (`off:<topic>:<partition>`). */
export const APPLIED_PREFIX = 'off:';

/** The meta field prefix of an account's own searchable positions (`s:<topic>:<partition>`). */
export const SEARCHABLE_PREFIX = 's:';

/** The offsets of a hash's fields that start with `prefix` (all of them when none), by `<topic>:<partition>`. */
export function offsetsIn(hash: Record<string, string>, prefix = ''): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const [field, value] of Object.entries(hash)) if (field.startsWith(prefix)) out.set(field.slice(prefix.length), BigInt(value));
  return out;
}

export function generationKeys(space: KeySpace) {
  const p = `${space.namespace}:${space.generation}`;
  return {
    /**
     * hash: id (random, also in the `_meta` of the generation's indices), created_at, epoch (the
     * high part of the external versions written to OpenSearch; raised by a rollback repair)
     */
    identity: `${p}:identity`,
    /**
     * counters of the position publisher's refreshes: `refreshing` is incremented when one starts,
     * `refreshed` set to that number once its positions are published; while they differ a
     * refresh is under way and a read cannot tell which state it saw (src/api/read-context.ts)
     */
    refreshing: `${p}:refreshing`,
    refreshed: `${p}:refreshed`,
    /**
     * hash: account id -> a count, odd while a refresh may have shown part of a round of the account
     * (decision 59): raised with the `refreshing` of the refresh that may show it, and again with
     * the `refreshed` of the first one that shows it whole (src/api/read-context.ts reads it as a
     * seqlock)
     */
    torn: `${p}:torn`,
    /** hash: account id -> its partition, while it is marked in `torn` (whose projector lifts it) */
    tornPartitions: `${p}:torn-partitions`,
    /**
     * the number of the last refresh whose checkpoints (with its own number, src/integrity/
     * checkpoints.ts REFRESH_FIELD) are in every index; raised before that refresh's positions are
     * published, so an index holding an older refresh number went back in time (decision 35)
     */
    sealed: `${p}:sealed`,
    /** set of account ids seen in this generation */
    accounts: `${p}:accounts`,
    /** set of accounts that may have documents not yet written to OpenSearch */
    dirtyAccounts: `${p}:dirty-accounts`,
    /** hash: `<topic>:<partition>` -> last offset whose effects are searchable */
    positions: `${p}:positions`,
    /**
     * hash: `<topic>:<partition>` -> last offset whose effects are committed to Redis (facts and
     * counters), not yet necessarily searchable: what the summary and queues views reflect
     */
    applied: `${p}:applied`,
  };
}

/**
 * Where a core counter key (projections/summary.ts) is kept: which hash, which field.
 * `u|scope|x` -> cu[scope|x]; `q|scope|type|queue` -> cq:scope:type[queue]; `i|scope|inbox` -> ci:scope[inbox].
 */
export function counterLocation(keys: AccountKeys, counterKey: string): { hash: string; field: string } {
  const first = counterKey.indexOf('|');
  const second = counterKey.indexOf('|', first + 1);
  const family = counterKey.slice(0, first);
  const scope = counterKey.slice(first + 1, second);
  const rest = counterKey.slice(second + 1);
  if (family === 'u') return { hash: keys.userCounters, field: `${scope}|${rest}` };
  if (family === 'i') return { hash: keys.inboxCounters(scope), field: rest };
  const bar = rest.indexOf('|');
  return { hash: keys.queueCounters(scope, rest.slice(0, bar)), field: rest.slice(bar + 1) };
}

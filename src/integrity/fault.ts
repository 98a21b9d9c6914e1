/**
 * What the integrity checks can find wrong with the stores (docs/reliability.md has the whole
 * fault model, with what is repaired and how).
 */

export type FaultCode =
  /** Redis has lost the namespace or the live generation's state (emptied, or a fresh replica) */
  | 'redis_lost'
  /** Redis holds an older state than the one already written (rolled back to a snapshot, a lagging replica promoted) */
  | 'redis_behind'
  /** an index of the live generation is missing, or was recreated */
  | 'index_lost'
  /** an index holds less than the positions say (restored from an older snapshot) */
  | 'index_behind'
  /** the live generation was built by an earlier version whose index layout this one cannot read (decision 30) */
  | 'index_outdated'
  /** a topic's offsets went backwards: it was deleted and recreated */
  | 'topic_reset'
  /** events the state still needs were deleted from a topic (retention, deleteRecords) */
  | 'history_gone'
  /** the Redis connection dropped; the state is checked again before it is trusted */
  | 'unverified'
  /** no live generation yet: nothing has been projected */
  | 'not_initialized';

/** A finding of the integrity checks, thrown where a check runs inline (opening a generation). */
export class IntegrityFault extends Error {
  readonly code: FaultCode;
  constructor(code: FaultCode, message: string) {
    super(message);
    this.name = 'IntegrityFault';
    this.code = code;
  }
}

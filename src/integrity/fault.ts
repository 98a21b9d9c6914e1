/**
 * What the integrity checks can find wrong with the stores (docs/reliability.md has the whole
 * fault model). A fault is either repaired automatically (`repairable`) or stops the service with
 * a message that says what the operator can do.
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
  /** a topic's offsets went backwards: it was deleted and recreated */
  | 'topic_reset'
  /** events the state still needs were deleted from a topic (retention, deleteRecords) */
  | 'history_gone'
  /** the Redis connection dropped; the state is checked again before it is trusted */
  | 'unverified'
  /** no live generation yet: nothing has been projected */
  | 'not_initialized';

/** How each fault is repaired, or why it cannot be. */
export const REPAIR: Record<FaultCode, { repairable: boolean; action: string }> = {
  redis_lost: { repairable: true, action: 'rebuilding the namespace from Kafka into a new generation' },
  redis_behind: { repairable: true, action: 'replaying the events Redis lost, from its applied offsets' },
  index_lost: { repairable: true, action: 'rebuilding the namespace from Kafka into a new generation' },
  index_behind: { repairable: true, action: 'rebuilding the namespace from Kafka into a new generation' },
  topic_reset: { repairable: false, action: 'none automatic: the topic no longer holds the events the state was built from; restore the topic, or rebuild from what it holds now (`access-index rebuild`) if that history is the one to serve' },
  history_gone: { repairable: false, action: 'none automatic: restore the missing events to the topic (from a backup or mirror, with their offsets), then restart' },
  unverified: { repairable: true, action: 'checking the stores again' },
  not_initialized: { repairable: true, action: 'waiting for the projector to create the first generation' },
};

/** A finding of the integrity checks, thrown where a check runs inline (opening a generation). */
export class IntegrityFault extends Error {
  readonly code: FaultCode;
  constructor(code: FaultCode, message: string) {
    super(message);
    this.name = 'IntegrityFault';
    this.code = code;
  }
}

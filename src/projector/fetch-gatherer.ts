/**
 * From kafkajs batches to projection groups. Each batch is decoded (poison messages set aside for
 * the dead-letter topic) and grouped by account; the batches that kafkajs hands to its workers in
 * one turn of the event loop (one fetch, `partitionsConsumedConcurrently` of them) are gathered and
 * projected together on the next turn: one bulk stream, one outbox clear and one offset commit for
 * them all. Under a trickle a fetch holds a few events on each of many partitions, and per-batch
 * round trips were most of the cost (docs/benchmarks-journal.md, freshness).
 */
import type { Batch, EachBatchPayload } from 'kafkajs';
import { decodeEvent } from '../../schemas/decode.ts';
import type { LogicalTopic } from '../../schemas/events.ts';
import type { PoisonMessage } from './dead-letter.ts';
import type { PositionedEvent } from './plan-batch.ts';
import type { BatchPart } from './project-batch.ts';

/** One batch waiting in a group; its eachBatch settles when the group does. */
export interface Gathered {
  part: BatchPart;
  payload: EachBatchPayload;
  /** `<topic>:<partition>` */
  field: string;
  /** the batch's last offset */
  last: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** A batch's events by account (each list in offset order), and its poison messages. */
export function decodeBatch(batch: Batch, logical: LogicalTopic | undefined): { byAccount: Map<string, PositionedEvent[]>; poison: PoisonMessage[] } {
  const byAccount = new Map<string, PositionedEvent[]>();
  const poison: PoisonMessage[] = [];
  for (const m of batch.messages) {
    const decoded = decodeEvent({ key: m.key, value: m.value, ...(logical ? { topic: logical } : {}) });
    if (!decoded.ok) {
      poison.push({ topic: batch.topic, partition: batch.partition, offset: m.offset, key: m.key, value: m.value, code: decoded.code, reason: decoded.reason });
      continue;
    }
    const list = byAccount.get(decoded.event.accountid) ?? [];
    list.push({ event: { ...decoded.event, logMs: Number(m.timestamp) }, offset: BigInt(m.offset) });
    byAccount.set(decoded.event.accountid, list);
  }
  return { byAccount, poison };
}

/** Returns `gather`: adds a batch to the group of this turn and settles when that group is projected. */
export function createGatherer(project: (group: Gathered[]) => Promise<void>) {
  let gathering: Gathered[] | undefined;
  return (item: Omit<Gathered, 'resolve' | 'reject'>): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      if (!gathering) {
        const group: Gathered[] = [];
        gathering = group;
        setImmediate(() => {
          gathering = undefined;
          void project(group);
        });
      }
      gathering.push({ ...item, resolve, reject });
    });
}

/**
 * From a kafkajs batch to the events the lanes take (src/projector/lanes.ts): each message decoded,
 * in offset order, with its account; poison messages set aside for the dead-letter topic.
 */
import type { Batch } from 'kafkajs';
import { decodeEvent } from '../../schemas/decode.ts';
import type { LogicalTopic } from '../../schemas/events.ts';
import type { PoisonMessage } from './dead-letter.ts';
import type { PositionedEvent } from './plan-batch.ts';

/** A batch's events in offset order, each with its account, and its poison messages. */
export function decodeBatch(batch: Batch, logical: LogicalTopic | undefined): { events: { accountId: string; event: PositionedEvent }[]; poison: PoisonMessage[] } {
  const events: { accountId: string; event: PositionedEvent }[] = [];
  const poison: PoisonMessage[] = [];
  for (const m of batch.messages) {
    const decoded = decodeEvent({ key: m.key, value: m.value, ...(logical ? { topic: logical } : {}) });
    if (!decoded.ok) {
      poison.push({ topic: batch.topic, partition: batch.partition, offset: m.offset, key: m.key, value: m.value, code: decoded.code, reason: decoded.reason });
      continue;
    }
    events.push({ accountId: decoded.event.accountid, event: { event: { ...decoded.event, logMs: Number(m.timestamp) }, offset: BigInt(m.offset) } });
  }
  return { events, poison };
}

/**
 * The dead-letter topic: every message that cannot be used is copied there untouched, with why and
 * where it came from in headers, and processing goes on.
 */
import type { Producer } from 'kafkajs';

export interface PoisonMessage {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  code: string;
  reason: string;
}

export const DEAD_LETTER_HEADERS = {
  reason: 'x-dead-letter-reason',
  code: 'x-dead-letter-code',
  topic: 'x-original-topic',
  partition: 'x-original-partition',
  offset: 'x-original-offset',
} as const;

/** Sends poison messages to the dead-letter topic (acks from all in-sync replicas). */
export async function sendToDeadLetter(producer: Producer, deadLetterTopic: string, messages: readonly PoisonMessage[]): Promise<void> {
  if (messages.length === 0) return;
  await producer.send({
    topic: deadLetterTopic,
    acks: -1,
    messages: messages.map((m) => ({
      key: m.key,
      value: m.value,
      headers: {
        [DEAD_LETTER_HEADERS.reason]: m.reason,
        [DEAD_LETTER_HEADERS.code]: m.code,
        [DEAD_LETTER_HEADERS.topic]: m.topic,
        [DEAD_LETTER_HEADERS.partition]: String(m.partition),
        [DEAD_LETTER_HEADERS.offset]: m.offset,
      },
    })),
  });
}

/**
 * Producing a test history while recording where Kafka put each message (topic, partition, offset,
 * log time): the oracle (oracle.ts) needs exactly that to replay "the events up to a position".
 *
 * Offsets come from the send results, not from a read-back: each message is sent with the
 * partition Kafka's default partitioner would pick anyway (so nothing changes for the consumer),
 * one send per run of one topic, and one send writes one record batch per partition, whose
 * messages take consecutive offsets from the batch's base offset. After every `produce` the
 * recorded last offsets are checked against the topics' end offsets, so a broken assumption (or
 * another writer on the topics) fails loudly instead of misleading the oracle.
 */
import { type Admin, type Kafka, type PartitionMetadata, Partitioners, type Producer } from 'kafkajs';
import type { FactEvent } from '../../projections/index.ts';
import { decodeEvent } from '../../schemas/decode.ts';
import type { LogicalTopicName, OutgoingMessage } from './pipeline.ts';

/** One message as Kafka stored it. */
export interface ProducedMessage {
  /** the real topic name (as positions name it) */
  topic: string;
  partition: number;
  offset: bigint;
  key: string | null;
  /** the decoded event; null for poison, which takes an offset but changes nothing */
  event: FactEvent | null;
  /** the message timestamp: the projector's log time for the dedupe window */
  logMs: number;
}

export interface RecordingProducer {
  /** Produces in order (one send per run of one topic); returns the records of these messages. */
  produce(messages: readonly OutgoingMessage[]): Promise<ProducedMessage[]>;
  /** Everything produced so far, in production order. */
  readonly produced: readonly ProducedMessage[];
  /** The last produced offset of every touched partition, as a `min_position` string. */
  endPosition(): string;
  close(): Promise<void>;
}

/** `topic:partition` */
export const fieldOf = (m: { topic: string; partition: number }): string => `${m.topic}:${m.partition}`;

/** `topic:partition:offset` joined by commas, by topic then partition (the API's order). */
export function formatPosition(offsets: ReadonlyMap<string, bigint>): string {
  const split = (f: string) => [f.slice(0, f.lastIndexOf(':')), Number(f.slice(f.lastIndexOf(':') + 1))] as const;
  return [...offsets.keys()]
    .sort((a, b) => {
      const [ta, pa] = split(a);
      const [tb, pb] = split(b);
      return ta !== tb ? (ta < tb ? -1 : 1) : pa - pb;
    })
    .map((f) => `${f}:${offsets.get(f)!}`)
    .join(',');
}

export interface RecordingProducerOptions {
  /**
   * Told the records of each send as soon as it returns, before `produce` resolves: a running
   * service may read (and answer with) these offsets before then, so an oracle must learn them now.
   */
  onRecorded?: (records: readonly ProducedMessage[]) => void;
}

/** A producer on `kafka` writing the logical topics to the names in `topics` (a Config's `topics`). */
export function createRecordingProducer(kafka: Kafka, topics: Record<LogicalTopicName, string>, options: RecordingProducerOptions = {}): RecordingProducer {
  const produced: ProducedMessage[] = [];
  const last = new Map<string, bigint>();
  const metadata = new Map<string, PartitionMetadata[]>();
  const partitioner = Partitioners.DefaultPartitioner();
  let producer: Producer | undefined;
  let admin: Admin | undefined;

  async function connect(): Promise<{ producer: Producer; admin: Admin }> {
    if (!producer || !admin) {
      producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      admin = kafka.admin();
      await Promise.all([producer.connect(), admin.connect()]);
    }
    return { producer, admin };
  }

  async function partitionsOf(admin: Admin, topic: string): Promise<PartitionMetadata[]> {
    let partitions = metadata.get(topic);
    if (!partitions) {
      partitions = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions;
      metadata.set(topic, partitions);
    }
    return partitions;
  }

  /** The recorded last offsets of `touched` must be the partitions' last offsets in Kafka. */
  async function check(admin: Admin, touched: Set<string>): Promise<void> {
    for (const topic of new Set([...touched].map((f) => f.slice(0, f.lastIndexOf(':')))))
      for (const p of await admin.fetchTopicOffsets(topic)) {
        const field = `${topic}:${p.partition}`;
        if (touched.has(field) && BigInt(p.high) - 1n !== last.get(field))
          throw new Error(`recorded last offset of ${field} is ${last.get(field)}, Kafka's is ${BigInt(p.high) - 1n}: another writer, or a send split in two`);
      }
  }

  return {
    produced,
    async produce(messages) {
      const { producer, admin } = await connect();
      const out: ProducedMessage[] = [];
      const touched = new Set<string>();
      let i = 0;
      while (i < messages.length) {
        const logical = messages[i]!.topic;
        const run: OutgoingMessage[] = [];
        while (i < messages.length && messages[i]!.topic === logical) run.push(messages[i++]!);
        const topic = topics[logical];
        const partitionMetadata = await partitionsOf(admin, topic);
        // The timestamp is set here so that the log time is known without reading the message back.
        const timestamp = Date.now();
        const sent = run.map((m) => ({
          key: m.key,
          value: m.value,
          timestamp: String(timestamp),
          partition: partitioner({ topic, partitionMetadata, message: { key: m.key, value: m.value } }),
        }));
        const results = await producer.send({ topic, acks: -1, messages: sent });
        const next = new Map<number, { offset: bigint; logMs: number }>();
        for (const r of results) {
          if (r.errorCode !== 0 || r.baseOffset === undefined) throw new Error(`send to ${topic}:${r.partition} failed (error code ${r.errorCode})`);
          const appended = r.logAppendTime !== undefined && r.logAppendTime !== '-1' ? Number(r.logAppendTime) : timestamp;
          next.set(r.partition, { offset: BigInt(r.baseOffset), logMs: appended });
        }
        const records: ProducedMessage[] = [];
        for (const m of sent) {
          const at = next.get(m.partition);
          if (!at) throw new Error(`no send result for ${topic}:${m.partition}`);
          const key = m.key === null || m.key === undefined ? null : String(m.key);
          const decoded = logical === 'deadLetter' ? null : decodeEvent({ key: m.key ?? null, value: m.value, topic: logical });
          const record: ProducedMessage = { topic, partition: m.partition, offset: at.offset, key, event: decoded?.ok ? decoded.event : null, logMs: at.logMs };
          at.offset += 1n;
          last.set(fieldOf(record), record.offset);
          touched.add(fieldOf(record));
          records.push(record);
        }
        produced.push(...records);
        out.push(...records);
        options.onRecorded?.(records);
      }
      await check(admin, touched);
      return out;
    },
    endPosition: () => formatPosition(last),
    async close() {
      await Promise.all([producer?.disconnect(), admin?.disconnect()]);
      producer = undefined;
      admin = undefined;
    },
  };
}

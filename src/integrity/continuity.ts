/**
 * The one rule that keeps the state exact whatever happens to Redis or Kafka: an event is applied
 * only when every earlier event of its partition is applied. Redis's applied offset of each
 * partition (`<ns>:<gen>:applied`) is where consumption must continue; a batch that starts later
 * than the next offset is a gap (Redis went back in time, or the consumer group's offsets are
 * ahead of the state), and a partition whose end is before the applied offset was recreated.
 * Pure: the projector reads the offsets and acts on the verdict (src/projector/projector.ts).
 */

export interface BatchBounds {
  /** `<topic>:<partition>` */
  field: string;
  firstOffset: bigint;
  /** Kafka's high watermark of the partition when the batch was fetched (the next offset to be written) */
  highWatermark: bigint;
}

export interface Continuity {
  /** batches that may be projected */
  ok: string[];
  /** partitions to read again from `from` (the applied offset + 1): their batch starts at `firstOffset` */
  gaps: { field: string; from: bigint; firstOffset: bigint }[];
  /** partitions whose log ends before what the state already applied: the topic was recreated */
  resets: { field: string; applied: bigint; highWatermark: bigint }[];
}

/** Judges each batch against the applied offsets (a partition never applied counts as -1). */
export function checkContinuity(batches: readonly BatchBounds[], applied: ReadonlyMap<string, bigint>): Continuity {
  const out: Continuity = { ok: [], gaps: [], resets: [] };
  for (const b of batches) {
    const done = applied.get(b.field) ?? -1n;
    if (b.highWatermark - 1n < done) out.resets.push({ field: b.field, applied: done, highWatermark: b.highWatermark });
    else if (b.firstOffset > done + 1n) out.gaps.push({ field: b.field, from: done + 1n, firstOffset: b.firstOffset });
    else out.ok.push(b.field);
  }
  return out;
}

/** Splits `<topic>:<partition>` (Kafka topic names have no ':'). */
export function splitField(field: string): { topic: string; partition: number } {
  const at = field.lastIndexOf(':');
  return { topic: field.slice(0, at), partition: Number(field.slice(at + 1)) };
}

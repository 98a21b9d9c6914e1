/**
 * Kafka positions as the API shows and accepts them: `topic:partition:offset`, comma-joined.
 * Internally a map `topic:partition -> offset` (the layout of the published positions hash).
 */

export type Positions = ReadonlyMap<string, bigint>;

export interface PartitionLag {
  topic: string;
  partition: number;
  /** the offset the client asked for */
  wanted: string;
  /** the offset the index reflects, or null when nothing of that partition is searchable yet */
  have: string | null;
}

function splitField(field: string): { topic: string; partition: number } {
  const colon = field.lastIndexOf(':');
  return { topic: field.slice(0, colon), partition: Number(field.slice(colon + 1)) };
}

function compareFields(a: string, b: string): number {
  const x = splitField(a);
  const y = splitField(b);
  if (x.topic !== y.topic) return x.topic < y.topic ? -1 : 1;
  return x.partition - y.partition;
}

/** `topic:partition:offset` joined by commas, by topic then partition number; '' when empty. */
export function formatPositions(positions: Positions): string {
  return [...positions.keys()]
    .sort(compareFields)
    .map((field) => `${field}:${positions.get(field)!.toString()}`)
    .join(',');
}

/**
 * Parses a position list (already checked against the pattern in schemas/api.ts). Returns an error
 * message for what the pattern cannot see: a partition listed twice.
 */
export function parsePositions(text: string): { ok: true; positions: Map<string, bigint> } | { ok: false; message: string } {
  const positions = new Map<string, bigint>();
  if (text === '') return { ok: true, positions };
  for (const part of text.split(',')) {
    const last = part.lastIndexOf(':');
    const field = part.slice(0, last);
    const offset = BigInt(part.slice(last + 1));
    if (positions.has(field)) return { ok: false, message: `lists ${field} twice` };
    if (offset > 9_223_372_036_854_775_807n) return { ok: false, message: `offset of ${field} is beyond a Kafka offset` };
    positions.set(field, offset);
  }
  return { ok: true, positions };
}

/** The partitions where `have` has not reached `wanted` yet (empty when every offset is reflected). */
export function lagBehind(wanted: Positions, have: Positions): PartitionLag[] {
  const lag: PartitionLag[] = [];
  for (const field of [...wanted.keys()].sort(compareFields)) {
    const want = wanted.get(field)!;
    const got = have.get(field);
    if (got === undefined || got < want) {
      const { topic, partition } = splitField(field);
      lag.push({ topic, partition, wanted: want.toString(), have: got === undefined ? null : got.toString() });
    }
  }
  return lag;
}

/** The topics named in a position list that are not among `known` (typos would otherwise wait in vain). */
export function unknownTopics(wanted: Positions, known: readonly string[]): string[] {
  const topics = new Set([...wanted.keys()].map((field) => splitField(field).topic));
  return [...topics].filter((topic) => !known.includes(topic)).sort();
}

/**
 * History retention. The audit, `rebuild`, `replay` and the automatic repairs replay every event
 * since the beginning of the topics, so a topic that deletes events makes them wrong, silently.
 * Two guards: a start-up check that warns when a topic's settings will delete history (finite
 * retention, compaction), and `missingHistory`, which finds the partitions whose log no longer starts
 * where a replay needs it to, so that the commands refuse instead of answering from part of it.
 *
 * Tiered storage (decision 26): `retention.ms` and `retention.bytes` bound the whole log, the remote
 * tier included; `local.retention.*` bound only the brokers' copy. So the rule is the same with or
 * without `remote.storage.enable`: the total retention must be unlimited, the local one may be
 * anything. The log-start offset Kafka reports is the remote tier's, so `missingHistory` holds too.
 */
import kafkajs, { type Admin, type Kafka } from 'kafkajs';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Runtime } from '../runtime.ts';
import { eventTopics } from './client.ts';

export { eventTopics };

/** The topic settings that decide whether history is kept. */
export const RETENTION_SETTINGS = ['retention.ms', 'retention.bytes', 'cleanup.policy', 'remote.storage.enable'] as const;

/** The event topics (not the dead-letter topic): the ones a replay reads. */

export type TopicSettings = Partial<Record<(typeof RETENTION_SETTINGS)[number], string>>;

/** A setting of a topic that deletes history, and the line that fixes it. */
export interface RetentionProblem {
  topic: string;
  setting: 'retention.ms' | 'retention.bytes' | 'cleanup.policy';
  value: string;
  /** what the operator runs (or changes) to keep the history */
  fix: string;
  /** the topic has tiered storage on (which does not make a finite `retention.*` safe) */
  tiered: boolean;
}

const alter = (topic: string, config: string) => `kafka-configs --bootstrap-server <broker> --alter --entity-type topics --entity-name ${topic} --add-config ${config}`;

/**
 * What in a topic's settings deletes history. A setting the broker did not report is not judged.
 * `local.retention.*` never are, and tiered storage excuses nothing: `retention.*` still bound the
 * whole log (see the module comment).
 */
export function retentionProblems(topic: string, settings: TopicSettings): RetentionProblem[] {
  const problems: RetentionProblem[] = [];
  const tiered = settings['remote.storage.enable'] === 'true';
  for (const setting of ['retention.ms', 'retention.bytes'] as const) {
    const value = settings[setting];
    if (value !== undefined && value !== '-1') problems.push({ topic, setting, value, fix: alter(topic, `${setting}=-1`), tiered });
  }
  const policy = settings['cleanup.policy'];
  if (policy !== undefined && policy.split(',').some((p) => p.trim() === 'compact'))
    problems.push({ topic, setting: 'cleanup.policy', value: policy, fix: alter(topic, 'cleanup.policy=delete'), tiered });
  return problems;
}

/** The warning an operator reads: the topic, the setting and its value, what it costs, what to do. */
export function retentionWarning(problem: RetentionProblem): string {
  const cost =
    problem.setting === 'cleanup.policy'
      ? 'compaction keeps only the latest event of each key, so a replay misses the changes before it (and no offset shows the loss)'
      : `Kafka will delete the topic's oldest events`;
  const storage =
    problem.setting === 'cleanup.policy'
      ? '.'
      : problem.tiered
        ? ' (tiered storage is on, but retention.ms and retention.bytes bound the remote tier too; only local.retention.ms may stay finite).'
        : ', or keep the brokers\u2019 disks small with tiered storage (remote.storage.enable=true and a finite local.retention.ms, with retention.ms and retention.bytes still -1).';
  return `topic ${problem.topic} has ${problem.setting}=${problem.value}: ${cost}, and the audit, \`rebuild\`, \`replay\` and the repairs need every event since the beginning. Run \`${problem.fix}\`${storage}`;
}

/** The retention settings of each topic, as the broker applies them (topic overrides or broker defaults). */
export async function readRetention(admin: Admin, topics: readonly string[]): Promise<Map<string, TopicSettings>> {
  const out = new Map<string, TopicSettings>();
  if (topics.length === 0) return out;
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    // A named import of ConfigResourceTypes fails at run time: Node does not see it among kafkajs's CommonJS exports.
    resources: topics.map((name) => ({ type: kafkajs.ConfigResourceTypes.TOPIC, name, configNames: [...RETENTION_SETTINGS] })),
  });
  for (const resource of resources) {
    const settings: TopicSettings = {};
    for (const entry of resource.configEntries)
      if ((RETENTION_SETTINGS as readonly string[]).includes(entry.configName)) settings[entry.configName as keyof TopicSettings] = entry.configValue;
    out.set(resource.resourceName, settings);
  }
  return out;
}

/** A partition whose log starts past the first offset a replay needs. */
export interface HistoryGap {
  topic: string;
  partition: number;
  /** the first offset needed that the topic no longer holds */
  firstMissing: bigint;
  /** where the partition's log starts now; offsets firstMissing..logStart-1 are gone */
  logStart: bigint;
}

/**
 * The partitions of `topics` whose log-start offset is past the first offset needed: `neededFrom`
 * (default: 0, the beginning) for each topic and partition. Empty when the history is there.
 * It compares log-start offsets only: a topic recreated after it was read starts again at 0 and
 * shows only when its end offsets are compared with what was applied, which is the caller's part.
 */
export async function missingHistory(admin: Admin, topics: readonly string[], neededFrom: (topic: string, partition: number) => bigint = () => 0n): Promise<HistoryGap[]> {
  const gaps: HistoryGap[] = [];
  for (const topic of topics) gaps.push(...historyGaps(topic, await admin.fetchTopicOffsets(topic), neededFrom));
  return gaps;
}

/** The decision of `missingHistory` for one topic, given its partitions' log-start offsets (`low`). */
export function historyGaps(
  topic: string,
  offsets: readonly { partition: number; low: string }[],
  neededFrom: (topic: string, partition: number) => bigint = () => 0n,
): HistoryGap[] {
  const gaps: HistoryGap[] = [];
  for (const { partition, low } of [...offsets].sort((a, b) => a.partition - b.partition)) {
    const logStart = BigInt(low);
    const firstMissing = neededFrom(topic, partition);
    if (logStart > firstMissing) gaps.push({ topic, partition, firstMissing, logStart });
  }
  return gaps;
}

// Offsets as strings: JSON (logs, problem details) has no bigint.
const gapDetails = (g: HistoryGap) => ({ topic: g.topic, partition: g.partition, first_missing: String(g.firstMissing), log_start: String(g.logStart) });

/**
 * Part of the history a replay needs is gone from Kafka. Not retriable: only the operator can bring
 * the events back (or start a new history); the message says how.
 */
export class HistoryGoneError extends AppError {
  readonly gaps: readonly HistoryGap[];

  /** `purpose` names what refuses, e.g. "rebuild" or "replay". */
  constructor(gaps: readonly HistoryGap[], purpose: string) {
    super('history_gone', historyGoneMessage(gaps, purpose), {
      details: { gaps: gaps.map(gapDetails) },
    });
    this.name = 'HistoryGoneError';
    this.gaps = gaps;
  }
}

/** One line per gap: topic, partition, the first missing offset and the range that is gone. */
function gapLines(gaps: readonly HistoryGap[]): string[] {
  return gaps.map((g) => {
    const range = g.logStart - 1n === g.firstMissing ? `offset ${g.firstMissing} is` : `offsets ${g.firstMissing}..${g.logStart - 1n} are`;
    return `  topic ${g.topic} partition ${g.partition}: first missing offset ${g.firstMissing}; ${range} gone (the log now starts at ${g.logStart})`;
  });
}

// Not "the topic was recreated": a recreated topic starts again at offset 0, which this check cannot tell from a complete one.
const CAUSES = 'They were deleted by retention (retention.ms or retention.bytes not -1) or by deleteRecords (kafka-delete-records, an admin client).';
const WHAT_TO_DO = [
  'What you can do: restore the topics\u2019 history with its offsets (from a backup of the brokers\u2019 log directories or of the remote storage tier), or point TOPIC_* (and, for a rebuild, a new ACCESS_INDEX_NAMESPACE) at a complete copy, such as a mirror that kept everything; and set unlimited retention (README, "Topic retention").',
  'To accept the loss, start a new history: new topics that begin with the current state of every account, projected into a new namespace. No flag goes on with part of the history: the answer would miss what the lost events set.',
];

/** The refusal: which events are gone, the likely causes, and what the operator can do. */
export function historyGoneMessage(gaps: readonly HistoryGap[], purpose: string): string {
  return [
    `${purpose} refused: part of the history it needs is gone from Kafka, and going on from the rest would give a wrong answer.`,
    ...gapLines(gaps),
    CAUSES,
    ...WHAT_TO_DO,
  ].join('\n');
}

/**
 * Throws HistoryGoneError when any of `topics` no longer starts at offset 0. The one call `rebuild`
 * and `replay` make before they create or write anything.
 */
export async function requireFullHistory(kafka: Kafka, topics: readonly string[], purpose: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const gaps = await missingHistory(admin, topics);
    if (gaps.length > 0) throw new HistoryGoneError(gaps, purpose);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Logs one warning per setting that deletes history, and one when history is already gone (the
 * live projector goes on from its own state, but `rebuild` and `replay` will refuse).
 */
export async function warnAboutRetention(admin: Admin, topics: readonly string[], logger: Logger): Promise<void> {
  const existing = new Set(await admin.listTopics());
  // A missing topic is not judged: the projector's ensureTopics creates it with unlimited retention.
  const present = topics.filter((t) => existing.has(t));
  const settingsOf = await readRetention(admin, present);
  for (const topic of present)
    for (const problem of retentionProblems(topic, settingsOf.get(topic) ?? {}))
      logger.warn({ topic: problem.topic, setting: problem.setting, value: problem.value, fix: problem.fix }, retentionWarning(problem));
  const gaps = await missingHistory(admin, present);
  if (gaps.length > 0)
    logger.warn(
      { gaps: gaps.map(gapDetails) },
      ['the event topics no longer hold their whole history: `rebuild` and `replay` will refuse.', ...gapLines(gaps), CAUSES, ...WHAT_TO_DO].join('\n'),
    );
}

/** The start-up check: the event topics' retention, warnings only. */
export const checkHistoryRetention = async function checkHistoryRetention(runtime: Runtime): Promise<void> {
  const admin = runtime.clients.kafka.admin();
  await admin.connect();
  try {
    await warnAboutRetention(admin, eventTopics(runtime.config.topics), runtime.logger);
  } finally {
    await admin.disconnect();
  }
};

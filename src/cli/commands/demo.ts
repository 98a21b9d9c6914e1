/**
 * `access-index demo [--preset demo|test|bench] [--scale 0.1] [--seed 42]`: publishes a realistic,
 * deterministic contact-center history to the configured topics (see docs/demo-data.md).
 * Progress goes to stderr (a bar on a terminal, a line every few seconds otherwise), totals to stdout.
 */
import { SingleBar } from 'cli-progress';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { Admin } from 'kafkajs';
import { ConfigError, loadConfig } from '../../config.ts';
import { benchPreset, demoPreset, generateHistory, testPreset } from '../../demo/generator.ts';
import type { Preset } from '../../demo/presets.ts';
import { type PublishProgress, type PublishResult, publishHistory } from '../../demo/publish.ts';
import { createKafka, ensureTopics, eventTopics } from '../../kafka/client.ts';
import { createLogger } from '../../logger.ts';
import { retry } from '../../retry.ts';

export const PRESET_NAMES = ['demo', 'test', 'bench'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

export interface DemoOptions {
  preset: PresetName;
  /** bench only */
  scale: number;
  seed: number;
  batchSize: number;
  /** publish even when the topics already hold events */
  force?: boolean;
}

/** The preset of that name (`scale` shrinks the bench; the other presets have one size). */
export function presetByName(name: PresetName, scale = 1): Preset {
  if (name === 'bench') return benchPreset(scale);
  return name === 'test' ? testPreset() : demoPreset();
}

function parseNumber(what: string, check: (n: number) => boolean) {
  return (text: string): number => {
    const value = Number(text);
    if (text.trim() === '' || !check(value)) throw new InvalidArgumentError(what);
    return value;
  };
}

/** Adds `demo` to the program. */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('publish a realistic, deterministic contact-center history to the topics (see docs/demo-data.md)')
    .addOption(
      new Option('--preset <name>', 'demo (3 centers, 30,000 events), test (3 small centers) or bench (200,000 users, 2,000,000 events)').choices(PRESET_NAMES).default('demo'),
    )
    .option(
      '--scale <factor>',
      'bench only: shrink every center by this factor, above 0 (e.g. 0.1)',
      parseNumber('must be a number above 0', (n) => n > 0 && Number.isFinite(n)),
      1,
    )
    .option(
      '--seed <n>',
      'seed of the generator: the same seed gives the same history',
      parseNumber('must be an integer from 0 to 4294967295', (n) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff),
      42,
    )
    .option(
      '--batch-size <n>',
      'messages per produce request',
      parseNumber('must be a positive integer', (n) => Number.isInteger(n) && n > 0),
      2_000,
    )
    .option('--force', 'publish even when the topics already hold events (see docs/demo-data.md first)', false)
    .action(async (options: DemoOptions) => {
      try {
        await runDemo(options);
      } catch (error) {
        if (!(error instanceof ConfigError || error instanceof TopicsNotEmptyError)) throw error;
        process.stderr.write(`${error.message}\n`);
        process.exitCode = 1;
      }
    });
}

/** Creates the topics if needed and publishes the preset; returns what was written. */
export async function runDemo(options: DemoOptions, env: NodeJS.ProcessEnv = process.env): Promise<PublishResult> {
  const config = loadConfig(env);
  const logger = createLogger({ level: config.logLevel, name: 'demo' });
  const kafka = createKafka(config, logger, 'access-index-demo');
  const preset = presetByName(options.preset, options.scale);

  const eventTopicNames = eventTopics(config.topics);
  const existing = await retry(
    async () => {
      const admin = kafka.admin();
      await admin.connect();
      try {
        await ensureTopics(admin, config.topics);
        return await countMessages(admin, eventTopicNames);
      } finally {
        await admin.disconnect();
      }
    },
    { retries: 10, onRetry: (error, attempt) => logger.warn({ err: error, attempt }, 'Kafka not reachable yet; retrying') },
  );
  if (existing > 0 && !options.force) throw new TopicsNotEmptyError(existing, eventTopicNames);

  const planned = preset.accounts.reduce((sum, account) => sum + account.events, 0);
  const users = preset.accounts.reduce((sum, account) => sum + account.agents, 0);
  const scaleNote = options.preset === 'bench' ? ` at scale ${options.scale}` : '';
  process.stderr.write(
    `Publishing the ${options.preset} preset${scaleNote} (seed ${options.seed}): ${preset.accounts.length} accounts, ` +
      `${users.toLocaleString('en')} users, about ${planned.toLocaleString('en')} events to ${eventTopicNames.join(', ')}\n`,
  );
  const progress = createProgress(planned);
  let result: PublishResult;
  try {
    result = await publishHistory({
      kafka,
      topics: config.topics,
      events: generateHistory({ seed: options.seed, ...preset }),
      batchSize: options.batchSize,
      onProgress: progress.update,
    });
  } finally {
    progress.stop();
  }
  process.stdout.write(formatTotals(result));
  return result;
}

/**
 * The topics already hold events. A second copy of a history carries the same event ids: the
 * projector skips those it still remembers (the last days of the history) and applies the older
 * ones again, which winds every account back. So the demo goes into empty topics only.
 */
export class TopicsNotEmptyError extends Error {
  constructor(count: number, topics: readonly string[]) {
    super(
      `The topics already hold ${count.toLocaleString('en')} events (${topics.join(', ')}). ` +
        'Publishing the demo again would replay event ids the projector has seen. ' +
        'Use other topics (TOPIC_USERS, TOPIC_ROLES, TOPIC_QUEUES, TOPIC_INBOXES) or pass --force.',
    );
    this.name = 'TopicsNotEmptyError';
  }
}

async function countMessages(admin: Admin, topics: readonly string[]): Promise<number> {
  let count = 0;
  for (const topic of topics) {
    for (const { high, low } of await admin.fetchTopicOffsets(topic)) count += Number(high) - Number(low);
  }
  return count;
}

/** A bar with rate and ETA on a terminal; elsewhere (CI, logs) a plain line every 5 seconds. */
function createProgress(total: number) {
  if (process.stderr.isTTY) {
    const bar = new SingleBar({
      stream: process.stderr,
      format: 'demo |{bar}| {percentage}% | {value}/{total} events | {rate} events/s | ETA {eta_formatted}',
      etaBuffer: 50,
      hideCursor: true,
    });
    bar.start(total, 0, { rate: 0 });
    return {
      update: ({ sent, rate }: PublishProgress) => {
        if (sent > total) bar.setTotal(sent);
        bar.update(sent, { rate: Math.round(rate).toLocaleString('en') });
      },
      stop: () => bar.stop(),
    };
  }
  let lastAt = 0;
  return {
    update: ({ sent, rate, elapsedMs }: PublishProgress) => {
      if (elapsedMs - lastAt < 5_000) return;
      lastAt = elapsedMs;
      const share = Math.min(100, (100 * sent) / total).toFixed(0);
      process.stderr.write(`demo: ${sent.toLocaleString('en')} / ${total.toLocaleString('en')} events (${share}%), ${Math.round(rate).toLocaleString('en')} events/s\n`);
    },
    stop: () => {},
  };
}

function formatTotals(result: PublishResult): string {
  const seconds = result.elapsedMs / 1000;
  const rate = Math.round(result.total / Math.max(seconds, 0.001));
  const topics = Object.entries(result.counts)
    .map(([topic, count]) => `  ${topic.padEnd(8)} ${count.toLocaleString('en').padStart(10)}`)
    .join('\n');
  const positions = [...result.lastOffsets]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([field, offset]) => `${field}:${offset}`)
    .join(',');
  return (
    `Published ${result.total.toLocaleString('en')} events in ${seconds.toFixed(1)} s (${rate.toLocaleString('en')} events/s):\n${topics}\n` +
    `Last positions (for min_position): ${positions}\n`
  );
}

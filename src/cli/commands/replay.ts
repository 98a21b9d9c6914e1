/**
 * `access-index replay --account A --until T [--channel C] [--format json|table]`: the report of
 * one account as of T, by replaying the topics from their earliest offsets through the pure core.
 * Independent of the index, the counters and the projector: the audit's second opinion.
 * The report goes to stdout; progress to stderr.
 */
import type { Command } from 'commander';
import { pino } from 'pino';
import { CHANNEL_SCOPES, CHANNELS, type Channel, type Summary } from '../../../projections/index.ts';
import { eventTimeSchema, parseEventTime } from '../../../schemas/fields.ts';
import { formatPositions } from '../../api/position.ts';
import { type ReplayAccountResult, replayAccount } from '../../audit/replay.ts';
import { loadConfig } from '../../config.ts';
import { createKafka } from '../../kafka/client.ts';
import { runCommand } from '../run-command.ts';

export interface ReplayCommandOptions {
  account: string;
  until: string;
  channel?: string;
  format: string;
}

const FORMATS = ['json', 'table'] as const;

/** Checks the options; throws with one line per bad option. */
export function parseReplayOptions(options: ReplayCommandOptions): {
  accountId: string;
  untilMs: number;
  until: string;
  channel: Channel | undefined;
  format: (typeof FORMATS)[number];
} {
  const problems: string[] = [];
  if (!eventTimeSchema.safeParse(options.until).success)
    problems.push(`--until must be an RFC 3339 date-time with seconds and an offset, e.g. 2026-11-27T10:15:00Z (got ${JSON.stringify(options.until)})`);
  if (options.channel !== undefined && !(CHANNELS as readonly string[]).includes(options.channel))
    problems.push(`--channel must be one of ${CHANNELS.join(', ')} (got ${JSON.stringify(options.channel)})`);
  if (!(FORMATS as readonly string[]).includes(options.format)) problems.push(`--format must be json or table (got ${JSON.stringify(options.format)})`);
  if (options.account.length === 0) problems.push('--account must not be empty');
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return {
    accountId: options.account,
    untilMs: parseEventTime(options.until),
    until: options.until,
    channel: options.channel as Channel | undefined,
    format: options.format as (typeof FORMATS)[number],
  };
}

/** The result as the JSON document the command prints. */
export function replayJson(result: ReplayAccountResult, until: string, channel: Channel | undefined): object {
  return {
    account_id: result.accountId,
    as_of: until,
    as_of_ms: result.untilMs,
    channel: channel ?? null,
    events: { scanned: result.scanned, account_events: result.events, applied: result.applied, poison: result.poison },
    read_up_to: formatPositions(result.ends),
    summary: result.summary,
    rows: result.rows,
    users: result.users,
  };
}

function table(header: string[], rows: string[][], rightAligned: ReadonlySet<number> = new Set()): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** The result as text tables: the summary of every channel scope, then the rows. */
export function replayTable(result: ReplayAccountResult, until: string, channel: Channel | undefined): string {
  const lines = [
    `account ${result.accountId} as of ${until}: ${result.applied} events applied (of ${result.events} events of the account; ${result.scanned} messages read, ${result.poison} unusable)`,
    '',
  ];
  const metrics: [string, (s: Summary) => number][] = [
    ['users with access', (s) => s.users.total],
    ['users: inbox', (s) => s.users.inbox],
    ['users: automatic_call_recording', (s) => s.users.automatic_call_recording],
    ['users: ad_hoc_call_recording', (s) => s.users.ad_hoc_call_recording],
    ['queues: inbox', (s) => s.queues.inbox],
    ['queues: automatic_call_recording', (s) => s.queues.automatic_call_recording],
    ['queues: ad_hoc_call_recording', (s) => s.queues.ad_hoc_call_recording],
    ['inboxes', (s) => s.inboxes],
  ];
  const scopes = [...CHANNEL_SCOPES];
  lines.push(
    table(
      ['summary', ...scopes],
      metrics.map(([name, get]) => [name, ...scopes.map((s) => String(get(result.summary[s])))]),
      new Set(scopes.map((_, i) => i + 1)),
    ),
  );
  lines.push('', `users${channel ? ` (channel ${channel})` : ''}: ${result.rows.length}`);
  if (result.rows.length > 0)
    lines.push(
      table(
        ['user_id', 'display_name', 'user_email', 'user_access', 'can_access', 'access_types'],
        result.rows.map((r) => [r.user_id, r.display_name, r.user_email, r.user_access, String(r.can_access), r.access_types.join(', ')]),
        new Set([4]),
      ),
    );
  return `${lines.join('\n')}\n`;
}

/** Adds the `replay` command. */
export function registerReplayCommand(program: Command): void {
  program
    .command('replay')
    .description('the report of one account as of an instant, by replaying the topics from the start (independent of the index)')
    .requiredOption('--account <id>', 'the account')
    .requiredOption('--until <time>', 'the instant: RFC 3339 with an offset; events with a later event time are left out')
    .option('--channel <channel>', `only paths of this channel in the rows (${CHANNELS.join(', ')}); the summary shows every channel`)
    .option('--format <format>', 'json or table', 'table')
    .action((raw: ReplayCommandOptions) =>
      runCommand(async () => {
        const options = parseReplayOptions(raw);
        const config = loadConfig();
        // Logs and progress on stderr: stdout carries the report alone.
        const logger = pino({ level: config.logLevel, base: { service: 'access-index', component: 'replay' } }, pino.destination(2));
        const kafka = createKafka(config, logger, 'access-index-replay');
        const progress = (line: string) => process.stderr.write(`${line}\n`);
        const started = Date.now();
        const result = await replayAccount({
          kafka,
          topics: config.topics,
          accountId: options.accountId,
          groupPrefix: config.namespace,
          untilMs: options.untilMs,
          windowMs: config.dedupeWindowMs,
          channel: options.channel,
          progress,
        });
        progress(`replayed ${result.applied} of ${result.events} events of ${options.accountId} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        process.stdout.write(
          options.format === 'json' ? `${JSON.stringify(replayJson(result, options.until, options.channel), null, 2)}\n` : replayTable(result, options.until, options.channel),
        );
      }),
    );
}

/**
 * `npm start` (`access-index quickstart`): the newcomer's one command. Local servers up if needed,
 * a development secret if none is set, the demo data if the topics are empty, then `start`; it
 * waits until the demo is searchable and prints the page's URL and a token for each demo account.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { READ_SCOPE } from '../../api/auth.ts';
import { mintToken } from '../../api/tokens.ts';
import { loadConfig } from '../../config.ts';
import { demoPreset } from '../../demo/generator.ts';
import { endOffsets, eventTopics } from '../../kafka/client.ts';
import { onShutdown } from '../../runtime.ts';
import { resolveServicePaths } from '../../services/paths.ts';
import { createServices } from '../../services/services.ts';
import { runCommand } from '../run-command.ts';
import { runDemo, TopicsNotEmptyError } from './demo.ts';
import { startService } from './start.ts';

const say = (line: string) => process.stderr.write(`${line}\n`);

/** A secret kept in the local cache so tokens survive restarts; only for local development. */
function developmentSecret(): string {
  const paths = resolveServicePaths();
  const file = join(paths.cache, 'dev-jwt-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(paths.cache, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

export function registerQuickstartCommand(program: Command): void {
  program
    .command('quickstart')
    .description('servers up if needed, demo data if the topics are empty, then start; prints the URL and tokens (npm start)')
    .action(() =>
      runCommand(async () => {
        loadConfig(); // bad configuration stops us before anything starts
        say('1/4 Kafka, OpenSearch and Redis (access-index services up)…');
        await createServices({ print: (line) => say(`    ${line}`) }).up();
        if (!process.env.ACCESS_INDEX_JWT_SECRET) {
          process.env.ACCESS_INDEX_JWT_SECRET = developmentSecret();
          say('    (no ACCESS_INDEX_JWT_SECRET set: using a local development secret from the cache folder)');
        }
        say('2/4 Demo data…');
        try {
          await runDemo({ preset: 'demo', scale: 1, seed: 42, batchSize: 2000 });
        } catch (error) {
          if (!(error instanceof TopicsNotEmptyError)) throw error;
          say('    the topics already hold events: keeping them');
        }
        say('3/4 Projector and API…');
        const service = await startService();
        onShutdown(service.runtime.logger, () => service.stop());
        say('4/4 Catching up with the topics…');
        await waitUntilCaughtUp(service.runtime, (done, total) => say(`    ${done.toLocaleString('en')} / ${total.toLocaleString('en')} events searchable`));
        const secret = process.env.ACCESS_INDEX_JWT_SECRET;
        const accounts = demoPreset().accounts.map((a) => a.id);
        const tokens = await Promise.all(
          accounts.map(async (id) => [id, await mintToken({ secret, accountId: id, scope: READ_SCOPE, sub: 'quickstart', ttlSeconds: 12 * 3600 })] as const),
        );
        process.stdout.write(`\nThe access report is at ${service.api.url}\nSign in with one of these tokens (valid 12 h):\n`);
        for (const [id, token] of tokens) process.stdout.write(`  ${id}: ${token}\n`);
        process.stdout.write('Press Ctrl+C to stop.\n');
      }),
    );
}

/** Waits until every event already in the topics is searchable, reporting progress every second. */
async function waitUntilCaughtUp(runtime: Awaited<ReturnType<typeof startService>>['runtime'], progress: (done: number, total: number) => void): Promise<void> {
  const admin = runtime.clients.kafka.admin();
  await admin.connect();
  const ends = await endOffsets(admin, eventTopics(runtime.config.topics)).finally(() => admin.disconnect());
  const total = [...ends.values()].reduce((a, b) => a + Number(b) + 1, 0);
  for (;;) {
    const positions = await runtime.store.positions();
    const done = [...ends].reduce((a, [field, end]) => a + Math.min(Number(positions.get(field) ?? -1n), Number(end)) + 1, 0);
    progress(done, total);
    if (done >= total) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

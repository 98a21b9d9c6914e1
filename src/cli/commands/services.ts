/**
 * `access-index services up | down | status`: local Kafka, OpenSearch and Redis for development
 * and tests. Progress goes to stderr, the final table to stdout. See docs/services.md.
 */
import type { Command } from 'commander';
import { formatStates } from '../../services/format-status.ts';
import { resolveServicePaths } from '../../services/paths.ts';
import { ServiceError } from '../../services/service-error.ts';
import { createServices, type ServerState } from '../../services/services.ts';

/** Adds the `services` command and its subcommands to the program. */
export function registerServicesCommand(program: Command): void {
  const services = program.command('services').description('local Kafka, OpenSearch and Redis for development and tests (see docs/services.md)');

  services
    .command('up')
    .description('find or start Kafka, OpenSearch and Redis on 127.0.0.1, and wait until they answer')
    .action(() =>
      report(async () => {
        const started = Date.now();
        const states = await createServices().up();
        printTable(states);
        const logs = states.filter((state) => state.logs).map((state) => `  ${state.label}: ${state.logs}`);
        if (logs.length > 0) process.stdout.write(`Logs:\n${logs.join('\n')}\n`);
        process.stdout.write(`All up in ${((Date.now() - started) / 1000).toFixed(1)} s.\n`);
      }),
    );

  services
    .command('down')
    .description('stop what `services up` started (nothing else)')
    .action(() => report(() => createServices().down()));

  services
    .command('status')
    .description('show each server: up or down, started or found, pid, address (exit 1 if one is down)')
    .action(() =>
      report(async () => {
        const states = await createServices().status();
        printTable(states);
        process.stdout.write(`State and pid files: ${resolveServicePaths().run}\n`);
        if (states.some((state) => !state.up)) process.exitCode = 1;
      }),
    );
}

function printTable(states: ServerState[]): void {
  process.stdout.write(`${formatStates(states)}\n`);
}

async function report(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (error) {
    if (!(error instanceof ServiceError)) throw error;
    process.stderr.write(`\n${error.message}\n`);
    process.exitCode = 1;
  }
}

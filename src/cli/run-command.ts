/**
 * Runs a command body: a bad config or an unexpected failure ends the process with a readable
 * message on stderr and exit code 1 (or 2 for a bad configuration), never a stack dump alone.
 */
import { ConfigError } from '../config.ts';

export async function runCommand(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`access-index: ${error.message}\n`);
      process.exit(2);
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`access-index: ${message}\n`);
    if (process.env.LOG_LEVEL === 'debug' && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    process.exit(1);
  }
}

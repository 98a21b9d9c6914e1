/**
 * The `access-index` command line: one composition root per command.
 * Each command lives in src/cli/commands/<name>.ts and registers itself on the program.
 */
import { Command } from 'commander';
import { registerServicesCommand } from './commands/services.ts';

const program = new Command('access-index')
  .description('Who can reach voicemail inboxes and call recordings: the access index.')
  .showHelpAfterError();

registerServicesCommand(program);

await program.parseAsync(process.argv);

/**
 * The `access-index` command line: one composition root per command.
 * Each command lives in src/cli/commands/<name>.ts and registers itself on the program.
 */
import { Command } from 'commander';
import { registerProjectCommand } from './commands/project.ts';
import { registerServicesCommand } from './commands/services.ts';
import { registerVerifyCommand } from './commands/verify.ts';

const program = new Command('access-index')
  .description('Who can reach voicemail inboxes and call recordings: the access index.')
  .showHelpAfterError();

registerServicesCommand(program);
registerProjectCommand(program);
registerVerifyCommand(program);

await program.parseAsync(process.argv);

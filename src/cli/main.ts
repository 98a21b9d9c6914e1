/**
 * The `access-index` command line: one composition root per command.
 * Each command lives in src/cli/commands/<name>.ts and registers itself on the program.
 */
import { Command } from 'commander';
import { registerDemoCommand } from './commands/demo.ts';
import { registerProjectCommand } from './commands/project.ts';
import { registerQuickstartCommand } from './commands/quickstart.ts';
import { registerRebuildCommand } from './commands/rebuild.ts';
import { registerReplayCommand } from './commands/replay.ts';
import { registerServeCommand } from './commands/serve.ts';
import { registerStartCommand } from './commands/start.ts';
import { registerTokenCommand } from './commands/token.ts';
import { registerServicesCommand } from './commands/services.ts';
import { registerVerifyCommand } from './commands/verify.ts';

const program = new Command('access-index').description('Who can reach voicemail inboxes and call recordings: the access index.').showHelpAfterError();

registerStartCommand(program);
registerProjectCommand(program);
registerServeCommand(program);
registerVerifyCommand(program);
registerRebuildCommand(program);
registerReplayCommand(program);
registerDemoCommand(program);
registerTokenCommand(program);
registerServicesCommand(program);
registerQuickstartCommand(program);

await program.parseAsync(process.argv);

/**
 * `access-index verify`: recompute every account from its facts and compare with the index and the
 * counters. Prints each difference; exit 1 on any.
 */
import type { Command } from 'commander';
import { openRuntime } from '../../runtime.ts';
import { verifyAccount, verifyAll } from '../../verify.ts';
import { runCommand } from '../run-command.ts';

export function registerVerifyCommand(program: Command): void {
  program
    .command('verify')
    .description('recompute from the facts and compare with the index and counters; exit 1 on any difference')
    .option('--account <id>', 'only this account')
    .option('--max-differences <n>', 'print at most this many differences per account', '50')
    .action((options: { account?: string; maxDifferences: string }) =>
      runCommand(async () => {
        const runtime = await openRuntime();
        const deps = {
          store: runtime.store,
          opensearch: runtime.clients.opensearch,
          index: runtime.index,
          factsIndex: runtime.indices.facts,
          windowMs: runtime.config.dedupeWindowMs,
        };
        const limit = Number(options.maxDifferences);
        let differences = 0;
        let accounts = 0;
        const started = Date.now();
        const reports = options.account
          ? [await verifyAccount(deps, options.account)]
          : await verifyAll(deps, (r) => process.stderr.write(`verified ${r.accountId}: ${r.users} users, ${r.counters} counters, ${r.differences.length} differences\n`));
        for (const report of reports) {
          accounts += 1;
          differences += report.differences.length;
          for (const d of report.differences.slice(0, limit)) process.stdout.write(`${report.accountId}: ${d}\n`);
          if (report.differences.length > limit) process.stdout.write(`${report.accountId}: … and ${report.differences.length - limit} more\n`);
        }
        await runtime.close();
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        process.stdout.write(`${differences === 0 ? 'clean' : 'DIFFERENCES'}: ${accounts} accounts, ${differences} differences (${seconds} s)\n`);
        process.exit(differences === 0 ? 0 : 1);
      }),
    );
}

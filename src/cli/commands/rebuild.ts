/**
 * `access-index rebuild`: a shadow rebuild from the earliest offsets, parity check, then swap.
 * Resumes a rebuild that was killed. `--drop <generation>` deletes an old generation.
 */
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { dropGeneration, runRebuild } from '../../rebuild/rebuild.ts';
import { openRuntime } from '../../runtime.ts';
import { runCommand } from '../run-command.ts';

export function registerRebuildCommand(program: Command): void {
  program
    .command('rebuild')
    .description('replay the topics into a new generation beside the live one, check parity, then swap (resumes a killed rebuild)')
    .option('--drop <generation>', 'instead: delete an old (not live) generation, e.g. g1')
    .action((options: { drop?: string }) =>
      runCommand(async () => {
        // A broken live generation (Redis lost it, an index is gone) is what a rebuild repairs.
        const runtime = await openRuntime({ ensureTopics: true, allowFault: true, memoryBudget: true });
        try {
          if (options.drop) {
            await dropGeneration(runtime, options.drop);
            process.stderr.write(`Generation ${options.drop} dropped.\n`);
            return;
          }
          const tty = process.stderr.isTTY;
          const bar = tty ? new SingleBar({ format: 'rebuild [{bar}] {percentage}% | {value}/{total} events | {rate} ev/s | ETA {eta_formatted}', hideCursor: true }) : undefined;
          let started = false;
          let lastLine = 0;
          const t0 = Date.now();
          const result = await runRebuild(runtime, {
            log: (line) => {
              if (started) bar?.stop();
              started = false;
              process.stderr.write(`${line}\n`);
            },
            onProgress: ({ done, total }) => {
              const rate = Math.round(done / Math.max(0.001, (Date.now() - t0) / 1000));
              if (bar) {
                if (!started) bar.start(total, done, { rate });
                started = true;
                bar.update(done, { rate });
              } else if (Date.now() - lastLine > 5_000 || done >= total) {
                lastLine = Date.now();
                const eta = rate > 0 ? Math.round((total - done) / rate) : 0;
                process.stderr.write(`rebuild: ${done}/${total} events searchable (${rate} ev/s, ETA ${eta} s)\n`);
              }
            },
          });
          if (started) bar?.stop();
          process.stdout.write(
            `rebuilt ${result.generation} (was ${result.previous}${result.resumed ? ', resumed' : ''}): ${result.events} events, ${result.accounts} accounts, ${result.seconds.toFixed(1)} s\n`,
          );
        } finally {
          await runtime.close();
        }
      }),
    );
}

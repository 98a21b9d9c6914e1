/**
 * `npm run bench`: runs the benches at their default, bounded settings (today the projector
 * throughput bench: benchPreset(0.05), 3 runs, 3 to 7 minutes on the shared 2-core development machine)
 * and prints the summary. Flags go to the projector bench (`npm run bench -- --scale 0.2 --runs 1`).
 * Benches are not tests: they need the local servers (`node bin/access-index.js services up`),
 * talk only to 127.0.0.1, and delete their namespaces when done.
 */
import { writeFile } from 'node:fs/promises';
import { formatProjectorReport, optionsFromFlags, PROJECTOR_FLAGS, reportJson, runProjectorBench } from './projector-throughput.ts';
import { parseFlags } from './support/args.ts';
import { progress } from './support/report.ts';

async function main(): Promise<void> {
  const flags = parseFlags('npm run bench --', PROJECTOR_FLAGS);
  const started = Date.now();
  const projector = await runProjectorBench(optionsFromFlags(flags));
  const json = reportJson({ projector });
  if (flags.out) await writeFile(flags.out, json);
  progress(`all benches done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  process.stdout.write(flags.json ? `${json}\n` : formatProjectorReport(projector));
  // A run that stalled or timed out is a finding: the command says so.
  if (projector.failures.length > 0) process.exitCode = 1;
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error) => {
    process.stderr.write(`bench failed: ${(error as Error).stack ?? error}\n`);
    process.exit(1);
  },
);

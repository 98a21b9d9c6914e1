/**
 * `npm run bench`: runs the benches at their default, bounded settings (today the projector
 * throughput bench: benchPreset(0.05), 3 runs, about 5 minutes here) and prints the summary.
 * Flags are passed to the projector bench (`npm run bench -- --scale 0.2 --runs 1`).
 * Benches are not tests: they need the local servers (`node bin/access-index.js services up`),
 * talk only to 127.0.0.1, and clean up their namespaces.
 */
import { writeFile } from 'node:fs/promises';
import { formatProjectorReport, PROJECTOR_FLAGS, runProjectorBench } from './projector-throughput.ts';
import { parseFlags } from './support/args.ts';
import { progress } from './support/report.ts';

async function main(): Promise<void> {
  const flags = parseFlags('npm run bench --', PROJECTOR_FLAGS);
  const started = Date.now();
  const projector = await runProjectorBench({
    scale: flags.scale,
    runs: flags.runs,
    seed: flags.seed,
    timeoutMs: flags['timeout-s'] * 1000,
    ...(flags['cpu-profile'] ? { cpuProfile: flags['cpu-profile'] } : {}),
  });
  const reports = { projector };
  const json = JSON.stringify(reports, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2);
  if (flags.out) await writeFile(flags.out, json);
  progress(`all benches done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  process.stdout.write(flags.json ? `${json}\n` : formatProjectorReport(projector));
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`bench failed: ${(error as Error).stack ?? error}\n`);
    process.exit(1);
  },
);

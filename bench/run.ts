/**
 * `npm run bench`: runs the benches at their default, bounded settings and prints the summary.
 * Without `--all`, the projector throughput bench only (benchPreset(0.05), 3 runs, 3 to 7 minutes
 * on the 2-core development machine); flags go to it (`npm run bench -- --scale 0.2 --runs 1`).
 * With `--all`, then the API latency, freshness, rebuild and repair benches too, each in its own
 * process at its own defaults (about 30 more minutes), one after the other so that they never share
 * the machine; every figure of docs/benchmarks.md (and of its journal) comes from the
 * first four, the repair time after an emptied Redis (docs/reliability.md) from bench/repair-time.ts.
 * Benches are not tests: they need the local servers (`node bin/access-index.js services up`),
 * talk only to 127.0.0.1, and delete their namespaces when done.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { formatProjectorReport, optionsFromFlags, PROJECTOR_FLAGS, reportJson, runProjectorBench } from './projector-throughput.ts';
import { parseFlags } from './support/args.ts';
import { progress } from './support/report.ts';

const FLAGS = {
  ...PROJECTOR_FLAGS,
  all: { default: false, help: 'also run bench/api-latency.ts, bench/freshness.ts, bench/rebuild-time.ts and bench/repair-time.ts (their defaults)' },
} as const;

const OTHERS = ['api-latency.ts', 'freshness.ts', 'rebuild-time.ts', 'repair-time.ts'] as const;

/** Runs one bench script in its own process, its table on our stdout; resolves to its exit code. */
function runScript(script: string): Promise<number> {
  const path = fileURLToPath(new URL(script, import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function main(): Promise<void> {
  const flags = parseFlags('npm run bench --', FLAGS);
  const started = Date.now();
  const projector = await runProjectorBench(optionsFromFlags(flags));
  const json = reportJson({ projector });
  if (flags.out) await writeFile(flags.out, json);
  process.stdout.write(flags.json ? `${json}\n` : formatProjectorReport(projector));
  // A run that stalled or timed out is a finding: the command says so.
  if (projector.failures.length > 0) process.exitCode = 1;
  if (flags.all)
    for (const script of OTHERS) {
      progress(`bench/${script}`);
      const code = await runScript(script);
      if (code !== 0) {
        progress(`bench/${script} exited with ${code}`);
        process.exitCode = 1;
      }
    }
  progress(`all benches done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error) => {
    process.stderr.write(`bench failed: ${(error as Error).stack ?? error}\n`);
    process.exit(1);
  },
);

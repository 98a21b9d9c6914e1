/**
 * Downloads artifacts from Maven Central with `mvn` and a small POM rendered from scripts/services/.
 * Progress: one line per jar or zip downloaded; Maven's own output is kept for the error message.
 *
 * Offline first: when ~/.m2 already holds every artifact (a second cache directory, a machine
 * that fetched them before), Maven runs with `-o` and needs no network at all. Online resolution
 * would not do: the OpenSearch zip has no POM on Maven Central, and Maven's "daily" update policy
 * asks for that missing POM again on the first run after midnight, so an online run without a
 * network failed even though the zip was on disk.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ServiceError } from './service-error.ts';
import { renderTemplate } from './templates.ts';
import { requireMaven } from './tools.ts';

/** What to fetch: a POM template, its values and the dependency-plugin goals to run. */
export interface MavenFetchOptions {
  /** shown in the progress lines, e.g. "Kafka 3.9.1" */
  label: string;
  templatesDir: string;
  /** e.g. "kafka/pom.xml" under templatesDir */
  pomTemplate: string;
  values: Record<string, string | number>;
  goals: string[];
  /** where the rendered POM goes (Maven leaves a target/ folder there too) */
  workDir: string;
  /** written when the fetch completed: its presence skips the fetch next time */
  markerFile: string;
  print: (line: string) => void;
}

/** Runs the fetch unless it already completed; throws a ServiceError naming the failure. */
export async function fetchWithMaven(options: MavenFetchOptions): Promise<void> {
  const { label, workDir, print } = options;
  if (existsSync(options.markerFile)) return;
  await requireMaven();
  await mkdir(workDir, { recursive: true });
  const pom = join(workDir, 'pom.xml');
  await renderTemplate(options.templatesDir, options.pomTemplate, pom, options.values);
  const started = Date.now();
  const args = ['-B', '-Dstyle.color=never', '-f', pom, ...options.goals];
  const offline = (await runMaven(['-o', ...args], () => {})).code === 0;
  if (!offline) {
    print(`  downloading ${label} from Maven Central (first run only; ~/.m2 keeps a copy)...`);
    const { code, tail } = await runMaven(args, print);
    if (code !== 0) {
      throw new ServiceError(`Download of ${label} failed (mvn exited with ${code}). Is Maven Central reachable?\n` + tail.map((line) => `  | ${line}`).join('\n'));
    }
  }
  await writeFile(options.markerFile, `${new Date().toISOString()}\n`);
  print(`  ${label} ${offline ? 'taken from ~/.m2' : 'fetched'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

const BOILERPLATE = /^\[ERROR\] (To see the full|Re-run Maven|For more information|\[Help \d\])/;
const DOWNLOADED = /Downloaded from [^:]+: (\S+) \(([^)]+)\)/;

async function runMaven(args: string[], print: (line: string) => void): Promise<{ code: number; tail: string[] }> {
  const child = spawn('mvn', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const tail: string[] = [];
  const keep = (line: string): void => {
    tail.push(line);
    if (tail.length > 12) tail.shift();
  };
  const onLine = (line: string): void => {
    const got = DOWNLOADED.exec(line);
    if (got?.[1] && /\.(jar|zip)$/.test(got[1])) {
      print(`    got ${got[1].split('/').pop()} (${got[2]})`);
      return;
    }
    if (/^\[ERROR\] \S/.test(line) && !BOILERPLATE.test(line)) keep(line);
    else if (/^\[WARNING\] Could not transfer/.test(line) && tail.length < 3) keep(line);
  };
  createInterface({ input: child.stdout }).on('line', onLine);
  createInterface({ input: child.stderr }).on('line', keep);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, tail }));
  });
}

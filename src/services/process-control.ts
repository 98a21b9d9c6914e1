/**
 * Starting, recognising and stopping the server processes that `services up` owns.
 * A pid file records the pid and a marker found in the process's command line, so that a reused
 * pid is never mistaken for our server and `down` stops only what `up` started.
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createConnection } from 'node:net';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** What a pid file holds. */
export interface PidRecord {
  pid: number;
  /** a string the process's command line contains, e.g. its config path */
  marker: string;
  startedAt: string;
}

/** Reads a pid file; undefined when absent or unreadable. */
export function readPidFile(path: string): PidRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(path, 'utf8')) as PidRecord;
    return typeof record.pid === 'number' ? record : undefined;
  } catch {
    return undefined;
  }
}

/** Writes a pid file (creating its folder). */
export async function writePidFile(path: string, record: PidRecord): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(record)}\n`);
}

/** Removes a pid file if present. */
export async function removePidFile(path: string): Promise<void> {
  await rm(path, { force: true });
}

/** The process's command line (NUL-separated arguments joined by spaces), or undefined if gone. */
export function commandLineOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return undefined;
  }
}

/** True when the recorded process is alive and still the one we started. */
export function isOurProcess(record: PidRecord | undefined): record is PidRecord {
  if (!record) return false;
  const cmdline = commandLineOf(record.pid);
  return cmdline !== undefined && cmdline.includes(record.marker);
}

/** How to start a server that outlives this process. */
export interface DetachedCommand {
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** stdout and stderr go here (appended) */
  logFile: string;
  /** run as this user (only when we are root) */
  uid?: number;
  gid?: number;
}

/** Spawns detached, output to the log file, and lets this process exit without waiting for it. */
export function spawnDetached(options: DetachedCommand): number {
  const fd = openSync(options.logFile, 'a');
  try {
    const child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', fd, fd],
      ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.gid }),
    });
    if (child.pid === undefined) throw new Error(`could not start ${options.command}`);
    child.unref();
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** True while the process exists (a zombie counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after `timeoutMs`; resolves once the process is gone. */
export async function stopProcess(pid: number, timeoutMs: number): Promise<'stopped' | 'killed' | 'not-running'> {
  if (!isAlive(pid)) return 'not-running';
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return 'stopped';
    await sleep(250);
  }
  process.kill(pid, 'SIGKILL');
  while (isAlive(pid)) await sleep(100);
  return 'killed';
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function isPortOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host });
    const done = (open: boolean): void => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** The process listening on the port, when `ss` can tell (best effort: undefined otherwise). */
export async function findPortHolder(port: number): Promise<{ pid: number; cmdline: string } | undefined> {
  try {
    const { stdout } = await run('ss', ['-ltnpH', `sport = :${port}`], { timeout: 5000 });
    const pid = Number(/pid=(\d+)/.exec(stdout)?.[1]);
    return pid ? { pid, cmdline: commandLineOf(pid) ?? '?' } : undefined;
  } catch {
    return undefined;
  }
}

/** The last lines of a log file, indented, starting with a newline ("" when unreadable). */
export function tailOf(file: string, lines: number): string {
  try {
    const last = readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines);
    return `\n${last.map((line) => `  | ${line.slice(0, 300)}`).join('\n')}`;
  } catch {
    return '';
  }
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

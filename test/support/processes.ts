/**
 * Real `access-index` processes for fault tests: spawned from bin/, configured by environment,
 * their JSON log lines collected, killed with any signal.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/access-index.js', import.meta.url));

export interface ManagedProcess {
  child: ChildProcess;
  logs: Record<string, unknown>[];
  /** Resolves with the first log line that matches (already seen or future). */
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  kill(signal: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

export function spawnCommand(args: string[], env: Record<string, string>): ManagedProcess {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Record<string, unknown>[] = [];
  const listeners = new Set<() => void>();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  const onLine = (line: string) => {
    try {
      logs.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      logs.push({ msg: line });
    }
    for (const l of listeners) l();
  };
  createInterface({ input: child.stdout }).on('line', onLine);
  createInterface({ input: child.stderr }).on('line', (line) => onLine(JSON.stringify({ stderr: line })));

  return {
    child,
    logs,
    exited,
    waitForLog(match, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = logs.find(match);
          if (found) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(
            new Error(
              `log line not seen in ${timeoutMs} ms; last lines:\n${logs
                .slice(-15)
                .map((l) => JSON.stringify(l))
                .join('\n')}`,
            ),
          );
        }, timeoutMs);
        listeners.add(check);
        check();
        void exited.then(() => {
          if (listeners.has(check)) {
            listeners.delete(check);
            clearTimeout(timer);
            reject(
              new Error(
                `process exited before the log line; last lines:\n${logs
                  .slice(-15)
                  .map((l) => JSON.stringify(l))
                  .join('\n')}`,
              ),
            );
          }
        });
      });
    },
    async kill(signal) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
  };
}

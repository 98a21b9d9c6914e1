/**
 * One `services up` at a time on a machine: two test runs starting together must not both start
 * Kafka. The lock is a file holding the owner's pid; a dead owner's lock is taken over.
 */
import { open, readFile, rm, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isAlive, sleep } from './process-control.ts';
import { ServiceError } from './service-error.ts';

/** Runs `fn` while holding <runDir>/up.lock, waiting up to `timeoutMs` for another holder. */
export async function withUpLock<T>(runDir: string, print: (line: string) => void, fn: () => Promise<T>, timeoutMs = 15 * 60_000): Promise<T> {
  await mkdir(runDir, { recursive: true });
  const path = join(runDir, 'up.lock');
  const deadline = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number(await readFile(path, 'utf8').catch(() => ''));
    if (!owner || !isAlive(owner)) {
      await rm(path, { force: true });
      continue;
    }
    if (!told) print(`Another \`services up\` (pid ${owner}) is running; waiting for it...`);
    told = true;
    if (Date.now() > deadline) throw new ServiceError(`Gave up waiting for \`services up\` pid ${owner} (${path}).`);
    await sleep(500);
  }
  try {
    return await fn();
  } finally {
    await rm(path, { force: true });
  }
}

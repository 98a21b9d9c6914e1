/**
 * The memory budget holds a real process: the same live heap and the same garbage stay near the
 * budget with it, and reach about twice as far without (V8's own growing factor). A pure but long
 * test: two Node processes making 30 million objects each (about 10 and 14 s here).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;
const run = promisify(execFile);

async function hog(liveMiB: number, budgetMiB: number): Promise<{ peakMiB: number; roomMiB: number | null }> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', join(root, 'test/support/memory-hog.ts'), String(liveMiB), '150', String(budgetMiB)], { cwd: root });
  return JSON.parse(stdout) as { peakMiB: number; roomMiB: number | null };
}

describe('the memory budget (ACCESS_INDEX_MEMORY_MB)', () => {
  it('keeps a process with 250 MiB alive and much garbage within 600 MiB; without it, V8 lets the same process grow far past', async () => {
    const held = await hog(250, 600);
    const free = await hog(250, 0);
    expect(held.peakMiB).toBeLessThanOrEqual(600 * 1.15);
    expect(free.peakMiB).toBeGreaterThan(600 * 1.5);
    // The room it reports (what a heavy round may take beside the next, decision 50) counts what
    // is alive and what lies outside the heap: less than the budget less the live heap, not none.
    expect(held.roomMiB).toBeGreaterThan(0);
    expect(held.roomMiB).toBeLessThan(600 - 250);
  }, 120_000);
});

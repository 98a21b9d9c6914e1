/**
 * A process that keeps a live heap and makes garbage, for test/slow/memory-budget.test.ts:
 *   node --import tsx test/support/memory-hog.ts <live MiB> <garbage rounds> [budget MiB]
 * With a budget it holds itself within it as the long-running commands do. Prints its peak
 * resident memory in MiB (the kernel's high-water mark) and, with a budget, the room it says is left.
 */
import { holdMemoryBudget } from '../../src/memory-budget.ts';

const [liveMiB = 0, rounds = 0, budgetMiB = 0] = process.argv.slice(2).map(Number);
const hold = budgetMiB ? holdMemoryBudget(budgetMiB * 2 ** 20) : undefined;
// About 100 bytes per kept object (the object, its string, the array slot).
const live: { n: number; s: string }[] = [];
for (let i = 0; i < (liveMiB * 2 ** 20) / 100; i++) live.push({ n: i, s: `kept ${i}` });
let made = 0;
for (let round = 0; round < rounds; round++) {
  const garbage: { n: number; s: string; a: number[] }[] = [];
  for (let i = 0; i < 200_000; i++) garbage.push({ n: i, s: `garbage ${i}`, a: [i] });
  made += garbage.length;
  // Let the collector's observer run between rounds, as the projector's event loop does.
  await new Promise((resolve) => setImmediate(resolve));
}
process.stdout.write(
  `${JSON.stringify({ kept: live.length, made, peakMiB: Math.round(process.resourceUsage().maxRSS / 1024), roomMiB: hold ? Math.round(hold.room() / 2 ** 20) : null })}\n`,
);

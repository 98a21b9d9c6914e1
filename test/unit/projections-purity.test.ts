import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = new URL('../../projections/', import.meta.url).pathname;
const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));

/** The rules core must stay pure: no I/O, no clock, no randomness (STYLE: pure core, thin shell). */
describe('projections/ is a pure core', () => {
  it('has modules to check', () => {
    expect(files.length).toBeGreaterThan(5);
  });

  for (const file of files) {
    const source = readFileSync(join(dir, file), 'utf8');
    const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');

    it(`${file} imports only other modules of the core`, () => {
      const specifiers = [...code.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g)].map(
        (m) => m[1] ?? m[2] ?? m[3],
      );
      for (const s of specifiers) expect(s, `${file} imports ${s}`).toMatch(/^\.\/[a-z0-9-]+\.ts$/);
    });

    it(`${file} reads no clock, randomness, environment or timers`, () => {
      for (const banned of [/\bDate\.now\b/, /\bnew Date\(/, /\bMath\.random\b/, /\bprocess\./, /\bperformance\./, /\bsetTimeout\b/, /\bsetInterval\b/, /\bcrypto\./, /\bfetch\(/, /\bglobalThis\b/])
        expect(code, `${file} uses ${banned}`).not.toMatch(banned);
    });
  }
});

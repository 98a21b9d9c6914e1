/**
 * The boundaries `npm run lint` enforces, shown to bite: code that breaks one is reported by the
 * tool that owns it (dependency-cruiser for imports, eslint for the pure core's clock and
 * randomness). The clean tree passing them is `npm run lint` itself, part of `npm test`.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cruise } from 'dependency-cruiser';
import { ESLint } from 'eslint';
import { afterAll, describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;
const { forbidden } = createRequire(import.meta.url)(join(root, '.dependency-cruiser.cjs')) as { forbidden: object[] };

describe('import boundaries (dependency-cruiser)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'access-index-boundaries-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  };

  it('names each broken rule: an adapter importing the projector, the core doing I/O, a bench importing a test, a cycle, a port or twin importing an adapter, the product importing a twin', async () => {
    write('src/projector/batch.ts', 'export const batch = 1;\n');
    write('src/redis/store.ts', "import { batch } from '../projector/batch.ts';\nexport const store = batch;\n");
    write('projections/rules.ts', "import { readFileSync } from 'node:fs';\nexport const rules = readFileSync;\n");
    write('projections/derive.ts', "import { store } from '../src/redis/store.ts';\nexport const derive = store;\n");
    write('test/support/helper.ts', 'export const helper = 1;\n');
    write('bench/run.ts', "import { helper } from '../test/support/helper.ts';\nexport const run = helper;\n");
    write('src/a.ts', "import { b } from './b.ts';\nexport const a = (): number => b();\n");
    write('src/b.ts', "import { a } from './a.ts';\nexport const b = (): number => a();\n");
    write('src/ports/state.ts', "import { store } from '../redis/store.ts';\nexport type State = typeof store;\n");
    write('src/twins/state.ts', "import { store } from '../redis/store.ts';\nexport const twin = store;\n");
    write('src/projector/run.ts', "import { twin } from '../twins/state.ts';\nexport const run = twin;\n");
    const result = await cruise(['src', 'projections', 'bench', 'test'], { baseDir: dir, validate: true, ruleSet: { forbidden } as never, tsPreCompilationDeps: true });
    const output = result.output as { summary: { violations: { rule: { name: string }; from: string; to: string }[] } };
    const broken = output.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`).sort();
    expect(broken).toEqual(
      expect.arrayContaining([
        'adapters-not-upward: src/redis/store.ts -> src/projector/batch.ts',
        'pure-core-no-io: projections/rules.ts -> fs',
        'pure-core-no-shell: projections/derive.ts -> src/redis/store.ts',
        'bench-not-test: bench/run.ts -> test/support/helper.ts',
        'no-cycles: src/a.ts -> src/b.ts',
        'ports-are-interfaces: src/ports/state.ts -> src/redis/store.ts',
        'twins-no-io: src/twins/state.ts -> src/redis/store.ts',
        'twins-only-in-tests: src/projector/run.ts -> src/twins/state.ts',
      ]),
    );
  }, 30_000);
});

describe('the pure core reads no clock (eslint)', () => {
  const eslint = new ESLint({ cwd: root });
  const lint = async (file: string, added: string) => {
    const path = join(root, file);
    const [result] = await eslint.lintText(`${readFileSync(path, 'utf8')}\n${added}\n`, { filePath: path });
    return result!.messages.map((m) => m.ruleId);
  };

  it('refuses Date.now, new Date and Math.random in projections/, and allows them in the shell', async () => {
    const probe = 'export const probe = (): number => Date.now() + new Date().getTime() + Math.random();';
    expect(await lint('projections/facts.ts', probe)).toEqual(['no-restricted-properties', 'no-restricted-syntax', 'no-restricted-properties']);
    expect(await lint('src/logger.ts', probe)).toEqual([]);
    // The type-aware linter loads the whole TypeScript program first: seconds on a busy machine.
  }, 60_000);
});

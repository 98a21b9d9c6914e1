/** A tiny flag parser for the bench commands: `--name value` and `--flag`, checked against a spec. */

export interface FlagSpec {
  /** default when the flag is absent; a boolean default makes it a switch */
  default: number | string | boolean;
  help: string;
  /** for numbers: inclusive bounds (the benches are bounded in size and time) */
  min?: number;
  max?: number;
}

export type Flags<S extends Record<string, FlagSpec>> = { [K in keyof S]: S[K]['default'] extends boolean ? boolean : S[K]['default'] extends number ? number : string };

/** Parses argv against the spec; prints usage and exits on `--help` or on a bad flag. */
export function parseFlags<S extends Record<string, FlagSpec>>(command: string, spec: S, argv = process.argv.slice(2)): Flags<S> {
  const out: Record<string, unknown> = Object.fromEntries(Object.entries(spec).map(([k, s]) => [k, s.default]));
  const usage = () =>
    `usage: ${command} ${Object.entries(spec)
      .map(([k, s]) => (typeof s.default === 'boolean' ? `[--${k}]` : `[--${k} <${typeof s.default}>]`))
      .join(' ')}\n${Object.entries(spec)
      .map(([k, s]) => `  --${k.padEnd(14)} ${s.help} (default ${JSON.stringify(s.default)}${s.min !== undefined ? `, ${s.min} to ${s.max}` : ''})`)
      .join('\n')}\n`;
  const fail = (message: string): never => {
    process.stderr.write(`${message}\n${usage()}`);
    process.exit(2);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(usage());
      process.exit(0);
    }
    const [name, inline] = arg.startsWith('--') ? arg.slice(2).split('=', 2) : [undefined, undefined];
    const s = name === undefined ? undefined : spec[name];
    if (name === undefined || s === undefined) fail(`unknown argument: ${arg}`);
    if (typeof s!.default === 'boolean') {
      out[name!] = inline === undefined ? true : inline !== 'false';
      continue;
    }
    const text = inline ?? argv[++i];
    if (text === undefined) fail(`--${name} needs a value`);
    if (typeof s!.default === 'number') {
      const n = Number(text);
      if (text!.trim() === '' || !Number.isFinite(n) || (s!.min !== undefined && n < s!.min) || (s!.max !== undefined && n > s!.max))
        fail(`--${name}: must be a number from ${s!.min} to ${s!.max} (got ${JSON.stringify(text)})`);
      out[name!] = n;
    } else out[name!] = text;
  }
  return out as Flags<S>;
}

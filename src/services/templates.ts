/**
 * The config and POM templates under scripts/services/, filled with `{{name}}` values.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Reads scripts/services/<relativePath>, replaces every `{{key}}`, writes it to `target`. */
export async function renderTemplate(templatesDir: string, relativePath: string, target: string, values: Record<string, string | number>): Promise<void> {
  const text = await readFile(join(templatesDir, relativePath), 'utf8');
  const rendered = text.replace(/\{\{(\w+)\}\}/g, (whole, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`template ${relativePath}: no value for ${whole}`);
    return String(value);
  });
  await writeFile(target, rendered);
}

/**
 * Writes the event JSON Schemas to schemas/json/ (`npm run schemas:export`).
 * Removes generated files of event types that no longer exist, so the folder mirrors the contract.
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateJsonSchemaFiles, JSON_SCHEMA_DIR } from '../schemas/json-schemas.ts';

const dir = join(import.meta.dirname, '..', JSON_SCHEMA_DIR);
const files = generateJsonSchemaFiles();

await mkdir(dir, { recursive: true });
for (const name of await readdir(dir)) {
  if (name.endsWith('.schema.json') && !files.has(name)) await rm(join(dir, name));
}
for (const [name, content] of files) await writeFile(join(dir, name), content);
console.log(`wrote ${files.size} files to ${JSON_SCHEMA_DIR}/`);

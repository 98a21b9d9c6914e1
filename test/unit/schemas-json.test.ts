import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '../../schemas/events.ts';
import { eventJsonSchema, generateJsonSchemaFiles, JSON_SCHEMA_DIR } from '../../schemas/json-schemas.ts';

const dir = join(import.meta.dirname, '..', '..', JSON_SCHEMA_DIR);

describe('JSON Schemas for producers', () => {
  it('the committed files equal what `npm run schemas:export` generates now', () => {
    const generated = generateJsonSchemaFiles();
    expect(readdirSync(dir).sort()).toEqual([...generated.keys()].sort());
    for (const [name, content] of generated) {
      expect(readFileSync(join(dir, name), 'utf8'), `${name} is stale: run npm run schemas:export`).toBe(content);
    }
  });

  it('describes the envelope and the data of each type, with the type fixed', () => {
    for (const type of EVENT_TYPES) {
      const schema = eventJsonSchema(type) as {
        required: string[];
        properties: { type: { const: string }; data: { required: string[] } };
      };
      expect(schema.required).toEqual(['specversion', 'id', 'source', 'type', 'time', 'accountid', 'data']);
      expect(schema.properties.type.const).toBe(type);
      expect(schema.properties.data.required.length).toBeGreaterThan(0);
    }
  });
});

import { describe, expect, it } from 'vitest';
import { newClusterId } from '../../src/services/kafka-server.ts';

describe('newClusterId', () => {
  it('is 16 bytes in URL-safe base64, the form the Kafka storage tool accepts', () => {
    const id = newClusterId();
    expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    expect(Buffer.from(id, 'base64url')).toHaveLength(16);
  });

  it('draws again when the bytes would encode to an id that begins with "-" (read as an option by the tool)', () => {
    // 0xf8 encodes to '-' as the first base64url character; the second draw is taken.
    const draws = [Buffer.alloc(16, 0xf8), Buffer.alloc(16, 0x01)];
    const id = newClusterId(() => draws.shift()!);
    expect(Buffer.alloc(16, 0xf8).toString('base64url').startsWith('-')).toBe(true);
    expect(id).toBe(Buffer.alloc(16, 0x01).toString('base64url'));
    expect(draws).toHaveLength(0);
  });

  it('never begins with "-" over many draws', () => {
    for (let i = 0; i < 5000; i += 1) expect(newClusterId().startsWith('-')).toBe(false);
  });
});

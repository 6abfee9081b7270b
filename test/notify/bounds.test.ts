import { describe, expect, it } from 'vitest';
import { capList, returnedHeaders, RETURNED_HEADER_BYTES } from '../../src/notify/bounds.js';

describe('returnedHeaders', () => {
  it('returns a small header block as it is', () => {
    expect(returnedHeaders('From: a@b\r\nSubject: x\r\n')).toBe('From: a@b\r\nSubject: x');
  });

  it('cuts a large block at a field boundary, never inside a folded field, and says how much it left out', () => {
    const fields = Array.from({ length: 300 }, (_, i) => `X-Filler-${i}: ${'f'.repeat(500)}\r\n ${'g'.repeat(400)}`);
    const block = fields.join('\r\n');
    const out = returnedHeaders(block);
    const kept = out.slice(0, out.indexOf('\r\nX-Casedrop-Headers-Cut:'));
    expect(Buffer.byteLength(kept)).toBeLessThanOrEqual(RETURNED_HEADER_BYTES);
    expect(block.startsWith(kept)).toBe(true);
    expect(kept.endsWith('g'.repeat(400))).toBe(true);
    expect(out).toMatch(new RegExp(`X-Casedrop-Headers-Cut: ${Buffer.byteLength(block) - Buffer.byteLength(kept)} bytes`));
  });

  it('lists at most N and counts the rest', () => {
    expect(capList([1, 2, 3, 4], 2)).toEqual({ shown: [1, 2], rest: 2 });
    expect(capList([1], 2)).toEqual({ shown: [1], rest: 0 });
  });
});

import { describe, expect, it } from 'vitest';
import { BIG_BUFFER_BYTES, release, releaseViewed } from '../src/release.js';

/** Memory is given back when its user is done with it; anything not owned whole is left to the collector. */
describe('release', () => {
  it('frees a buffer that is the whole of its memory: it is empty afterwards', () => {
    const buf = Buffer.allocUnsafeSlow(64 * 1024).fill(7);
    expect(release(buf)).toBe(true);
    expect(buf.byteLength).toBe(0);
    expect(buf.buffer.byteLength).toBe(0);
  });

  it('leaves slices, pooled and small buffers alone (their memory is shared or cheap)', () => {
    const whole = Buffer.alloc(128 * 1024, 1);
    const slice = whole.subarray(1024, 64 * 1024 + 1024);
    expect(release(slice)).toBe(false);
    expect(whole.buffer.byteLength).toBe(128 * 1024);
    expect(slice.byteLength).toBe(64 * 1024);
    const pooled = Buffer.from('a pooled buffer shares its slab');
    expect(release(pooled)).toBe(false);
    expect(pooled.toString()).toBe('a pooled buffer shares its slab');
    const small = Buffer.allocUnsafeSlow(1024).fill(2);
    expect(release(small)).toBe(false);
    expect(small.byteLength).toBe(1024);
  });

  it('honours a caller minimum, and frees a buffer once only', () => {
    const mid = Buffer.alloc(BIG_BUFFER_BYTES - 1);
    expect(release(mid, BIG_BUFFER_BYTES)).toBe(false);
    expect(mid.length).toBe(BIG_BUFFER_BYTES - 1);
    const big = Buffer.alloc(BIG_BUFFER_BYTES);
    expect(release(big, BIG_BUFFER_BYTES)).toBe(true);
    expect(release(big, BIG_BUFFER_BYTES)).toBe(false);
  });
});

describe('releaseViewed', () => {
  it('frees the memory big views share, once each, and leaves small (pooled) memory alone', () => {
    const message = Buffer.alloc(2 * BIG_BUFFER_BYTES, 3);
    const a = message.subarray(10, 20);
    const b = message.subarray(BIG_BUFFER_BYTES);
    const pooled = Buffer.from('hello');
    expect(releaseViewed([a, b, pooled])).toBe(1);
    expect(message.buffer.byteLength).toBe(0);
    expect(pooled.toString()).toBe('hello');
  });
});

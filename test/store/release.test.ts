import { describe, expect, it } from 'vitest';
import { release } from '../../src/store/release.js';

describe('release', () => {
  it('frees a large buffer that is the whole of its ArrayBuffer: it is empty afterwards', () => {
    const buf = Buffer.allocUnsafeSlow(64 * 1024).fill(7);
    release(buf);
    expect(buf.buffer.byteLength).toBe(0);
    expect(buf.byteLength).toBe(0);
  });

  it('leaves slices, pooled and small buffers alone (their memory is shared or cheap)', () => {
    const whole = Buffer.alloc(128 * 1024, 1);
    const slice = whole.subarray(1024, 64 * 1024 + 1024);
    release(slice);
    expect(whole.buffer.byteLength).toBe(128 * 1024);
    expect(slice.byteLength).toBe(64 * 1024);
    const pooled = Buffer.from('a pooled buffer shares its slab');
    release(pooled);
    expect(pooled.toString()).toBe('a pooled buffer shares its slab');
    const small = Buffer.allocUnsafeSlow(1024).fill(2);
    release(small);
    expect(small.byteLength).toBe(1024);
  });
});

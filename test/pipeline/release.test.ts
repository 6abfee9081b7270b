import { describe, expect, it } from 'vitest';
import { RELEASE_MIN_BYTES, releaseBuffer, releaseViewed } from '../../src/pipeline/release.js';

/**
 * A big attachment's memory is given back when the job is done with it, not at a later garbage
 * collection; anything the buffer does not own alone is left to the collector.
 */
describe('releaseBuffer', () => {
  it('frees a big buffer that owns its memory: it is empty afterwards', () => {
    const big = Buffer.alloc(RELEASE_MIN_BYTES, 1);
    expect(releaseBuffer(big)).toBe(true);
    expect(big.length).toBe(0);
    expect(big.buffer.byteLength).toBe(0);
  });

  it('leaves views of a larger buffer, small buffers and pooled ones alone', () => {
    const whole = Buffer.alloc(2 * RELEASE_MIN_BYTES, 2);
    const view = whole.subarray(1, RELEASE_MIN_BYTES + 1);
    expect(releaseBuffer(view)).toBe(false);
    expect(view.length).toBe(RELEASE_MIN_BYTES);
    const pooled = Buffer.from('hello');
    expect(releaseBuffer(pooled)).toBe(false);
    expect(pooled.toString()).toBe('hello');
    expect(releaseBuffer(Buffer.alloc(RELEASE_MIN_BYTES - 1))).toBe(false);
  });

  it('frees a buffer once only', () => {
    const big = Buffer.alloc(RELEASE_MIN_BYTES);
    expect(releaseBuffer(big)).toBe(true);
    expect(releaseBuffer(big)).toBe(false);
  });
});

describe('releaseViewed', () => {
  it('frees the memory big views share, once each, and leaves small (pooled) memory alone', () => {
    const message = Buffer.alloc(2 * RELEASE_MIN_BYTES, 3);
    const a = message.subarray(10, 20);
    const b = message.subarray(RELEASE_MIN_BYTES);
    const pooled = Buffer.from('hello');
    expect(releaseViewed([a, b, pooled])).toBe(1);
    expect(message.buffer.byteLength).toBe(0);
    expect(pooled.toString()).toBe('hello');
  });
});

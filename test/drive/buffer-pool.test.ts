import { describe, expect, it } from 'vitest';
import { BufferPool } from '../../src/drive/buffer-pool.js';

describe('BufferPool', () => {
  it('lends a buffer given back again, views included', () => {
    const pool = new BufferPool(1024, 4);
    const a = pool.take(100);
    expect(a.length).toBe(100);
    pool.give(a.subarray(10, 20));
    const b = pool.take(200);
    expect(b.buffer).toBe(a.buffer);
    expect(b.length).toBe(200);
  });

  it('ignores buffers it did not lend, and a second give of the same taking', () => {
    const pool = new BufferPool(1024, 4);
    pool.give(Buffer.alloc(1024));
    const a = pool.take(10);
    pool.give(a);
    pool.give(a);
    const b = pool.take(10);
    const c = pool.take(10);
    expect(b.buffer).toBe(a.buffer);
    expect(c.buffer).not.toBe(a.buffer);
  });

  it('gives a longer request a buffer of its own, never lent again', () => {
    const pool = new BufferPool(1024, 4);
    const big = pool.take(2048);
    expect(big.length).toBe(2048);
    pool.give(big);
    expect(pool.take(1).buffer).not.toBe(big.buffer);
  });

  it('keeps at most `keep` free buffers', () => {
    const pool = new BufferPool(1024, 1);
    const [x, y] = [pool.take(1), pool.take(1)];
    pool.give(x);
    pool.give(y);
    expect(pool.take(1).buffer).toBe(x.buffer);
    expect([x.buffer, y.buffer]).not.toContain(pool.take(1).buffer);
  });

  it('does not lend again a buffer that was detached meanwhile', () => {
    const pool = new BufferPool(1024, 4);
    const a = pool.take(10);
    const { port1 } = new MessageChannel();
    port1.postMessage(null, [a.buffer]);
    port1.close();
    pool.give(a);
    expect(pool.take(10).length).toBe(10);
  });
});

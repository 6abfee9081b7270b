import { describe, expect, it } from 'vitest';
import { ChunkQueue } from '../../src/drive/chunk-queue.js';

describe('ChunkQueue (an upload segment on its way to the store)', () => {
  it('hands over each chunk as pushed, never a concatenation of several', async () => {
    const queue = new ChunkQueue(1 << 20);
    const pushed = [Buffer.from('one'), Buffer.from('two'), Buffer.from('three')];
    for (const chunk of pushed) expect(queue.push(chunk)).toBeUndefined();
    queue.end();
    const read: Buffer[] = [];
    for await (const chunk of queue) read.push(chunk);
    expect(read.length).toBe(3);
    read.forEach((chunk, i) => expect(chunk).toBe(pushed[i]));
  });

  it('gives a chunk back only when the reader asks for the next one', async () => {
    const released: string[] = [];
    const queue = new ChunkQueue(1 << 20, (chunk) => released.push(chunk.toString()));
    void queue.push(Buffer.from('a'));
    void queue.push(Buffer.from('b'));
    queue.end();
    const it = queue[Symbol.asyncIterator]();
    expect((await it.next()).value?.toString()).toBe('a');
    expect(released).toEqual([]);
    expect((await it.next()).value?.toString()).toBe('b');
    expect(released).toEqual(['a']);
    expect((await it.next()).done).toBe(true);
    expect(released).toEqual(['a', 'b']);
  });

  it('makes the producer wait once maxBytes are queued, until the reader took enough', async () => {
    const queue = new ChunkQueue(8);
    expect(queue.push(Buffer.alloc(4))).toBeUndefined();
    const full = queue.push(Buffer.alloc(4));
    expect(full).toBeInstanceOf(Promise);
    let room = false;
    void full!.then(() => (room = true));
    const it = queue[Symbol.asyncIterator]();
    await it.next(); // held by the reader: still counted
    await Promise.resolve();
    expect(room).toBe(false);
    await it.next(); // the first is done
    await full;
    expect(room).toBe(true);
  });

  it('lets a waiting producer go and refuses more once the reader stopped (the store failed)', async () => {
    const queue = new ChunkQueue(4);
    const full = queue.push(Buffer.alloc(4));
    const it = queue[Symbol.asyncIterator]();
    await it.next();
    await it.return!();
    await full;
    expect(() => queue.push(Buffer.alloc(1))).toThrow(/stopped/);
  });

  it('a reader waiting for data wakes on push and on end', async () => {
    const queue = new ChunkQueue(1 << 20);
    const it = queue[Symbol.asyncIterator]();
    const first = it.next();
    void queue.push(Buffer.from('x'));
    expect((await first).value?.toString()).toBe('x');
    const second = it.next();
    queue.end();
    expect((await second).done).toBe(true);
  });
});

import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineEndingGuard, type LineEndingMode } from '../../src/smtp/line-endings.js';

async function run(mode: LineEndingMode, chunks: Buffer[]): Promise<{ out: Buffer; guard: LineEndingGuard }> {
  const guard = new LineEndingGuard(mode);
  const parts: Buffer[] = [];
  await pipeline(Readable.from(chunks, { objectMode: false }), guard, async (source: AsyncIterable<Buffer>) => {
    for await (const c of source) parts.push(c);
  });
  return { out: Buffer.concat(parts), guard };
}

// The reference, on the whole input at once: a regex over latin1 text (one char per byte).
const latin1 = (b: Buffer) => b.toString('latin1');
const referenceHasBare = (b: Buffer) => /\r(?!\n)|(?<!\r)\n/.test(latin1(b));
const referenceNormalize = (b: Buffer) => Buffer.from(latin1(b).replace(/\r\n|\r|\n/g, '\r\n'), 'latin1');
const referenceCount = (b: Buffer) => (latin1(b).match(/\r(?!\n)|(?<!\r)\n/g) ?? []).length;

function split(data: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const p of points) {
    chunks.push(data.subarray(start, p));
    start = p;
  }
  chunks.push(data.subarray(start));
  return chunks.filter((c) => c.length > 0);
}

const b = (s: string) => Buffer.from(s, 'latin1');

describe('LineEndingGuard', () => {
  it.each<[string, string[], boolean, string]>([
    ['CRLF only', ['a\r\nb\r\n'], false, 'a\r\nb\r\n'],
    ['CRLF split across chunks', ['a\r', '\nb\r', '\n'], false, 'a\r\nb\r\n'],
    ['bare LF', ['a\nb\r\n'], true, 'a\r\nb\r\n'],
    ['bare CR', ['a\rb\r\n'], true, 'a\r\nb\r\n'],
    ['bare CR at a chunk end', ['a\r', 'b'], true, 'a\r\nb'],
    ['bare LF at a chunk start', ['a', '\nb'], true, 'a\r\nb'],
    ['CR at the very end', ['a\r\nb\r'], true, 'a\r\nb\r\n'],
    ['LF at the very start', ['\na'], true, '\r\na'],
    ['smuggling: <LF>.<LF>', ['a\r\n\n.\nMAIL FROM:<x>\r\n'], true, 'a\r\n\r\n.\r\nMAIL FROM:<x>\r\n'],
    ['smuggling: <LF>.<CRLF>', ['a\n.\r\n'], true, 'a\r\n.\r\n'],
    ['CR CR LF', ['\r\r\n'], true, '\r\n\r\n'],
    ['LF CR', ['\n\r'], true, '\r\n\r\n'],
    ['empty', [], false, ''],
  ])('%s', async (_name, input, bare, normalized) => {
    const chunks = input.map(b);
    const rejected = await run('reject', chunks);
    expect(rejected.out).toEqual(Buffer.concat(chunks));
    expect(rejected.guard.found).toBe(bare);
    const fixed = await run('normalize', chunks);
    expect(latin1(fixed.out)).toBe(normalized);
    expect(fixed.guard.found).toBe(bare);
  });

  const data = fc.array(fc.constantFrom(0x0d, 0x0a, 0x61, 0x2e, 0x00, 0xff), { maxLength: 200 }).map((a) => Buffer.from(a));
  const cuts = fc.array(fc.nat(), { maxLength: 20 });

  it('reject: passes bytes through unchanged and finds bare endings whatever the chunking (property)', async () => {
    await fc.assert(
      fc.asyncProperty(data, cuts, async (input, c) => {
        const { out, guard } = await run('reject', split(input, c));
        expect(out).toEqual(input);
        expect(guard.found).toBe(referenceHasBare(input));
      }),
    );
  });

  it('normalize: output is the whole-input rewrite whatever the chunking, has no bare endings, and is idempotent (property)', async () => {
    await fc.assert(
      fc.asyncProperty(data, cuts, cuts, async (input, c1, c2) => {
        const { out, guard } = await run('normalize', split(input, c1));
        expect(out).toEqual(referenceNormalize(input));
        expect(guard.found).toBe(referenceHasBare(input));
        expect(guard.count).toBe(referenceCount(input));
        expect(referenceHasBare(out)).toBe(false);
        expect((await run('normalize', split(out, c2))).out).toEqual(out);
      }),
    );
  });

  it('keeps memory constant: 64 MiB through in 64 KiB chunks', async () => {
    const chunk = Buffer.alloc(65536, 'abc\r\n');
    const before = process.memoryUsage().arrayBuffers;
    let total = 0;
    const guard = new LineEndingGuard('normalize');
    await pipeline(
      Readable.from(
        (function* () {
          for (let i = 0; i < 1024; i++) yield chunk;
        })(),
      ),
      guard,
      async (source: AsyncIterable<Buffer>) => {
        for await (const c of source) total += c.length;
      },
    );
    expect(total).toBe(64 * 1024 * 1024);
    expect(guard.found).toBe(false);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
  });
});

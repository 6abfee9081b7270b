import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HeaderReader, parseHeaders, type ParsedHeaders } from '../../src/smtp/headers.js';
import { findCaseNumber } from '../../src/smtp/subject.js';

interface Result {
  out: Buffer;
  headers?: ParsedHeaders;
  tooBig?: number;
  events: number;
}

async function read(chunks: Buffer[], maxBytes = 1024): Promise<Result> {
  const reader = new HeaderReader(maxBytes);
  const result: Result = { out: Buffer.alloc(0), events: 0 };
  reader.on('headers', (h: ParsedHeaders) => {
    result.headers = h;
    result.events += 1;
  });
  reader.on('headersTooBig', (n: number) => {
    result.tooBig = n;
    result.events += 1;
  });
  const parts: Buffer[] = [];
  await pipeline(Readable.from(chunks), reader, async (source: AsyncIterable<Buffer>) => {
    for await (const c of source) parts.push(c);
  });
  result.out = Buffer.concat(parts);
  return result;
}

const b = (s: string) => Buffer.from(s, 'utf8');

const message = [
  'Received: from a by b; Tue, 2 Jan 2024 10:00:00 +0000',
  'Received: from c by d; Tue, 2 Jan 2024 09:00:00 +0000',
  'From: Customer <customer@example.com>',
  'SUBJECT: =?utf-8?q?Pr=C3=BCfung?=',
  ' Case 612345678',
  'Auto-Submitted: no',
  'X-Long: one',
  '\ttwo',
  '',
  'body line',
  'Subject: not a header, in the body',
  '',
].join('\r\n');

describe('HeaderReader', () => {
  it('passes every byte through and parses the block: unfolded, first occurrence, names case-insensitive', async () => {
    const r = await read([b(message)]);
    expect(r.out.toString()).toBe(message);
    expect(r.events).toBe(1);
    expect(r.headers!.get('subject')).toBe('=?utf-8?q?Pr=C3=BCfung?= Case 612345678');
    expect(r.headers!.get('Subject')).toBe(r.headers!.get('SUBJECT'));
    expect(r.headers!.get('received')).toBe('from a by b; Tue, 2 Jan 2024 10:00:00 +0000');
    expect(r.headers!.getAll('Received')).toHaveLength(2);
    expect(r.headers!.get('x-long')).toBe('one two');
    expect(r.headers!.get('auto-submitted')).toBe('no');
    expect(r.headers!.get('missing')).toBeUndefined();
    expect(r.headers!.raw).toBe(message.slice(0, message.indexOf('\r\n\r\n') + 2));
  });

  it('hands the raw Subject to findCaseNumber, which decodes it', async () => {
    const r = await read([b(message)]);
    expect(findCaseNumber(r.headers!.get('subject'), { digits: 9, prefixes: ['Case'] })).toEqual({ kind: 'found', caseNumber: '612345678' });
  });

  it.each<[string, string, string | undefined]>([
    ['CRLF CRLF', 'Subject: a\r\n\r\nSubject: b', 'a'],
    ['LF LF', 'Subject: a\n\nSubject: b', 'a'],
    ['CRLF LF', 'Subject: a\r\n\nSubject: b', 'a'],
    ['LF CRLF', 'Subject: a\n\r\nSubject: b', 'a'],
    ['no body separator: headers end with the stream', 'Subject: a\r\nFrom: x@y', 'a'],
    ['no line ending at all', 'Subject: a', 'a'],
    ['empty message', '', undefined],
    ['body only (starts with an empty line)', '\r\nSubject: b', undefined],
    ['a body line starting with a space is not folded in', 'Subject: a\r\n\r\n continued', 'a'],
    ['a bare CR does not end a line or the block', 'Subject: a\r\rb\r\nFrom: x\r\n\r\nX', 'a  b'],
  ])('%s', async (_name, text, subject) => {
    const r = await read([b(text)]);
    expect(r.events).toBe(1);
    expect(r.headers).toBeDefined();
    expect(r.headers!.get('subject')).toBe(subject);
    expect(r.out.toString()).toBe(text);
  });

  it('ignores lines that are not fields (an mbox From line, junk)', () => {
    const h = parseHeaders('From sender@example.com Tue Jan  2 10:00:00 2024\r\nno colon here\r\nSubject: s\r\n');
    expect(h.get('subject')).toBe('s');
    expect(h.get('from sender@example.com tue jan  2 10')).toBeUndefined();
  });

  it('does not resolve header names to Object.prototype members', () => {
    const h = parseHeaders('Subject: s\r\n');
    expect(h.get('constructor')).toBeUndefined();
    expect(h.get('__proto__')).toBeUndefined();
    expect(parseHeaders('__proto__: x\r\n').get('__proto__')).toBe('x');
  });

  it('keeps 8-bit UTF-8 headers (SMTPUTF8 senders)', async () => {
    const r = await read([b('Subject: Prüfung Case 612345678\r\n\r\n')]);
    expect(r.headers!.get('subject')).toBe('Prüfung Case 612345678');
  });

  describe('the size limit', () => {
    const block = (n: number) => `X: ${'a'.repeat(n - 'X: '.length - 2)}\r\n`; // a header block of exactly n bytes

    it('takes a block of exactly maxBytes, refuses maxBytes + 1', async () => {
      expect(block(100)).toHaveLength(100);
      const ok = await read([b(`${block(100)}\r\nbody`)], 100);
      expect(ok.headers).toBeDefined();
      expect(ok.tooBig).toBeUndefined();
      const over = await read([b(`${block(101)}\r\nbody`)], 100);
      expect(over.headers).toBeUndefined();
      expect(over.tooBig).toBe(101);
      expect(over.out.toString()).toBe(`${block(101)}\r\nbody`); // bytes still pass through
    });

    it('applies to a message with no body separator too', async () => {
      expect((await read([b(block(100))], 100)).headers).toBeDefined();
      expect((await read([b(block(101))], 100)).tooBig).toBe(101);
    });

    it('says so before the stream ends, without holding the rest of the message', async () => {
      const reader = new HeaderReader(1000);
      let told = false;
      reader.on('headersTooBig', () => {
        told = true;
      });
      reader.resume();
      for (let i = 0; i < 20; i++) reader.write(b(`X-${i}: ${'a'.repeat(95)}\r\n`));
      expect(told).toBe(true);
      expect(reader.tooBig).toBe(true);
      expect((reader as unknown as { held: Buffer[] }).held).toHaveLength(0);
      reader.end();
    });
  });

  it('finds the same headers whatever the chunking, and passes bytes through (property)', async () => {
    const text = b(message);
    const whole = await read([text]);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: text.length }), { maxLength: 30 }), async (cuts) => {
        const points = [...new Set([0, ...cuts, text.length])].sort((x, y) => x - y);
        const chunks = points
          .slice(1)
          .map((p, i) => text.subarray(points[i]!, p))
          .filter((c) => c.length > 0);
        const r = await read(chunks);
        expect(r.out).toEqual(text);
        expect(r.events).toBe(1);
        expect(r.headers!.raw).toBe(whole.headers!.raw);
      }),
    );
  });

  it('decides the size limit the same way whatever the chunking (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 10, max: 200 }), fc.integer({ min: 1, max: 50 }), fc.boolean(), async (size, chunkSize, lf) => {
        const eol = lf ? '\n' : '\r\n';
        const text = b(`X: ${'a'.repeat(size)}${eol}${eol}body`);
        const headerBytes = 3 + size + eol.length;
        const chunks: Buffer[] = [];
        for (let i = 0; i < text.length; i += chunkSize) chunks.push(text.subarray(i, i + chunkSize));
        const r = await read(chunks, 100);
        expect(r.events).toBe(1);
        expect(r.tooBig !== undefined).toBe(headerBytes > 100);
      }),
    );
  });
});

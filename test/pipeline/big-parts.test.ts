import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { decodeLifted, liftBigParts } from '../../src/pipeline/big-parts.js';
import { parseMessage } from '../../src/pipeline/parse.js';

/**
 * Big base64 bodies are decoded natively before mailparser sees the message (big-parts.ts). The
 * files that come out must be byte for byte what mailparser alone gives, whatever the line ends,
 * nesting or oddities; and where the fast path is unsure, mailparser reads the message as it is.
 */
const BIG = 300 * 1024;

function lines(data: Buffer, eol: string, width = 76): string {
  return (data.toString('base64').match(new RegExp(`.{1,${width}}`, 'g')) ?? []).join(eol);
}

function message(parts: { type: string; name?: string; body: string }[], eol = '\r\n', boundary = 'b-1'): Buffer {
  const head = ['From: a@example.com', 'Subject: Case 612345678', 'MIME-Version: 1.0', `Content-Type: multipart/mixed; boundary="${boundary}"`, '', 'preamble'];
  const out = [...head];
  for (const p of parts) {
    out.push(`--${boundary}`, `Content-Type: ${p.type}`);
    if (p.name) out.push(`Content-Disposition: attachment; filename="${p.name}"`, 'Content-Transfer-Encoding: base64');
    out.push('', p.body);
  }
  out.push(`--${boundary}--`, '');
  return Buffer.from(out.join(eol), 'latin1');
}

const text = { type: 'text/plain; charset=utf-8', body: 'see attached' };

describe('big base64 parts', () => {
  it('are decoded outside mailparser: the skeleton it reads is small', () => {
    const data = randomBytes(BIG);
    const lifted = liftBigParts(message([text, { type: 'application/zip', name: 'a.zip', body: lines(data, '\r\n') }]), 64 * 1024);
    expect(lifted).toBeDefined();
    expect(lifted!.skeleton.length).toBeLessThan(2000);
    expect([...lifted!.bodies.keys()].map((token) => decodeLifted(lifted!, token, false))).toEqual([data]);
  });

  it('decode over the message own base64 lines when asked: the file is a view of the message, no copy', () => {
    const data = randomBytes(BIG + 2);
    const raw = message([text, { type: 'application/zip', name: 'a.zip', body: lines(data, '\r\n') }]);
    const lifted = liftBigParts(raw, 64 * 1024)!;
    const [token] = [...lifted.bodies.keys()];
    const body = decodeLifted(lifted, token!, true);
    expect(body.equals(data)).toBe(true);
    expect(body.buffer).toBe(raw.buffer);
    expect(body.byteOffset).toBe(raw.byteOffset + lifted.bodies.get(token!)!.start);
  });

  it('a message read from a stream gives its big files as views of the one buffer it was read into', async () => {
    const data = randomBytes(BIG);
    const raw = message([text, { type: 'application/zip', name: 'a.zip', body: lines(data, '\r\n') }]);
    const held: Buffer[] = [];
    const parsed = await parseMessage(Readable.from([raw.subarray(0, 1000), raw.subarray(1000)]), { size: raw.length, held });
    expect(parsed.attachments[0]!.content.equals(data)).toBe(true);
    expect(parsed.attachments[0]!.content.buffer).toBe(held[0]!.buffer);
    // chunks the parser may free (the store's own decryptions) are freed once copied, the message intact
    const owned = [raw.subarray(0, 64 * 1024), raw.subarray(64 * 1024)].map((c) => Buffer.from(c));
    const freed = await parseMessage(Readable.from(owned), { size: raw.length, freeChunks: true });
    expect(freed.attachments[0]!.content.equals(data)).toBe(true);
    expect(owned.map((c) => c.length)).toEqual([0, 0]);
    // a caller's buffer is left as it was
    await parseMessage(raw);
    expect(raw.equals(message([text, { type: 'application/zip', name: 'a.zip', body: lines(data, '\r\n') }]))).toBe(true);
  });

  it.each([
    ['CRLF', '\r\n'],
    ['LF', '\n'],
  ])('give the same bytes and names as before (%s line ends, two files, padding)', async (_name, eol) => {
    const a = randomBytes(BIG + 1);
    const b = randomBytes(BIG + 2);
    const raw = message(
      [text, { type: 'application/zip', name: 'a.zip', body: lines(a, eol) }, { type: 'application/x-7z-compressed', name: 'b.7z', body: lines(b, eol, 64) }],
      eol,
    );
    expect(liftBigParts(raw, 64 * 1024)?.bodies.size).toBe(2);
    const parsed = await parseMessage(raw);
    expect(parsed.text.trim()).toBe('see attached');
    expect(parsed.attachments.map((f) => [f.filename, f.partPath, f.content.equals(f.filename === 'a.zip' ? a : b)])).toEqual([
      ['a.zip', '2', true],
      ['b.7z', '3', true],
    ]);
  });

  it('inside nested multiparts and as a message of one part', async () => {
    const data = randomBytes(BIG);
    const inner = message([{ type: 'application/zip', name: 'deep.zip', body: lines(data, '\r\n') }], '\r\n', 'inner');
    const nested = message([text, { type: 'multipart/mixed; boundary="inner"', body: inner.toString('latin1').split('\r\n\r\n').slice(1).join('\r\n\r\n') }]);
    const parsed = await parseMessage(nested);
    expect(parsed.attachments.map((f) => f.filename)).toEqual(['deep.zip']);
    expect(parsed.attachments[0]!.content.equals(data)).toBe(true);

    const single = Buffer.from(
      ['Subject: x', 'Content-Type: application/zip; name="one.zip"', 'Content-Transfer-Encoding: base64', '', lines(data, '\r\n'), ''].join('\r\n'),
    );
    expect(liftBigParts(single, 64 * 1024)?.bodies.size).toBe(1);
    const one = await parseMessage(single);
    expect(one.attachments.map((f) => [f.filename, f.content.equals(data)])).toEqual([['one.zip', true]]);
  });

  it('are left to mailparser when not canonical base64, and still come out right', async () => {
    const data = randomBytes(BIG);
    const spaced = lines(data, ' \r\n');
    const raw = message([text, { type: 'application/zip', name: 'a.zip', body: spaced }]);
    expect(liftBigParts(raw, 64 * 1024)).toBeUndefined();
    expect((await parseMessage(raw)).attachments[0]!.content.equals(data)).toBe(true);

    const padded = lines(randomBytes(BIG + 1), '\r\n');
    const midPad = message([text, { type: 'application/zip', name: 'p.zip', body: `${padded}\r\n${padded}` }]);
    expect(liftBigParts(midPad, 64 * 1024)).toBeUndefined();
  });

  it('are not lifted from text parts, whose bytes mailparser turns into the note', async () => {
    const note = Buffer.from('hello '.repeat(BIG / 6));
    const raw = message([{ type: 'text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64', body: lines(note, '\r\n') }]);
    expect(liftBigParts(raw, 64 * 1024)).toBeUndefined();
    expect((await parseMessage(raw)).text.trim()).toBe(note.toString().trim());
  });
});

import { readFileSync, createReadStream } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../src/pipeline/parse.js';

const DIR = join(import.meta.dirname, '../../fixtures/mail');
interface Sample {
  file: string;
  attachments: string[];
  ignored: string[];
  note: string;
}
const manifest = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as { samples: Sample[] };

describe('parseMessage on the committed samples', () => {
  for (const sample of manifest.samples) {
    it(`${sample.file}: ${sample.note}`, async () => {
      const parsed = await parseMessage(createReadStream(join(DIR, sample.file)));
      const names = parsed.attachments.map((a) => a.filename);
      expect(names.sort()).toEqual([...sample.attachments].sort());
      for (const ignored of sample.ignored) expect(names).not.toContain(ignored);
      expect(parsed.attachments.every((a) => a.content.length > 0)).toBe(true);
    });
  }

  it('keeps Unicode names decoded from RFC 2231 and from encoded-words', async () => {
    const a = await parseMessage(readFileSync(join(DIR, 'rfc2231-name.eml')));
    expect(a.attachments[0]?.filename).toBe('Résumé 日本語 ログ.7z');
    const b = await parseMessage(readFileSync(join(DIR, 'encoded-word-name.eml')));
    expect(b.attachments[0]?.filename).toBe('Données ünïcödé.7z');
  });

  it('descends into a forwarded message and gives its files a path under the forwarded part', async () => {
    const parsed = await parseMessage(readFileSync(join(DIR, 'forwarded.eml')));
    const inner = parsed.attachments.find((a) => a.filename === 'forwarded.7z');
    expect(inner?.partPath).toMatch(/^\d+\/\d+$/);
    expect(inner?.content.subarray(0, 6).toString('hex')).toBe('377abcaf271c');
  });

  it('stops descending at the depth bound and hands the deepest message over as a too-deep part', async () => {
    const parsed = await parseMessage(readFileSync(join(DIR, 'forwarded.eml')), { maxDepth: 0 });
    expect(parsed.attachments.map((a) => a.kind).sort()).toEqual(['attachment', 'too-deep']);
  });

  it('marks winmail.dat as TNEF', async () => {
    const parsed = await parseMessage(readFileSync(join(DIR, 'winmail.eml')));
    expect(parsed.attachments[0]?.kind).toBe('tnef');
  });

  it('gives part paths that are the same on every parse (attachment ids derive from them)', async () => {
    const raw = readFileSync(join(DIR, 'verdicts.eml'));
    const first = (await parseMessage(raw)).attachments.map((a) => a.partPath);
    const second = (await parseMessage(raw)).attachments.map((a) => a.partPath);
    expect(first).toEqual(second);
    expect(new Set(first).size).toBe(first.length);
  });

  it('returns the text body, the header block and the Message-ID', async () => {
    const parsed = await parseMessage(readFileSync(join(DIR, 'no-attachment.eml')));
    expect(parsed.text).toContain('Serial 12345');
    expect(parsed.headers).toMatch(/^From: customer@example.com/m);
    expect(parsed.messageId).toMatch(/@samples.casedrop.test>$/);
  });
});

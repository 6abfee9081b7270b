import { describe, expect, it } from 'vitest';
import { classifyPart, looksLikeTnef, referencedCids } from '../../src/pipeline/attachments.js';

const none = new Set<string>();

describe('classifyPart', () => {
  it('counts parts with Content-Disposition: attachment or a filename', () => {
    expect(classifyPart({ contentType: 'application/octet-stream', disposition: 'attachment' }, none)).toBe('attachment');
    expect(classifyPart({ contentType: 'application/zip', disposition: 'inline', filename: 'a.zip' }, none)).toBe('attachment');
  });
  it('ignores an inline image only when the HTML references its cid', () => {
    const img = { contentType: 'image/png', disposition: 'inline', filename: 'logo.png', cid: 'Logo@Sig' };
    expect(classifyPart(img, referencedCids('<img src="cid:logo%40sig">'))).toBe('ignored');
    expect(classifyPart(img, none)).toBe('attachment');
  });
  it('ignores S/MIME and PGP signatures, descends into forwarded messages, spots TNEF', () => {
    expect(classifyPart({ contentType: 'application/pkcs7-signature', filename: 'smime.p7s' }, none)).toBe('ignored');
    expect(classifyPart({ contentType: 'application/pgp-signature', filename: 'signature.asc' }, none)).toBe('ignored');
    expect(classifyPart({ contentType: 'message/rfc822' }, none)).toBe('forwarded-message');
    expect(classifyPart({ contentType: 'application/octet-stream', filename: 'WINMAIL.DAT' }, none)).toBe('tnef');
  });
  it('ignores unnamed inline parts', () => {
    expect(classifyPart({ contentType: 'application/octet-stream', disposition: 'inline' }, none)).toBe('ignored');
  });
  it('recognises the TNEF signature', () => {
    expect(looksLikeTnef(Uint8Array.from([0x78, 0x9f, 0x3e, 0x22]))).toBe(true);
    expect(looksLikeTnef(Uint8Array.from([0x50, 0x4b, 3, 4]))).toBe(false);
  });
});

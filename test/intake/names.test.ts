import { describe, expect, it } from 'vitest';
import { checkUploadName } from '../../src/intake/names.js';

describe('checkUploadName: the email sanitiser decides, an upload is refused instead of renamed', () => {
  it('takes ordinary names, NFC-normalised', () => {
    expect(checkUploadName('core.12345.7z')).toEqual({ ok: true, name: 'core.12345.7z' });
    expect(checkUploadName('Re\u0301sume\u0301 logs.zip')).toEqual({ ok: true, name: 'Résumé logs.zip' });
  });

  it.each([
    ['../etc/passwd'],
    ['a/b.zip'],
    ['a\\b.zip'],
    ['bell\u0007.zip'],
    ['new\nline.zip'],
    ['.hidden'],
    ['..'],
    [''],
    ['gpj\u202e.exe'],
    ['x'.repeat(201)],
    ['é'.repeat(600)],
  ])('refuses %j with the rule', (name) => {
    const result = checkUploadName(name);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.why).toMatch(/one path segment of at most 200 bytes/);
      // eslint-disable-next-line no-control-regex
      expect(result.why).not.toMatch(/[\u0000-\u001f\u202e]/);
    }
  });
});

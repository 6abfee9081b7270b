import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { duplicateParts, MAX_STORED_NAME_BYTES, sanitizeFilename } from '../../src/pipeline/filenames.js';

describe('sanitizeFilename', () => {
  it('keeps Unicode names as they are', () => {
    expect(sanitizeFilename('Résumé 日本語 ログ.7z')).toBe('Résumé 日本語 ログ.7z');
  });
  it('removes path separators, traversal and control characters', () => {
    expect(sanitizeFilename('../../etc/pass\twd.7z')).toBe('etc_pass_wd.7z');
    expect(sanitizeFilename('C:\\Windows\\x.zip')).toBe('C__Windows_x.zip');
    expect(sanitizeFilename('a\u202egpj.exe')).toBe('a_gpj.exe');
  });
  it('gives a name to parts that have none or only dots', () => {
    expect(sanitizeFilename(undefined)).toBe('attachment');
    expect(sanitizeFilename('..')).toBe('attachment');
    expect(sanitizeFilename('/')).toBe('attachment');
  });
  it('caps the length in bytes, keeping the extension and whole characters', () => {
    const name = sanitizeFilename(`${'日'.repeat(300)}.7z`);
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(MAX_STORED_NAME_BYTES);
    expect(name.endsWith('.7z')).toBe(true);
    expect(name).not.toContain('\ufffd');
  });
  it('never returns a separator, a control character, a leading dot or an over-long name (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (s) => {
        const name = sanitizeFilename(s);
        // eslint-disable-next-line no-control-regex -- asserts that no control character is left
        expect(name).not.toMatch(/[/\\\u0000-\u001f\u007f]/);
        expect(name.startsWith('.')).toBe(false);
        expect(name.length).toBeGreaterThan(0);
        expect(Buffer.byteLength(name)).toBeLessThanOrEqual(MAX_STORED_NAME_BYTES);
      }),
    );
  });
});

describe('duplicateParts', () => {
  it('puts the number before the extension, and after the whole name when there is none', () => {
    expect(duplicateParts('logs.tar.7z')).toEqual({ stem: 'logs.tar', ext: '.7z' });
    expect(duplicateParts('README')).toEqual({ stem: 'README', ext: '' });
    expect(duplicateParts('.hidden')).toEqual({ stem: '.hidden', ext: '' });
  });
});

describe('sanitizeFilename: safe in a shell and on any file system (issue 10)', () => {
  it.each([
    ['$(reboot).7z', 'reboot_.7z'],
    ['`id`.zip', 'id_.zip'],
    ['a\'b"c;d&e|f.zip', 'a_b_c_d_e_f.zip'],
    ['-rf.zip', 'rf.zip'],
    ['--help', 'help'],
    ['.bashrc', 'bashrc'],
    ['logs\u200b.7z', 'logs.7z'],
    ['a\u2215b\uff0fc\u2044d.zip', 'a_b_c_d.zip'],
    ['CON', '_CON'],
    ['con.txt', '_con.txt'],
    ['LPT1.zip', '_LPT1.zip'],
    ['console.zip', 'console.zip'],
    ['name. . ', 'name'],
    ['e\u0301.zip', '\u00e9.zip'],
  ])('%j → %j', (input, expected) => {
    expect(sanitizeFilename(input)).toBe(expected);
  });

  it('never returns a shell metacharacter, an invisible character or a leading dash (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 100 }), (s) => {
        const name = sanitizeFilename(s);
        expect(name).not.toMatch(/[$`'"&;|<>(){}[\]*?!#~\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/);
        expect(name).not.toMatch(/^[-.]/);
        expect(name).toBe(name.normalize('NFC'));
      }),
    );
  });
});

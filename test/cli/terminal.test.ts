import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { createContext } from '../../src/cli/context.js';
import { terminalText } from '../../src/cli/terminal.js';

describe('terminalText', () => {
  it.each([
    ['OSC 52 clipboard write', '\u001b]52;c;ZWNobyBwd25lZA==\u0007', '\\u{1b}]52;c;ZWNobyBwd25lZA==\\u{7}'],
    ['screen clear', '\u001b[2J', '\\u{1b}[2J'],
    ['C1 CSI', '\u009b2J', '\\u{9b}2J'],
    ['bidi override', 'a\u202egpj.exe', 'a\\u{202e}gpj.exe'],
    ['zero width', 'lo\u200bgs', 'lo\\u{200b}gs'],
    ['carriage return', 'ok\rforged', 'ok\\u{d}forged'],
  ])('escapes %s', (_n, input, expected) => {
    expect(terminalText(input)).toBe(expected);
  });

  it('keeps tabs, line feeds and ordinary Unicode', () => {
    expect(terminalText('a\tb\nRésumé 日本語')).toBe('a\tb\nRésumé 日本語');
  });
});

describe('every CLI line goes through it', () => {
  it('a command printing customer text cannot reach the terminal raw', async () => {
    const out: string[] = [];
    // `verify` needs no Redis: the name it prints is the customer's file name, as given
    await main(
      ['node', 'casedrop', 'verify', '/nonexistent/\u001b]52;c;x\u0007.zip'],
      createContext({ CASEDROP_LOG_LEVEL: 'silent' }, (l) => out.push(l)),
    );
    expect(out.join('\n')).toContain('\\u{1b}]52;c;x\\u{7}.zip');
    expect(out.join('\n')).not.toContain('\u001b');
    expect(out.join('\n')).not.toContain('\u0007');
  });
});

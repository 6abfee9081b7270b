import fc from 'fast-check';
import libmime from 'libmime';
import { describe, expect, it } from 'vitest';
import { addressLiteral, receivedHeader, type ReceivedOptions } from '../../src/smtp/received.js';

const base: ReceivedOptions = {
  heloName: 'mail.customer.example',
  clientAddress: '192.0.2.10',
  clientHostname: 'mail.customer.example',
  hostname: 'mx.casedrop.example',
  id: 'S1a2b3c4d5',
  protocol: 'ESMTPS',
  recipient: 'attach@example.com',
  date: new Date(Date.UTC(2024, 0, 2, 10, 4, 5)),
};

const lines = (h: string) => h.slice(0, -2).split('\r\n');
const unfolded = (h: string) => libmime.decodeHeader(h.slice(0, -2));

function checkShape(h: string): void {
  expect(h.endsWith('\r\n')).toBe(true);
  expect(h.startsWith('Received: ')).toBe(true);
  expect(h.slice(0, -2)).not.toMatch(/\r(?!\n\t)|(?<!\r)\n/); // CRLF only where folded
  for (const [i, line] of lines(h).entries()) {
    if (i > 0) expect(line.startsWith('\t')).toBe(true);
    expect(line.trim()).not.toBe('');
  }
}

describe('receivedHeader', () => {
  it('writes the RFC 5321 trace fields, folded', () => {
    const h = receivedHeader(base);
    expect(h).toBe(
      'Received: from mail.customer.example (mail.customer.example [192.0.2.10])\r\n' +
        '\tby mx.casedrop.example with ESMTPS id S1a2b3c4d5 for <attach@example.com>;\r\n' +
        '\tTue, 2 Jan 2024 10:04:05 +0000\r\n',
    );
    checkShape(h);
    expect(unfolded(h)).toEqual({
      key: 'received',
      value:
        'from mail.customer.example (mail.customer.example [192.0.2.10]) by mx.casedrop.example with ESMTPS id S1a2b3c4d5 for <attach@example.com>; Tue, 2 Jan 2024 10:04:05 +0000',
    });
  });

  it.each<[string, Partial<ReceivedOptions>, RegExp]>([
    ['no HELO: the address literal stands in', { heloName: undefined }, /^from \[192\.0\.2\.10\] \(mail\.customer\.example \[192\.0\.2\.10\]\) by /],
    ['empty HELO', { heloName: '  ' }, /^from \[192\.0\.2\.10\] /],
    ['no reverse name', { clientHostname: undefined }, /^from mail\.customer\.example \(\[192\.0\.2\.10\]\) by /],
    ['IPv6', { clientAddress: '2001:db8::1' }, /\[IPv6:2001:db8::1\]\)/],
    ['IPv4-mapped IPv6', { clientAddress: '::ffff:192.0.2.7' }, /\[192\.0\.2\.7\]\)/],
    ['not an address', { clientAddress: 'nonsense' }, /\[unknown\]\)/],
    ['HELO with an address literal', { heloName: '[192.0.2.10]' }, /^from \[192\.0\.2\.10\] \(/],
    ['LMTP', { protocol: 'LMTP' }, / with LMTP id /],
    ['plain SMTP', { protocol: 'SMTP' }, / with SMTP id /],
    ['a hostile HELO cannot add a header or a comment', { heloName: 'evil\r\nX-Injected: 1 (x) ; <y>' }, /^from evil__X-Injected:_1__x_____y_ \(/],
    ['a hostile recipient cannot add a header', { recipient: 'a@b>\r\nX-Injected: 1' }, /for <a@bX-Injected:1>; /],
    ['an SMTPUTF8 recipient stays readable', { recipient: 'prüfung@exämple.com' }, /for <prüfung@exämple\.com>; /],
  ])('%s', (_name, change, pattern) => {
    const h = receivedHeader({ ...base, ...change });
    checkShape(h);
    expect(unfolded(h).value).toMatch(pattern);
    expect(h).not.toMatch(/\r\nX-Injected/);
  });

  it('keeps lines under 78 characters, breaking a long clause only between words', () => {
    const h = receivedHeader({
      ...base,
      heloName: `${'h'.repeat(40)}.example`,
      clientHostname: `${'r'.repeat(40)}.example`,
      hostname: `${'m'.repeat(50)}.example`,
    });
    checkShape(h);
    for (const line of lines(h)) expect(line.length).toBeLessThanOrEqual(76);
    expect(unfolded(h).value).toContain(`by ${'m'.repeat(50)}.example with ESMTPS`);
  });

  it('puts an item longer than a line on a line of its own (a word cannot be folded)', () => {
    const long = `${'x'.repeat(100)}.example`;
    const h = receivedHeader({ ...base, hostname: long });
    checkShape(h);
    expect(lines(h)).toContain(`\t${long}`);
    expect(unfolded(h).value).toContain(`by ${long} with ESMTPS`);
  });

  it('holds its shape for any HELO, host name and recipient (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 120 }), fc.string({ maxLength: 120 }), fc.string({ maxLength: 120 }), (helo, host, rcpt) => {
        const h = receivedHeader({ ...base, heloName: helo, clientHostname: host, recipient: rcpt });
        checkShape(h);
        for (const line of lines(h)) {
          // over the limit only when the line is one item, with no space to fold at
          if (line.length > 76) expect(line.slice(1)).not.toContain(' ');
        }
        const value = unfolded(h).value;
        expect(value).toMatch(/^from \S+ \(.*\) by mx\.casedrop\.example with ESMTPS id S1a2b3c4d5 for <[^<>\s]*>; Tue, 2 Jan 2024 10:04:05 \+0000$/);
      }),
    );
  });
});

describe('addressLiteral', () => {
  it.each([
    ['192.0.2.1', '[192.0.2.1]'],
    ['2001:db8::1', '[IPv6:2001:db8::1]'],
    ['::1', '[IPv6:::1]'],
    ['::ffff:127.0.0.1', '[127.0.0.1]'],
    ['::FFFF:10.0.0.1', '[10.0.0.1]'],
    ['', '[unknown]'],
    ['192.0.2.1]\r\n', '[unknown]'],
  ])('%j → %s', (address, literal) => {
    expect(addressLiteral(address)).toBe(literal);
  });
});

import { isIPv4, isIPv6 } from 'node:net';
import { rfc5322Date } from '../rfc5322.js';

/**
 * The `Received:` trace header the door puts on top of every spooled message (RFC 5321 4.4):
 *
 *   Received: from <helo> (<client hostname> [<client address>])
 *   	by <hostname> with ESMTPS id <id>
 *   	for <recipient>; Tue, 2 Jan 2024 10:00:00 +0000
 *
 * Folded at spaces so no line passes 76 characters unless one item alone is longer (a folded
 * header may not break inside a word). Everything that came from the client (HELO name, host
 * name, recipient) is reduced to characters that cannot end the header or break its syntax.
 * The date is written in UTC, so the header does not depend on the machine's time zone.
 */
export type ReceivedProtocol = 'SMTP' | 'ESMTP' | 'ESMTPS' | 'ESMTPA' | 'ESMTPSA' | 'LMTP';

export interface ReceivedOptions {
  heloName?: string;
  clientAddress: string;
  clientHostname?: string;
  hostname: string;
  id: string;
  protocol: ReceivedProtocol;
  recipient: string;
  date: Date;
}

const MAX_LINE = 76;

/** `[192.0.2.1]`, `[IPv6:2001:db8::1]`; an IPv4-mapped IPv6 address as the IPv4 it is. */
export function addressLiteral(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped && isIPv4(mapped)) return `[${mapped}]`;
  if (isIPv4(address)) return `[${address}]`;
  if (isIPv6(address)) return `[IPv6:${address}]`;
  return '[unknown]';
}

// A domain, an address literal or what a client claims to be: letters, digits and . - _ : [ ].
function name(value: string): string {
  const cleaned = value.normalize('NFC').replace(/[^\p{L}\p{N}.\-_:[\]]/gu, '_');
  return cleaned.length > 0 ? cleaned : 'unknown';
}

// The path of a recipient: no CTLs, spaces or angle brackets.
function path(value: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what this removes
  return value.replace(/[\x00-\x20\x7f<>]/g, '');
}

/**
 * Joins clauses (lists of words) with spaces into lines of at most MAX_LINE, continuation lines
 * starting with a tab. A clause that does not fit starts a new line; only a clause longer than a
 * line is broken between its words.
 */
function fold(clauses: string[][]): string {
  const lines: string[] = [];
  let line = '';
  const fits = (text: string) => line.length + 1 + text.length <= MAX_LINE;
  const add = (text: string) => {
    if (line === '') line = text;
    else if (fits(text)) line += ` ${text}`;
    else {
      lines.push(line);
      line = `\t${text}`;
    }
  };
  for (const clause of clauses) {
    const whole = clause.join(' ');
    const room = line === '' ? whole.length <= MAX_LINE : fits(whole) || whole.length + 1 <= MAX_LINE;
    if (room) add(whole);
    else for (const word of clause) add(word);
  }
  lines.push(line);
  return `${lines.join('\r\n')}\r\n`;
}

export function receivedHeader(o: ReceivedOptions): string {
  const literal = addressLiteral(o.clientAddress);
  const helo = o.heloName !== undefined && o.heloName.trim() !== '' ? name(o.heloName) : literal;
  const tcpInfo = o.clientHostname ? [`(${name(o.clientHostname)}`, `${literal})`] : [`(${literal})`];
  return fold([
    ['Received:', 'from', helo, ...tcpInfo],
    ['by', name(o.hostname)],
    ['with', o.protocol, 'id', name(o.id)],
    ['for', `<${path(o.recipient)}>;`],
    [rfc5322Date(o.date)],
  ]);
}

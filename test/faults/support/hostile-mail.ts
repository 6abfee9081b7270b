/**
 * The hostile-message generator: each attack of issue 10 as raw RFC 5322 bytes, sized by `scale`
 * (1 = the default sizes the fault suite sends; `HOSTILE_SCALE=10 npm run test:faults` for larger).
 * The structure is the attack, so the MIME is written out here rather than by a mail library (which
 * would refuse to make most of it); no customer tool makes these messages.
 *
 * Each attack names the refusal or reply it must end in (documented in the README's tables).
 */
export interface Attack {
  name: string;
  /** what casedrop must answer: an SMTP reply at the door, or the worker's outcome */
  expect: { smtp: number; reason?: string; kind?: 'refused' | 'partial' | 'stored' | 'no-attachment' };
  raw: Buffer;
}

export interface HostileOptions {
  caseNumber: string;
  /** 1 = default sizes */
  scale?: number;
  /** a case number that does not exist, for the probing attack */
  missingCase?: string;
}

const CRLF = '\r\n';
// an encrypted archive's first bytes are enough for a part to be judged; these are plain text, so refused
const PLAIN = Buffer.from('plain text, not encrypted\n').toString('base64');

function message(caseNumber: string, headers: string[], body: string): Buffer {
  return Buffer.from(
    [
      `From: <hostile@example.com>`,
      `To: <attach@localhost>`,
      `Subject: Case ${caseNumber}`,
      `Message-ID: <${Math.random().toString(36).slice(2)}@hostile.example>`,
      'MIME-Version: 1.0',
      ...headers,
      '',
      body,
    ].join(CRLF),
  );
}

/** A multipart/mixed body of `parts` (each already a part with its headers). */
function mixed(boundary: string, parts: string[]): { headers: string[]; body: string } {
  return {
    headers: [`Content-Type: multipart/mixed; boundary="${boundary}"`],
    body: ['text', ...parts.map((p) => `--${boundary}${CRLF}${p}`), `--${boundary}--`, ''].join(CRLF),
  };
}

function attachment(nameParams: string): string {
  return [`Content-Type: application/octet-stream`, `Content-Disposition: attachment;${nameParams}`, 'Content-Transfer-Encoding: base64', '', PLAIN, ''].join(
    CRLF,
  );
}

/** A header value of `length` characters, folded into lines RFC 5322 allows. */
function folded(name: string, value: string): string {
  const lines: string[] = [];
  for (let i = 0; i < value.length; i += 900) lines.push(value.slice(i, i + 900));
  return `${name}: ${lines.join(`${CRLF} `)}`;
}

export function hostileMessages(opts: HostileOptions): Attack[] {
  const s = opts.scale ?? 1;
  const c = opts.caseNumber;
  const longName = 'n'.repeat(60_000 * s);
  const continuations = Array.from({ length: 600 * s }, (_, i) => ` filename*${i}*=${i === 0 ? "utf-8''" : ''}${'%41'.repeat(30)}`).join(`;${CRLF}`);
  const attacks: Attack[] = [
    {
      name: 'long file name (plain)',
      expect: { smtp: 250, kind: 'refused', reason: 'unencrypted' },
      raw: msg(c, mixed('b1', [attachment(`${CRLF} filename="${longName}.zip"`)])),
    },
    {
      name: 'long file name (RFC 2231 continuations)',
      expect: { smtp: 250, kind: 'refused', reason: 'unencrypted' },
      raw: msg(c, mixed('b2', [attachment(`${CRLF}${continuations}`)])),
    },
    { name: 'Subject "Re" + spaces', expect: { smtp: 550 }, raw: subjectOnly(`Re${' '.repeat(200_000)}x`) },
    { name: 'Auto-Submitted of "("', expect: { smtp: 250, kind: 'no-attachment' }, raw: message(c, [folded('Auto-Submitted', '('.repeat(200_000))], 'text') },
    { name: 'Precedence of "("', expect: { smtp: 250, kind: 'no-attachment' }, raw: message(c, [folded('Precedence', '('.repeat(200_000))], 'text') },
    { name: 'forwarded messages of many tiny parts', expect: { smtp: 250, kind: 'refused', reason: 'too-many-parts' }, raw: msg(c, forwardBomb(40 * s, 300)) },
    {
      name: 'many files',
      expect: { smtp: 250, kind: 'refused', reason: 'too-many-files' },
      raw: msg(
        c,
        mixed(
          'b3',
          Array.from({ length: 500 * s }, (_, i) => attachment(` filename="f${i}.txt"`)),
        ),
      ),
    },
    { name: 'deeply nested multiparts', expect: { smtp: 250, kind: 'refused', reason: 'too-many-parts' }, raw: msg(c, nested(3000 * s)) },
    {
      name: 'long Message-ID (outgoing References)',
      expect: { smtp: 250, kind: 'refused', reason: 'unencrypted' },
      raw: messageWithId(c, `<${'r'.repeat(3000)}@hostile.example>`, mixed('b4', [attachment(' filename="a.txt"')])),
    },
    {
      name: 'terminal escapes and shell words',
      expect: { smtp: 250, kind: 'refused', reason: 'unencrypted' },
      raw: msg(
        c,
        mixed('b5', [
          ['Content-Type: text/plain; charset=utf-8', '', '\u001b]52;c;ZWNobyBwd25lZA==\u0007\u001b[2J\u202eevil', ''].join(CRLF),
          attachment(' filename="$(reboot)`id`-CON\u200b\u2215x.txt"'),
        ]),
      ),
    },
  ];
  if (opts.missingCase) attacks.push({ name: 'case-number probe', expect: { smtp: 550 }, raw: message(opts.missingCase, [], 'probe') });
  return attacks;
}

function msg(caseNumber: string, m: { headers: string[]; body: string }): Buffer {
  return message(caseNumber, m.headers, m.body);
}

function messageWithId(caseNumber: string, id: string, m: { headers: string[]; body: string }): Buffer {
  return Buffer.from(
    [
      `From: <hostile@example.com>`,
      `To: <attach@localhost>`,
      `Subject: Case ${caseNumber}`,
      folded('Message-ID', id),
      'MIME-Version: 1.0',
      ...m.headers,
      '',
      m.body,
    ].join(CRLF),
  );
}

/** A Subject and nothing else that names a case: the door reads the whole Subject. */
function subjectOnly(subject: string): Buffer {
  return Buffer.from([`From: <hostile@example.com>`, `To: <attach@localhost>`, folded('Subject', subject), '', 'x'].join(CRLF));
}

/** `count` forwarded messages, each of `parts` tiny parts. */
function forwardBomb(count: number, parts: number): { headers: string[]; body: string } {
  const inner = mixed(
    'in',
    Array.from({ length: parts }, (_, i) => attachment(` filename="p${i}.txt"`)),
  );
  const forwarded = ['Content-Type: message/rfc822', '', 'Subject: inner', ...inner.headers, '', inner.body].join(CRLF);
  return mixed(
    'fw',
    Array.from({ length: count }, () => forwarded),
  );
}

/** multipart inside multipart, `depth` deep, with one file at the bottom. */
function nested(depth: number): { headers: string[]; body: string } {
  let body = attachment(' filename="deep.txt"');
  for (let d = depth; d > 0; d--) body = [`Content-Type: multipart/mixed; boundary="n${d}"`, '', `--n${d}`, body, `--n${d}--`, ''].join(CRLF);
  return { headers: [`Content-Type: multipart/mixed; boundary="n0"`], body: ['', '--n0', body, '--n0--', ''].join(CRLF) };
}

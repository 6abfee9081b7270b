/**
 * Every reason casedrop gives for a verdict on a file, in one table: what it means, the one command
 * that fixes it, the words a reply uses and the RFC 3463 status of the DSN. The README's policy
 * table, `casedrop verify`, the refusal lines of DSNs and notices and the DSN status all read it,
 * so a code cannot be added without all of them (a test checks every column of every code).
 */
export const REASON_CODES = [
  'encrypted',
  'unencrypted',
  'weak-zipcrypto',
  'partial-encryption',
  'weak-cipher',
  'no-integrity',
  'corrupt',
  'not-an-archive',
  'zip-strong-encryption',
  'unsupported-format',
  'pgp-unknown-key',
  'tnef',
  'smime-opaque',
  'nesting-too-deep',
  'unparseable',
] as const;

export type ReasonCode = (typeof REASON_CODES)[number];

export interface ReasonInfo {
  verdict: 'accept' | 'reject';
  /** judged on the file's bytes alone (src/verify) or on the message around it (the intake worker) */
  scope: 'file' | 'message';
  /** plain words: what was found and why casedrop decides so */
  explanation: string;
  /** the exact command (or step) that makes the file acceptable */
  advice: string;
  /** completes "<file name> (<size>) …" in the reply to the sender and the engineer's notice */
  reply: string;
  /**
   * RFC 3463 enhanced status of a DSN whose refusals all have this code: 5.6.x for the content's
   * form (damaged, wrapped, unreadable), 5.7.0 for its protection.
   */
  status: string;
}

const AES_ZIP = '7z a -tzip -mem=AES256 -p logs.zip logs/';
const GPG = 'gpg -c --cipher-algo AES256 file';
const OPENSSL = 'openssl enc -aes-256-cbc -pbkdf2 -in f -out f.enc';

export const reasonTable: { readonly [code in ReasonCode]: ReasonInfo } = {
  encrypted: {
    verdict: 'accept',
    scope: 'file',
    explanation: 'An accepted encrypted container (AES zip, OpenPGP, OpenSSL enc, AES 7z) whose every file is encrypted with a strong cipher.',
    advice: 'Nothing to fix: casedrop stores it as sent.',
    reply: 'is encrypted with a strong cipher',
    status: '2.0.0',
  },
  unencrypted: {
    verdict: 'reject',
    scope: 'file',
    explanation: 'A plain file or an archive without encryption (zip, 7z, tar, gzip, PDF, text …): anyone who gets the mail can read it.',
    advice: `Encrypt it before sending: ${AES_ZIP} (or ${GPG}).`,
    reply: 'is not encrypted',
    status: '5.7.0',
  },
  'weak-zipcrypto': {
    verdict: 'reject',
    scope: 'file',
    explanation: 'A zip with traditional PKWARE encryption (ZipCrypto, made by zip -e/-P and by 7z without -mem=AES256): a known-plaintext attack recovers the keys in minutes whatever the password.',
    advice: `Make the zip with AES instead: ${AES_ZIP}`,
    reply: 'uses the old ZipCrypto encryption, which can be broken in minutes',
    status: '5.7.0',
  },
  'partial-encryption': {
    verdict: 'reject',
    scope: 'file',
    explanation: 'Some files in the archive are encrypted and some are not (typically files added to an existing archive without a password): the plain ones are readable by anyone.',
    advice: `Create the archive again in one go, every file with the password: ${AES_ZIP}`,
    reply: 'is only partly encrypted: some entries or the file names can be read without the password',
    status: '5.7.0',
  },
  'weak-cipher': {
    verdict: 'reject',
    scope: 'file',
    explanation: 'Encrypted with a legacy cipher (64-bit block ciphers such as 3DES and Blowfish, or CAST5/IDEA), which current standards forbid for new data.',
    advice: `Encrypt with AES-256: ${GPG}, or ${OPENSSL}`,
    reply: 'is encrypted with a weak cipher',
    status: '5.7.0',
  },
  'no-integrity': {
    verdict: 'reject',
    scope: 'file',
    explanation: 'OpenPGP data encrypted without integrity protection (no MDC, e.g. gpg --rfc2440): it can be altered without anyone noticing.',
    advice: `Encrypt again without --rfc2440 or --force-mdc off: ${GPG}`,
    reply: 'is encrypted without integrity protection, so changes to it would go unnoticed',
    status: '5.7.0',
  },
  corrupt: {
    verdict: 'reject',
    scope: 'file',
    explanation: 'A recognisable container that is truncated or inconsistent, so its encryption cannot be shown (a cut download, a damaged attachment, or a tampered file).',
    advice: `Create the archive again and attach it whole: ${AES_ZIP}, then check it with casedrop verify logs.zip`,
    reply: 'is damaged and could not be read',
    status: '5.6.0',
  },
  'not-an-archive': {
    verdict: 'reject',
    scope: 'file',
    explanation: 'Nothing recognisable: random-looking bytes without a header (for example openssl enc -nosalt output) cannot be shown to be encrypted.',
    advice: `Use a format whose encryption can be checked: ${AES_ZIP}, or ${OPENSSL} (without -nosalt).`,
    reply: 'is not an encrypted archive',
    status: '5.7.0',
  },
  'zip-strong-encryption': {
    verdict: 'reject',
    scope: 'file',
    explanation: 'A zip with PKWARE Strong Encryption (PKZIP/SecureZIP, flag bit 6): refused because 7-Zip and Info-ZIP, which engineers use, cannot open it, and its central directory may itself be encrypted so the entries cannot be checked.',
    advice: `Choose WinZip-compatible AES encryption in PKZIP/SecureZIP, or make the zip with: ${AES_ZIP}`,
    reply: "uses PKWARE Strong Encryption, which the engineers' tools cannot open",
    status: '5.7.0',
  },
  'unsupported-format': {
    verdict: 'reject',
    scope: 'file',
    explanation: 'An archive format casedrop does not take, encrypted or not: RAR (its encryption needs the proprietary rar tool to make and check) and Office/OLE compound files (password-protected documents included).',
    advice: `Repack the files into an AES zip: ${AES_ZIP} (7-Zip also unpacks RAR: 7z x file.rar).`,
    reply: 'is in an archive format casedrop does not take',
    status: '5.7.0',
  },
  'pgp-unknown-key': {
    verdict: 'reject',
    scope: 'file',
    explanation: "OpenPGP encrypted only to public keys that are not casedrop's intake key (or to an anonymous recipient): nobody at casedrop can decrypt it. Refused even when no intake key is configured, since casedrop then publishes no key at all.",
    advice: `We cannot decrypt it: encrypt with a passphrase instead (${GPG}) and tell your support engineer the passphrase by phone, or encrypt to casedrop's published intake key if your support contact gave you one.`,
    reply: 'is encrypted to a key casedrop does not hold, so nobody here can decrypt it',
    status: '5.7.0',
  },
  tnef: {
    verdict: 'reject',
    scope: 'message',
    explanation: "Outlook's winmail.dat (TNEF) wrapper, which hides the real files: unpacking it would need a TNEF library with no well-kept Node option, and it usually wraps plain files anyway.",
    advice:
      'Outlook wrapped the files in winmail.dat (TNEF), which hides them: send again in HTML or plain-text format ' +
      '(File > Options > Mail > Compose messages in: HTML), or attach the archive from a different mail program.',
    reply: 'is an Outlook winmail.dat (TNEF) wrapper, which hides the real files',
    status: '5.6.0',
  },
  'smime-opaque': {
    verdict: 'reject',
    scope: 'message',
    explanation: 'An opaque-signed or S/MIME-encrypted message: the whole MIME tree, files included, is inside the PKCS#7 where casedrop cannot look. Detached signatures are fine.',
    advice:
      'The message is S/MIME opaque-signed or S/MIME-encrypted, which wraps the files where they cannot be read: ' +
      'send it again unsigned or with a detached (clear) signature, with the encrypted archive attached.',
    reply: 'is wrapped in S/MIME encryption or an opaque signature that casedrop cannot open',
    status: '5.6.0',
  },
  'nesting-too-deep': {
    verdict: 'reject',
    scope: 'message',
    explanation: 'Files more than CASEDROP_FORWARD_DEPTH forwarded messages (message/rfc822) deep: casedrop stops looking there.',
    advice: 'The files are inside too many forwarded messages; attach them directly.',
    reply: 'is inside too many forwarded messages',
    status: '5.6.0',
  },
  unparseable: {
    verdict: 'reject',
    scope: 'message',
    explanation: 'A message that is not readable MIME, so no file in it can be found.',
    advice: 'The message could not be read as MIME; send the files again as ordinary attachments.',
    reply: 'could not be read: the message is not valid MIME',
    status: '5.6.0',
  },
};

/**
 * The table's entry, or a refusal with the generic advice: a code read back from a record this
 * version did not write fails closed.
 */
export function reasonInfo(reason: string): ReasonInfo {
  if (isReasonCode(reason)) return reasonTable[reason];
  return { verdict: 'reject', scope: 'file', explanation: reason, advice: reasonTable['not-an-archive'].advice, reply: `was refused (${reason})`, status: '5.7.0' };
}

export function isReasonCode(value: string): value is ReasonCode {
  return Object.hasOwn(reasonTable, value);
}

/** The README's policy table (between its policy markers): file verdicts first, then message ones. */
export function renderPolicyTable(): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const rows = (['file', 'message'] as const).flatMap((scope) =>
    REASON_CODES.filter((code) => reasonTable[code].scope === scope).map((code) => {
      const info = reasonTable[code];
      return `| \`${code}\` | ${info.verdict} | ${cell(info.explanation)} | ${cell(info.advice)} |`;
    }),
  );
  return ['| reason | verdict | what it means | how to fix it |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

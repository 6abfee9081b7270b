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
  'unaccounted-bytes',
  'plaintext-metadata',
  'not-ciphertext',
  'weak-kdf',
  'tnef',
  'smime-opaque',
  'nesting-too-deep',
  'unparseable',
  'too-many-files',
  'too-many-parts',
  'too-complex',
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
    explanation:
      'A zip with traditional PKWARE encryption (ZipCrypto, made by zip -e/-P and by 7z without -mem=AES256): a known-plaintext attack recovers the keys in minutes whatever the password.',
    advice: `Make the zip with AES instead: ${AES_ZIP}`,
    reply: 'uses the old ZipCrypto encryption, which can be broken in minutes',
    status: '5.7.0',
  },
  'partial-encryption': {
    verdict: 'reject',
    scope: 'file',
    explanation:
      'Some files in the archive are encrypted and some are not (typically files added to an existing archive without a password): the plain ones are readable by anyone.',
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
    explanation:
      'A recognisable container that is truncated or inconsistent, so its encryption cannot be shown (a cut download, a damaged attachment, or a tampered file).',
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
    explanation:
      'A zip with PKWARE Strong Encryption (PKZIP/SecureZIP, flag bit 6): refused because 7-Zip and Info-ZIP, which engineers use, cannot open it, and its central directory may itself be encrypted so the entries cannot be checked.',
    advice: `Choose WinZip-compatible AES encryption in PKZIP/SecureZIP, or make the zip with: ${AES_ZIP}`,
    reply: "uses PKWARE Strong Encryption, which the engineers' tools cannot open",
    status: '5.7.0',
  },
  'unsupported-format': {
    verdict: 'reject',
    scope: 'file',
    explanation:
      'An archive format casedrop does not take, encrypted or not: RAR (its encryption needs the proprietary rar tool to make and check) and Office/OLE compound files (password-protected documents included).',
    advice: `Repack the files into an AES zip: ${AES_ZIP} (7-Zip also unpacks RAR: 7z x file.rar).`,
    reply: 'is in an archive format casedrop does not take',
    status: '5.7.0',
  },
  'pgp-unknown-key': {
    verdict: 'reject',
    scope: 'file',
    explanation:
      "OpenPGP encrypted only to public keys that are not casedrop's intake key (or to an anonymous recipient): nobody at casedrop can decrypt it. Refused even when no intake key is configured, since casedrop then publishes no key at all.",
    advice: `We cannot decrypt it: encrypt with a passphrase instead (${GPG}) and tell your support engineer the passphrase by phone, or encrypt to casedrop's published intake key if your support contact gave you one.`,
    reply: 'is encrypted to a key casedrop does not hold, so nobody here can decrypt it',
    status: '5.7.0',
  },
  'unaccounted-bytes': {
    verdict: 'reject',
    scope: 'file',
    explanation:
      'Bytes that no structure of the format accounts for: data before the archive, after its end, or between its parts (a file glued to an archive, a self-extractor stub, a hidden second archive). Anyone can read them without the password; the refusal says at which offsets.',
    advice: `Send the archive exactly as the tool made it, without adding anything: ${AES_ZIP}`,
    reply: 'carries data outside its encrypted archive that anyone could read',
    status: '5.7.0',
  },
  'plaintext-metadata': {
    verdict: 'reject',
    scope: 'file',
    explanation:
      'Readable text where the format allows free text (an archive or file comment, an armor header line, an unknown zip extra field, a 7z comment or filler) that is longer than a short label (64 printable ASCII characters on one line) or is not text: such places are readable without the password, and data can hide there.',
    advice: `Remove the comment (no zip -z, no gpg --comment) or create the archive again without one: ${AES_ZIP}`,
    reply: 'carries readable text outside the encryption (a comment or header longer than a short label)',
    status: '5.7.0',
  },
  'not-ciphertext': {
    verdict: 'reject',
    scope: 'file',
    explanation:
      'A part of the file that the format says is encrypted does not look like ciphertext (text, repeated bytes or far-from-random byte frequencies): it was stored without encryption behind an encryption label, or the file was altered. The refusal names the part and the offset.',
    advice: `Encrypt the files again with the tool itself, not by editing an archive: ${AES_ZIP} (or ${GPG}).`,
    reply: 'is labelled encrypted, but part of it is readable data, not ciphertext',
    status: '5.7.0',
  },
  'weak-kdf': {
    verdict: 'reject',
    scope: 'file',
    explanation:
      "The password is turned into the key with too little work: a 7z with fewer than 2^19 SHA-256 rounds (7-Zip's default), an OpenPGP passphrase with the simple or salted S2K, an iterated S2K hashing fewer than 1,048,576 bytes, or Argon2 with less than 64 MiB. Each guess at the password then costs an attacker orders of magnitude less.",
    advice: `Encrypt again with the tool's defaults: ${GPG}, or 7z a -t7z -p logs.7z logs/ (or ${AES_ZIP}).`,
    reply: 'derives its key from the password with too little work, so the password can be guessed quickly',
    status: '5.7.0',
  },
  tnef: {
    verdict: 'reject',
    scope: 'message',
    explanation:
      "Outlook's winmail.dat (TNEF) wrapper, which hides the real files: unpacking it would need a TNEF library with no well-kept Node option, and it usually wraps plain files anyway.",
    advice:
      'Outlook wrapped the files in winmail.dat (TNEF), which hides them: send again in HTML or plain-text format ' +
      '(File > Options > Mail > Compose messages in: HTML), or attach the archive from a different mail program.',
    reply: 'is an Outlook winmail.dat (TNEF) wrapper, which hides the real files',
    status: '5.6.0',
  },
  'smime-opaque': {
    verdict: 'reject',
    scope: 'message',
    explanation:
      'An opaque-signed or S/MIME-encrypted message: the whole MIME tree, files included, is inside the PKCS#7 where casedrop cannot look. Detached signatures are fine.',
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
  // the bounds of one message (issue 10): each a setting, decided by the intake worker
  'too-many-files': {
    verdict: 'reject',
    scope: 'message',
    explanation:
      'The message brings more files than `CASEDROP_MAX_FILES_PER_MESSAGE` (100 by default): the first ones are judged and stored, the rest are refused together.',
    advice: `Put the files into one archive and send that: ${AES_ZIP}`,
    reply: 'are more files than one message may bring',
    status: '5.6.0',
  },
  'too-many-parts': {
    verdict: 'reject',
    scope: 'message',
    explanation:
      'The message has more MIME parts than `CASEDROP_MAX_MIME_PARTS` (1000 by default), counted over every forwarded message in it: nothing in it is read.',
    advice: `Attach the files directly, not inside forwarded messages, packed into one archive: ${AES_ZIP}`,
    reply: 'could not be read: the message has too many MIME parts',
    status: '5.6.0',
  },
  'too-complex': {
    verdict: 'reject',
    scope: 'message',
    explanation:
      'Reading the message exhausted the heap or the time one message may use (`CASEDROP_PARSE_MEMORY_MB`, `CASEDROP_PARSE_TIME_MS`), or it stopped its worker process `CASEDROP_POISON_ATTEMPTS` times: nothing in it is kept.',
    advice: `Send the files in a plain message, attached directly and packed into one archive: ${AES_ZIP}`,
    reply: 'could not be read: the message is too complex to read safely',
    status: '5.6.0',
  },
};

/**
 * The table's entry, or a refusal with the generic advice: a code read back from a record this
 * version did not write fails closed.
 */
export function reasonInfo(reason: string): ReasonInfo {
  if (isReasonCode(reason)) return reasonTable[reason];
  return {
    verdict: 'reject',
    scope: 'file',
    explanation: reason,
    advice: reasonTable['not-an-archive'].advice,
    reply: `was refused (${reason})`,
    status: '5.7.0',
  };
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

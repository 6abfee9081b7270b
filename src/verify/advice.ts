import type { ReasonCode, VerifyResult } from './types.js';

/**
 * What each reason code means for the customer, and the one command that fixes it. This table is
 * the single source of the README's policy table and of the refusal texts in DSNs, so a code is
 * documented where it is defined.
 */
export interface ReasonInfo {
  verdict: 'accept' | 'reject';
  /** plain words: what was found and why casedrop decides so */
  explanation: string;
  /** the exact command (or step) that makes the file acceptable */
  advice: string;
}

const AES_ZIP = '7z a -tzip -mem=AES256 -p logs.zip logs/';
const GPG = 'gpg -c --cipher-algo AES256 file';
const OPENSSL = 'openssl enc -aes-256-cbc -pbkdf2 -in f -out f.enc';

export const reasonTable: Record<string, ReasonInfo> = {
  encrypted: {
    verdict: 'accept',
    explanation: 'An accepted encrypted container (AES zip, OpenPGP, OpenSSL enc, AES 7z) whose every file is encrypted with a strong cipher.',
    advice: 'Nothing to fix: casedrop stores it as sent.',
  },
  unencrypted: {
    verdict: 'reject',
    explanation: 'A plain file or an archive without encryption (zip, 7z, tar, gzip, PDF, text …): anyone who gets the mail can read it.',
    advice: `Encrypt it before sending: ${AES_ZIP} (or ${GPG}).`,
  },
  'weak-zipcrypto': {
    verdict: 'reject',
    explanation: 'A zip with traditional PKWARE encryption (ZipCrypto, made by zip -e/-P and by 7z without -mem=AES256): a known-plaintext attack recovers the keys in minutes whatever the password.',
    advice: `Make the zip with AES instead: ${AES_ZIP}`,
  },
  'partial-encryption': {
    verdict: 'reject',
    explanation: 'Some files in the archive are encrypted and some are not (typically files added to an existing archive without a password): the plain ones are readable by anyone.',
    advice: `Create the archive again in one go, every file with the password: ${AES_ZIP}`,
  },
  'weak-cipher': {
    verdict: 'reject',
    explanation: 'Encrypted with a legacy cipher (64-bit block ciphers such as 3DES and Blowfish, or CAST5/IDEA), which current standards forbid for new data.',
    advice: `Encrypt with AES-256: ${GPG}, or ${OPENSSL}`,
  },
  'no-integrity': {
    verdict: 'reject',
    explanation: 'OpenPGP data encrypted without integrity protection (no MDC, e.g. gpg --rfc2440): it can be altered without anyone noticing.',
    advice: `Encrypt again without --rfc2440 or --force-mdc off: ${GPG}`,
  },
  corrupt: {
    verdict: 'reject',
    explanation: 'A recognisable container that is truncated or inconsistent, so its encryption cannot be shown (a cut download, a damaged attachment, or a tampered file).',
    advice: `Create the archive again and attach it whole: ${AES_ZIP}, then check it with casedrop verify logs.zip`,
  },
  'not-an-archive': {
    verdict: 'reject',
    explanation: 'Nothing recognisable: random-looking bytes without a header (for example openssl enc -nosalt output) cannot be shown to be encrypted.',
    advice: `Use a format whose encryption can be checked: ${AES_ZIP}, or ${OPENSSL} (without -nosalt).`,
  },
  'zip-strong-encryption': {
    verdict: 'reject',
    explanation: 'A zip with PKWARE Strong Encryption (PKZIP/SecureZIP, flag bit 6): refused because 7-Zip and Info-ZIP, which engineers use, cannot open it, and its central directory may itself be encrypted so the entries cannot be checked.',
    advice: `Choose WinZip-compatible AES encryption in PKZIP/SecureZIP, or make the zip with: ${AES_ZIP}`,
  },
  'unsupported-format': {
    verdict: 'reject',
    explanation: 'An archive format casedrop does not take, encrypted or not: RAR (its encryption needs the proprietary rar tool to make and check) and Office/OLE compound files (password-protected documents included).',
    advice: `Repack the files into an AES zip: ${AES_ZIP} (7-Zip also unpacks RAR: 7z x file.rar).`,
  },
  // openpgp and 7z codes follow
  'pgp-unknown-key': {
    verdict: 'reject',
    explanation: 'OpenPGP encrypted only to public keys that are not casedrop\'s intake key (or to an anonymous recipient): nobody at casedrop can decrypt it. Refused even when no intake key is configured, since casedrop then publishes no key at all.',
    advice: `We cannot decrypt it: encrypt with a passphrase instead (${GPG}) and tell your support engineer the passphrase by phone, or encrypt to casedrop's published intake key if your support contact gave you one.`,
  },
  // message-level bounds, decided by the intake worker (src/pipeline/), not by one file's bytes
  'too-many-files': {
    verdict: 'reject',
    explanation: 'The message brings more files than `CASEDROP_MAX_FILES_PER_MESSAGE` (100 by default): the first ones are judged and stored, the rest are refused together.',
    advice: `Put the files into one archive and send that: ${AES_ZIP}`,
  },
  'too-many-parts': {
    verdict: 'reject',
    explanation: 'The message has more MIME parts than `CASEDROP_MAX_MIME_PARTS` (1000 by default), counted over every forwarded message in it: nothing in it is read.',
    advice: `Attach the files directly, not inside forwarded messages, packed into one archive: ${AES_ZIP}`,
  },
  'too-complex': {
    verdict: 'reject',
    explanation: 'Reading the message exhausted the memory or time one message may use (`CASEDROP_PARSE_MEMORY_MB`, `CASEDROP_PARSE_TIME_MS`), or stopped the worker that read it twice: nothing in it is kept.',
    advice: `Send the files in a plain message, attached directly and packed into one archive: ${AES_ZIP}`,
  },
};

export function reasonInfo(reason: ReasonCode): ReasonInfo {
  // An unknown code fails closed: it is a refusal with the generic advice.
  return reasonTable[reason] ?? { verdict: 'reject', explanation: reason, advice: reasonTable['not-an-archive']!.advice };
}

export interface Finding {
  cipher?: string;
  details?: Record<string, unknown>;
  /** said before the table's advice, e.g. which entries were left unencrypted */
  note?: string;
}

/** A verdict whose accept/reject and advice come from the table, so no detector can disagree with it. */
export function decide(format: string, reason: ReasonCode, finding: Finding = {}): VerifyResult {
  const info = reasonInfo(reason);
  const advice = info.verdict === 'accept' ? '' : [finding.note, info.advice].filter(Boolean).join(' ');
  const result: VerifyResult = { format, verdict: info.verdict, reason, details: finding.details ?? {}, advice };
  if (finding.cipher !== undefined) result.cipher = finding.cipher;
  return result;
}

/** The README's policy table (between its policy markers), generated from `reasonTable`. */
export function renderPolicyTable(): string {
  const rows = Object.entries(reasonTable).map(([code, info]) => `| \`${code}\` | ${info.verdict} | ${info.explanation} | ${info.advice.replace(/\|/g, '\\|')} |`);
  return ['| reason | verdict | what it means | how to fix it |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

import { basename, extname } from 'node:path';
import { decide } from './advice.js';
import type { ReasonCode, VerifyInput, VerifyResult } from './types.js';

/**
 * What a file that no encrypted-container detector claimed actually is, so that the refusal names
 * it ("a gzip file, not encrypted") instead of a bare "unknown". Magic numbers only; these formats
 * carry no encryption casedrop accepts.
 */
interface Signature {
  format: string;
  matches(head: Buffer): boolean;
  /** default 'unencrypted' */
  reason?: ReasonCode;
}

const at = (offset: number, magic: string | number[]) => (head: Buffer) => {
  const bytes = typeof magic === 'string' ? Buffer.from(magic, 'latin1') : Buffer.from(magic);
  return head.length >= offset + bytes.length && head.subarray(offset, offset + bytes.length).equals(bytes);
};

const SIGNATURES: Signature[] = [
  { format: 'gzip', matches: at(0, [0x1f, 0x8b, 0x08]) },
  { format: 'bzip2', matches: (head) => at(0, 'BZh')(head) && head[3]! >= 0x31 && head[3]! <= 0x39 },
  { format: 'xz', matches: at(0, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) },
  { format: 'zstd', matches: at(0, [0x28, 0xb5, 0x2f, 0xfd]) },
  { format: 'lz4', matches: at(0, [0x04, 0x22, 0x4d, 0x18]) },
  { format: 'tar', matches: at(257, 'ustar') },
  { format: 'pdf', matches: at(0, '%PDF-') },
  { format: 'png', matches: at(0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
  { format: 'jpeg', matches: at(0, [0xff, 0xd8, 0xff]) },
  { format: 'gif', matches: (head) => at(0, 'GIF87a')(head) || at(0, 'GIF89a')(head) },
  { format: 'cab', matches: at(0, 'MSCF\0\0\0\0') },
  { format: 'sqlite', matches: at(0, 'SQLite format 3\0') },
  { format: 'pcap', matches: (head) => [[0xd4, 0xc3, 0xb2, 0xa1], [0xa1, 0xb2, 0xc3, 0xd4], [0x4d, 0x3c, 0xb2, 0xa1], [0xa1, 0xb2, 0x3c, 0x4d]].some((m) => at(0, m)(head)) },
  { format: 'pcapng', matches: at(0, [0x0a, 0x0d, 0x0d, 0x0a]) },
  { format: 'elf', matches: at(0, [0x7f, 0x45, 0x4c, 0x46]) },
  { format: 'windows-executable', matches: isPortableExecutable },
  // Refused whether encrypted or not: see 'unsupported-format' in the reason table.
  { format: 'rar', matches: at(0, 'Rar!\x1a\x07'), reason: 'unsupported-format' },
  { format: 'ole-compound', matches: at(0, [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), reason: 'unsupported-format' },
];

/** The verdict for content no detector recognised. */
export function classifyPlain(head: Buffer, size: number): VerifyResult {
  if (size === 0) return decide('empty', 'not-an-archive', { details: { bytes: 0 }, note: 'The file is empty.' });
  const signature = SIGNATURES.find((candidate) => candidate.matches(head));
  if (signature) return decide(signature.format, signature.reason ?? 'unencrypted', { details: { bytes: size }, note: `It is ${describe(signature.format)}.` });
  const text = textKind(head, size);
  if (text === 'text') return decide('text', 'unencrypted', { details: { bytes: size }, note: `It is ${describe('text')}.` });
  if (text === 'base64') {
    return decide('base64-text', 'not-an-archive', { details: { bytes: size }, note: 'It is base64 text of unrecognised bytes (openssl enc -a -nosalt looks like this).' });
  }
  return decide('unknown', 'not-an-archive', { details: { bytes: size } });
}

function isPortableExecutable(head: Buffer): boolean {
  if (!at(0, 'MZ')(head) || head.length < 0x40) return false;
  const peOffset = head.readUInt32LE(0x3c);
  return at(peOffset, 'PE\0\0')(head);
}

const BASE64_LINE = /^[A-Za-z0-9+/]+={0,2}$/;

/** Text by its first bytes: UTF-8 (or a UTF-16 BOM) without control characters a log would not hold. */
export function textKind(head: Buffer, size: number): 'text' | 'base64' | undefined {
  if (at(0, [0xff, 0xfe])(head) || at(0, [0xfe, 0xff])(head)) return 'text';
  // a sample cut inside a multi-byte character is still text: drop up to 3 trailing bytes
  const sample = head.length < size ? trimPartialUtf8(head) : head;
  if (!isUtf8(sample) || sample.some(isForeignControl)) return undefined;
  const lines = sample.toString('utf8').split(/\r?\n/).slice(0, head.length < size ? -1 : undefined).filter((line) => line.length > 0);
  const base64 = lines.length > 0 && lines.every((line) => BASE64_LINE.test(line)) && lines.some((line) => line.length >= 40);
  return base64 ? 'base64' : 'text';
}

function isForeignControl(byte: number): boolean {
  // tab, line feed, vertical tab, form feed, carriage return and ESC (colours in logs) are text
  return (byte < 0x20 && ![0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1b].includes(byte)) || byte === 0x7f;
}

function isUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

function trimPartialUtf8(bytes: Buffer): Buffer {
  for (let cut = 0; cut <= 3 && cut < bytes.length; cut++) {
    const candidate = bytes.subarray(0, bytes.length - cut);
    if (isUtf8(candidate)) return candidate;
  }
  return bytes;
}

/** What a file name's extension promises; compared with what the content is. */
const EXTENSION_FORMATS: Record<string, string> = {
  '.zip': 'zip', '.7z': '7z', '.gpg': 'openpgp', '.pgp': 'openpgp', '.asc': 'openpgp',
  '.gz': 'gzip', '.tgz': 'gzip', '.bz2': 'bzip2', '.tbz2': 'bzip2', '.xz': 'xz', '.txz': 'xz', '.zst': 'zstd',
  '.tar': 'tar', '.pdf': 'pdf', '.png': 'png', '.jpg': 'jpeg', '.jpeg': 'jpeg', '.gif': 'gif',
  '.rar': 'rar', '.cab': 'cab', '.txt': 'text', '.log': 'text', '.pcap': 'pcap', '.pcapng': 'pcapng',
};
const SAME_FAMILY: Record<string, string> = { 'base64-text': 'text' };

export function nameOf(input: VerifyInput): string | undefined {
  return input.name ?? ('path' in input ? basename(input.path) : undefined);
}

/**
 * The verdict is by content; a name that says otherwise ("logs.zip" holding a PDF) is pointed out,
 * because the customer probably attached the wrong file or renamed instead of encrypting.
 */
export function noteNameMismatch(result: VerifyResult, name: string | undefined): VerifyResult {
  const extension = name ? extname(name).toLowerCase() : '';
  const expected = EXTENSION_FORMATS[extension];
  const found = SAME_FAMILY[result.format] ?? result.format;
  if (!expected || expected === found) return result;
  const note = `The name ends in ${extension} but this is not ${describe(expected)}.`;
  const advice = result.verdict === 'accept' ? result.advice : `${note} ${result.advice}`;
  return { ...result, details: { ...result.details, nameMismatch: { extension, expected, found: result.format } }, advice };
}

const DISPLAY: Record<string, string> = {
  pdf: 'a PDF document', png: 'a PNG image', jpeg: 'a JPEG image', gif: 'a GIF image', text: 'plain text',
  elf: 'an ELF program or core dump', 'windows-executable': 'a Windows program', 'ole-compound': 'an OLE2 compound file (e.g. an Office document)',
  openpgp: 'an OpenPGP file', 'openssl-enc': 'an openssl enc file', xz: 'an xz file',
};

function describe(format: string): string {
  return DISPLAY[format] ?? `a ${format} file`;
}

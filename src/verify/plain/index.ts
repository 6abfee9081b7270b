import { decide } from '../advice.js';
import type { Detector } from '../common/detector.js';
import { describe } from '../common/describe.js';
import type { ReasonCode, VerifyResult } from '../types.js';
import { textKind } from './text.js';

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
  {
    format: 'pcap',
    matches: (head) =>
      [
        [0xd4, 0xc3, 0xb2, 0xa1],
        [0xa1, 0xb2, 0xc3, 0xd4],
        [0x4d, 0x3c, 0xb2, 0xa1],
        [0xa1, 0xb2, 0x3c, 0x4d],
      ].some((m) => at(0, m)(head)),
  },
  { format: 'pcapng', matches: at(0, [0x0a, 0x0d, 0x0d, 0x0a]) },
  { format: 'elf', matches: at(0, [0x7f, 0x45, 0x4c, 0x46]) },
  { format: 'windows-executable', matches: isPortableExecutable },
  // Refused whether encrypted or not: see 'unsupported-format' in the reason table.
  { format: 'rar', matches: at(0, 'Rar!\x1a\x07'), reason: 'unsupported-format' },
  { format: 'ole-compound', matches: at(0, [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), reason: 'unsupported-format' },
];

/** The last detector: claims whatever the others did not, and names it. */
export const plainDetector: Detector = {
  format: 'plain',
  recognises: () => true,
  verify: async (source, head) => classifyPlain(head, source.size),
};

function classifyPlain(head: Buffer, size: number): VerifyResult {
  if (size === 0) return decide('empty', 'not-an-archive', { details: { bytes: 0 }, note: 'The file is empty.' });
  const signature = SIGNATURES.find((candidate) => candidate.matches(head));
  if (signature) return decide(signature.format, signature.reason ?? 'unencrypted', { details: { bytes: size }, note: `It is ${describe(signature.format)}.` });
  const text = textKind(head, size);
  if (text === 'text') return decide('text', 'unencrypted', { details: { bytes: size }, note: `It is ${describe('text')}.` });
  if (text === 'base64') {
    return decide('base64-text', 'not-an-archive', {
      details: { bytes: size },
      note: 'It is base64 text of unrecognised bytes (openssl enc -a -nosalt looks like this).',
    });
  }
  return decide('unknown', 'not-an-archive', { details: { bytes: size } });
}

function isPortableExecutable(head: Buffer): boolean {
  if (!at(0, 'MZ')(head) || head.length < 0x40) return false;
  const peOffset = head.readUInt32LE(0x3c);
  return at(peOffset, 'PE\0\0')(head);
}

import { basename, extname } from 'node:path';
import { describe } from './common/describe.js';
import type { VerifyInput, VerifyResult } from './types.js';

/** What a file name's extension promises; compared with what the content is. */
const EXTENSION_FORMATS: Record<string, string> = {
  '.zip': 'zip',
  '.7z': '7z',
  '.gpg': 'openpgp',
  '.pgp': 'openpgp',
  '.asc': 'openpgp',
  '.gz': 'gzip',
  '.tgz': 'gzip',
  '.bz2': 'bzip2',
  '.tbz2': 'bzip2',
  '.xz': 'xz',
  '.txz': 'xz',
  '.zst': 'zstd',
  '.tar': 'tar',
  '.pdf': 'pdf',
  '.png': 'png',
  '.jpg': 'jpeg',
  '.jpeg': 'jpeg',
  '.gif': 'gif',
  '.rar': 'rar',
  '.cab': 'cab',
  '.txt': 'text',
  '.log': 'text',
  '.pcap': 'pcap',
  '.pcapng': 'pcapng',
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

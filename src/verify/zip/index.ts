import { decide } from '../advice.js';
import type { Detector } from '../common/detector.js';
import type { ByteSource } from '../common/source.js';
import type { VerifyResult } from '../types.js';
import { parseCentralDirectory } from './central.js';
import { readDirectoryEnd } from './eocd.js';
import { judgeEntries } from './judge.js';
import { checkLocalHeaders } from './local.js';

// local header, empty archive (end record only), split-archive marker
const ZIP_MAGICS = [0x04034b50, 0x06054b50, 0x08074b50];

/**
 * ZIP: accepted only when every file entry is WinZip AES. Reads the end record, the central
 * directory and each local header — never the entries' data.
 */
export const zipDetector: Detector = {
  format: 'zip',
  recognises: (head) => head.length >= 4 && ZIP_MAGICS.includes(head.readUInt32LE(0)),
  verify: verifyZip,
};

async function verifyZip(source: ByteSource): Promise<VerifyResult> {
  const dir = await readDirectoryEnd(source);
  const cd = await source.read(dir.cdOffset, dir.cdSize);
  const entries = parseCentralDirectory(cd, dir.entries);
  const { reason, ...finding } = judgeEntries(entries);
  // Local headers can only turn an accept into a refusal (their encryption must match the
  // directory's), so a refusal from the directory alone is final and they are not read.
  if (reason === 'encrypted') await checkLocalHeaders(source, entries, dir.cdOffset);
  finding.details = { ...finding.details, zip64: dir.zip64, commentBytes: dir.commentLength };
  return decide('zip', reason, finding);
}

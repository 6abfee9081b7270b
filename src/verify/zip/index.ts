import { decide } from '../advice.js';
import type { Detector } from '../common/detector.js';
import type { ByteSource } from '../common/source.js';
import type { VerifyResult } from '../types.js';
import { parseCentralDirectory } from './central.js';
import { readDirectoryEnd } from './eocd.js';
import { judgeEntries } from './judge.js';
import { checkZipMap } from './map.js';

// local header, empty archive (end record only), split-archive marker
const ZIP_MAGICS = [0x04034b50, 0x06054b50, 0x08074b50];

/**
 * ZIP: accepted only when every file entry is WinZip AES and every byte of the file is accounted
 * for. Reads the end record and the central directory; for an archive that would be accepted, each
 * local header and the encrypted data too (once, through the randomness test).
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
  // The byte map can only turn an accept into a refusal, so a refusal from the directory alone is
  // final and neither the local headers nor the data are read.
  const mapped = reason === 'encrypted' ? await checkZipMap(source, dir, entries) : {};
  finding.details = { ...finding.details, zip64: dir.zip64, commentBytes: dir.commentLength, ...mapped };
  return decide('zip', reason, finding);
}

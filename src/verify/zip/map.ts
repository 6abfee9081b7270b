import { ByteMap, checkEncryptedRegions, refuse } from '../common/byte-map.js';
import { checkFreeText } from '../common/free-text.js';
import { malformed } from '../common/malformed.js';
import type { ByteSource } from '../common/source.js';
import { entryName, type CentralEntry } from './central.js';
import type { ZipDirectory } from './eocd.js';
import { checkExtraFields } from './extra-policy.js';
import { checkLocalHeaders } from './local.js';

const CENTRAL_HEADER = 46;
const ZIP64_RECORD = 56;
const LOCATOR = 20;
const EOCD = 22;

/**
 * The byte map of a zip whose directory says every file is AES-encrypted: local headers, entry data,
 * descriptors, the central directory, the end records and the comment must tile the file; every
 * comment and extra field must pass its rule; the data of every encrypted entry must look like
 * ciphertext. Throws (malformed or a map refusal) at the first thing that does not hold.
 */
export async function checkZipMap(source: ByteSource, dir: ZipDirectory, entries: CentralEntry[]): Promise<Record<string, unknown>> {
  const map = new ByteMap();
  for (const entry of entries) checkCentralFreeText(entry);
  await checkLocalHeaders(source, entries, dir.cdOffset, map);
  map.add(dir.cdOffset, dir.cdOffset + dir.cdSize, 'metadata', 'the central directory');
  if (dir.zip64Record) {
    const { offset, size } = dir.zip64Record;
    if (size !== ZIP64_RECORD) refuse('plaintext-metadata', `the ZIP64 end record at offset ${offset} carries ${size - ZIP64_RECORD} bytes of extensible data`);
    map.add(offset, offset + size, 'metadata', 'the ZIP64 end record');
    map.add(dir.eocdOffset - LOCATOR, dir.eocdOffset, 'metadata', 'the ZIP64 end locator');
  }
  map.add(dir.eocdOffset, dir.eocdOffset + EOCD, 'metadata', 'the end record');
  const comment = await source.read(dir.eocdOffset + EOCD, dir.commentLength);
  checkFreeText(comment, 'the archive comment');
  map.add(dir.eocdOffset + EOCD, source.size, 'metadata', 'the archive comment');
  const { encryptedBytes } = await checkEncryptedRegions(source, map.close(source.size));
  return { encryptedBytes, metadataBytes: source.size - encryptedBytes };
}

function checkCentralFreeText(entry: CentralEntry): void {
  const header = entry.nameOffset - CENTRAL_HEADER;
  const extraStart = entry.nameOffset + entry.nameLength;
  const extraEnd = extraStart + entry.cd.readUInt16LE(header + 30);
  const where = `the central header of entry ${entry.index} (${entryName(entry)})`;
  checkExtraFields(entry.cd.subarray(extraStart, extraEnd), where);
  checkFreeText(entry.cd.subarray(extraEnd, extraEnd + entry.cd.readUInt16LE(header + 32)), `the comment of entry ${entry.index}`);
  if (entry.aes && entry.compressedSize < 4 + 4 * entry.aes.strength + 12)
    malformed(`entry ${entry.index} is too short for its AES salt, password verifier and authentication code`);
}

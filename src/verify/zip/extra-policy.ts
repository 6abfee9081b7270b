import { isUtf8 } from 'node:buffer';
import { refuse } from '../common/byte-map.js';

/**
 * Extra fields of an archive about to be accepted: only records whose meaning and size are known
 * and bounded (sizes, AES parameters, timestamps, owner ids, a Unicode copy of the name) may
 * appear, each with the exact layout its definition gives (APPNOTE 4.5, Info-ZIP's extrafld.txt).
 * Any other record is bytes nobody checks, readable without the password: refused.
 */
const RULES: Readonly<Record<number, { name: string; ok: (data: Buffer) => boolean }>> = {
  0x0001: { name: 'ZIP64 sizes', ok: (d) => d.length <= 28 && d.length % 4 === 0 },
  0x9901: { name: 'WinZip AES', ok: (d) => d.length === 7 },
  // reserved 0, then one attribute: tag 1, 24 bytes of three FILETIMEs
  0x000a: { name: 'NTFS times', ok: (d) => d.length === 32 && d.readUInt32LE(0) === 0 && d.readUInt16LE(4) === 1 && d.readUInt16LE(6) === 24 },
  // flags, then up to three 4-byte times
  0x5455: { name: 'extended timestamp', ok: (d) => d.length >= 1 && d.length <= 13 && (d.length - 1) % 4 === 0 },
  // version 1, uid size and uid, gid size and gid (at most 8 bytes each)
  0x7875: { name: 'Unix owner', ok: unixOwner },
  0x5855: { name: 'old Unix times and owner', ok: (d) => d.length === 8 || d.length === 12 },
  // version 1, CRC of the header's name, the name in UTF-8: a second copy of a name, not free text
  0x7075: { name: 'Unicode path', ok: (d) => d.length >= 5 && d[0] === 1 && isUtf8(d.subarray(5)) },
};

export function checkExtraFields(field: Buffer, where: string): void {
  let pos = 0;
  while (pos + 4 <= field.length) {
    const id = field.readUInt16LE(pos);
    const data = field.subarray(pos + 4, pos + 4 + field.readUInt16LE(pos + 2));
    const rule = RULES[id];
    const label = `extra field 0x${id.toString(16).padStart(4, '0')}`;
    if (!rule) refuse('plaintext-metadata', `${where} has ${label}, ${data.length} bytes that no check knows the meaning of`);
    if (!rule.ok(data)) refuse('plaintext-metadata', `${where} has a ${rule.name} ${label} of ${data.length} bytes that does not have that field's layout`);
    pos += 4 + data.length;
  }
  // findExtra has already refused a record running past the field; a 1–3 byte tail is no record at all
  if (pos !== field.length) refuse('plaintext-metadata', `${where} has ${field.length - pos} bytes after its last extra field`);
}

function unixOwner(d: Buffer): boolean {
  if (d.length < 3 || d[0] !== 1) return false;
  const uid = d[1]!;
  const gid = d[2 + uid];
  return uid <= 8 && gid !== undefined && gid <= 8 && d.length === 3 + uid + gid;
}

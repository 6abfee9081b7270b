import { describe, expect, it } from 'vitest';
import { MapRefusal } from '../../src/verify/common/byte-map.js';
import { checkExtraFields } from '../../src/verify/zip/extra-policy.js';
import { fixtureBytes, readManifest } from './manifest.js';

const manifest = readManifest('zip');

/** Every extra field of every local and central header of a zip, straight from its bytes. */
function extraFields(zip: Buffer): Buffer[] {
  const fields: Buffer[] = [];
  for (let at = zip.indexOf('PK\x01\x02'); at >= 0; at = zip.indexOf('PK\x01\x02', at + 4)) {
    const n = zip.readUInt16LE(at + 28);
    fields.push(zip.subarray(at + 46 + n, at + 46 + n + zip.readUInt16LE(at + 30)));
    const local = zip.readUInt32LE(at + 42);
    const ln = zip.readUInt16LE(local + 26);
    fields.push(zip.subarray(local + 30 + ln, local + 30 + ln + zip.readUInt16LE(local + 28)));
  }
  return fields;
}

describe('the zip extra-field rule', () => {
  it('passes every extra field 7-Zip and Info-ZIP write (NTFS times, extended timestamp, Unix owner, ZIP64, AES)', () => {
    const files = ['aes256.zip', 'plain-infozip.zip', 'zip64-infozip.zip', 'zipcrypto-infozip.zip', 'plain-7zip.zip'];
    const ids = new Set<number>();
    for (const file of files) {
      for (const field of extraFields(
        fixtureBytes(
          'zip',
          manifest.find((entry) => entry.file === file)!,
        ).bytes,
      )) {
        expect(() => checkExtraFields(field, file)).not.toThrow();
        for (let pos = 0; pos + 4 <= field.length; pos += 4 + field.readUInt16LE(pos + 2)) ids.add(field.readUInt16LE(pos));
      }
    }
    expect([...ids].sort((a, b) => a - b)).toEqual([0x0001, 0x000a, 0x5455, 0x7875, 0x9901]);
  });

  it('refuses an unknown record, a known one with another layout, and a tail that is no record', () => {
    const record = (id: number, data: Buffer): Buffer => Buffer.concat([Buffer.from([id & 0xff, id >> 8, data.length & 0xff, data.length >> 8]), data]);
    for (const field of [
      record(0x6c6f, Buffer.from('a secret')),
      record(0x000a, Buffer.alloc(40)),
      record(0x7875, Buffer.from([1, 4, 0, 0, 0, 0, 9])),
      Buffer.from([1, 2]),
    ]) {
      expect(() => checkExtraFields(field, 'entry 0')).toThrow(MapRefusal);
    }
  });
});

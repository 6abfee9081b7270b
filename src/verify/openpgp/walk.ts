import { parseData, parseEsk, type DataInfo, type EskInfo } from './fields.js';
import type { MessageShape } from './policy.js';
import { refuse } from '../common/byte-map.js';
import { isMalformed, malformed } from '../common/malformed.js';
import { walkPackets, type RawPacket } from './packets.js';
import type { ByteReader } from './reader.js';

/**
 * Reads a message's packet sequence into the shape the policy judges. An encrypted message is
 * `[marker] ESK* encrypted-data [padding]` (RFC 9580 §10.3): it is walked to its end, so a
 * truncated or padded-out file is caught; anything else is decided by its first packet.
 */
const IGNORED = new Set([10, 21]); // marker, padding (its body is tested as random by the walker)
const MARKER = 10;
const MARKER_BODY = Buffer.from('PGP');
const ESK_TAGS = new Set([1, 3]);
const ENCRYPTED_DATA = new Set([9, 18, 20]);
const PLAIN_NAMES: Readonly<Record<number, string>> = {
  2: 'signature',
  4: 'one-pass signature',
  5: 'secret key',
  6: 'public key',
  8: 'compressed data',
  11: 'literal data',
  14: 'public subkey',
  7: 'secret subkey',
};

export async function readShape(reader: ByteReader): Promise<MessageShape> {
  const esks: EskInfo[] = [];
  let data: DataInfo | undefined;
  const packets = walkPackets(reader);
  for (let next = await afterData(packets, false); !next.done; next = await afterData(packets, data !== undefined)) {
    const packet = next.value;
    if (packet.tag === MARKER && !packet.head.equals(MARKER_BODY))
      refuse('plaintext-metadata', `a marker packet whose body is not "PGP" but ${packet.length} other bytes`);
    if (IGNORED.has(packet.tag)) continue;
    if (data) refuse('unaccounted-bytes', `a packet (tag ${packet.tag}) after the encrypted data, which ends the message`);
    if (ESK_TAGS.has(packet.tag)) esks.push(await parseEsk(packet));
    else if (ENCRYPTED_DATA.has(packet.tag)) data = await parseData(packet);
    else if (esks.length === 0) return { kind: 'plain', what: PLAIN_NAMES[packet.tag] ?? `packet tag ${packet.tag}` };
    else malformed(`packet tag ${packet.tag} after the session-key packets`);
  }
  if (esks.length === 0 && !data) malformed('no packets');
  return { kind: 'encrypted', esks, data };
}

/** The next packet; once the encrypted data has been read, bytes that are no packet are data after the message. */
async function afterData(packets: AsyncGenerator<RawPacket>, dataSeen: boolean): Promise<IteratorResult<RawPacket>> {
  try {
    return await packets.next();
  } catch (err) {
    if (dataSeen && isMalformed(err)) refuse('unaccounted-bytes', `bytes after the encrypted data that are no packet (${err.message})`);
    throw err;
  }
}

/** Whether the first bytes look like an OpenPGP packet that can start a message or a key block. */
export function looksLikePacket(head: Buffer, depth = 0): boolean {
  const octet = head[0];
  if (octet === undefined || (octet & 0x80) === 0) return false;
  const tag = octet & 0x40 ? octet & 0x3f : (octet >> 2) & 0x0f;
  const bodyStart = octet & 0x40 ? newHeaderLength(head[1]) : 1 + ([1, 2, 4, 0][octet & 0x03] ?? 0);
  const version = head[bodyStart];
  if (version === undefined) return false;
  // The version (or first field) of each packet that can open a message: random bytes rarely match.
  const firstOctets: Readonly<Record<number, readonly number[]>> = {
    1: [3, 6],
    3: [4, 5, 6],
    18: [1, 2],
    20: [1],
    2: [3, 4, 6],
    4: [3, 6],
    5: [4, 5, 6],
    6: [4, 5, 6],
    8: [0, 1, 2, 3],
    11: [0x62, 0x74, 0x75, 0x6c, 0x31, 0x6d],
    10: [0x50],
  };
  // SED (tag 9) has no version octet to check; real ones follow an SKESK, so a bare one is not claimed.
  if (firstOctets[tag]?.includes(version)) return true;
  // A marker (or padding) packet whose body is not what it should be: claimed when the packet after
  // it opens a message, so that the refusal says what is wrong with it.
  const length = octet & 0x40 ? head[1] : octet & 0x03 ? undefined : head[1];
  return (tag === 10 || tag === 21) && length !== undefined && length < 192 && depth < 2 && looksLikePacket(head.subarray(bodyStart + length), depth + 1);
}

function newHeaderLength(o1: number | undefined): number {
  if (o1 === undefined) return 2;
  if (o1 < 192 || (o1 >= 224 && o1 < 255)) return 2;
  return o1 === 255 ? 6 : 3;
}

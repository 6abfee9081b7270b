import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BufferPool } from '../../src/drive/buffer-pool.js';
import { decipherIntoPool } from '../../src/sftp/ssh-packets.js';

interface Info {
  keyLen: number;
  ivLen: number;
  len: number;
}
interface SshCrypto {
  bindingAvailable: boolean;
  CIPHER_INFO: Record<string, Info>;
  MAC_INFO: Record<string, Info>;
  createCipher(config: object): { allocPacket(n: number): Buffer; encrypt(packet: Buffer): void };
  createDecipher(config: object): { decrypt(data: Buffer, p: number, len: number): unknown };
}
const crypto = createRequire(import.meta.url)('ssh2/lib/protocol/crypto.js') as SshCrypto;
const pool = new BufferPool(34 << 10, 8);
decipherIntoPool(pool);

/** ssh2's own cipher and decipher for these algorithms, keyed alike: what the client sends, what the door reads */
function pair(cipher: string, mac: string | undefined, onPayload: (payload: Buffer) => void) {
  const cipherInfo = crypto.CIPHER_INFO[cipher]!;
  const macInfo = mac === undefined ? undefined : crypto.MAC_INFO[mac]!;
  const keys = { key: Buffer.alloc(cipherInfo.keyLen, 7), iv: Buffer.alloc(cipherInfo.ivLen, 9), mac: macInfo && Buffer.alloc(macInfo.len, 5) };
  const sent: Buffer[] = [];
  const out = crypto.createCipher({
    outbound: { onWrite: (p: Buffer) => sent.push(Buffer.from(p)), cipherInfo, cipherKey: keys.key, cipherIV: keys.iv, macInfo, macKey: keys.mac, seqno: 0 },
  });
  const send = (payload: Buffer) => {
    const packet = out.allocPacket(payload.length);
    payload.copy(packet, 5);
    out.encrypt(packet);
  };
  const decipher = crypto.createDecipher({
    inbound: { onPayload, decipherInfo: cipherInfo, decipherKey: keys.key, decipherIV: keys.iv, macInfo, macKey: keys.mac, seqno: 0 },
  });
  return { send, sent, decipher };
}

/** `stream` cut at the given points, each piece in a buffer of its own as socket reads come */
const cut = (stream: Buffer, points: number[]) =>
  [0, ...[...new Set(points.map((p) => p % stream.length))].sort((a, b) => a - b), stream.length]
    .map((p, i, all) => Buffer.from(stream.subarray(p, all[i + 1] ?? p)))
    .filter((b) => b.length > 0);

const algorithms = [
  ['aes128-ctr', 'hmac-sha2-256-etm@openssh.com'],
  ['aes128-gcm@openssh.com', undefined],
] as const;

describe.runIf(crypto.bindingAvailable)("SSH packets cut across socket reads put together in pooled buffers (ssh2's deciphers)", () => {
  it.each(algorithms)('%s: every payload arrives unchanged however the stream is cut; a cut packet lands in a pooled buffer', (cipher, mac) => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(1, 100, 5000, 32777, 34900), { minLength: 1, maxLength: 10 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        fc.boolean(),
        (sizes, points, giveBack) => {
          const received: Array<{ bytes: Buffer; pooled: boolean }> = [];
          const { send, sent, decipher } = pair(cipher, mac, (payload) => {
            received.push({ bytes: Buffer.from(payload), pooled: payload.buffer.byteLength === pool.size });
            // as the SFTP layer does once it copied the data: the next cut packet may reuse the buffer
            if (giveBack) pool.give(payload);
          });
          const payloads = sizes.map((n, i) => Buffer.alloc(n, i + 1));
          payloads.forEach(send);
          const packets = [...sent];
          const stream = Buffer.concat(packets);
          const pieces = cut(stream, points);
          for (const piece of pieces) decipher.decrypt(piece, 0, piece.length);
          expect(received.map((r) => r.bytes.toString('hex'))).toEqual(payloads.map((p) => p.toString('hex')));
          // ssh2 decrypts a packet in place where its encrypted length arrived in one read
          const bounds = pieces.map((_, i) => pieces.slice(0, i + 1).reduce((n, b) => n + b.length, 0));
          let at = 0;
          packets.forEach((p, i) => {
            const body = [at + 4, at + 4 + p.readUInt32BE(0)] as const;
            const cutInside = bounds.some((b) => b > body[0] && b < body[1]);
            expect(received[i]!.pooled).toBe(cutInside && body[1] - body[0] <= pool.size);
            at += p.length;
          });
        },
      ),
      { numRuns: 50 },
    );
  });

  it.each(algorithms)('%s: a packet altered on the way is still refused by ssh2', (cipher, mac) => {
    const { send, sent, decipher } = pair(cipher, mac, () => undefined);
    send(Buffer.alloc(32777, 1));
    const stream = Buffer.concat(sent);
    stream[100]! ^= 1;
    expect(() => {
      decipher.decrypt(stream.subarray(0, 1000), 0, 1000);
      decipher.decrypt(stream.subarray(1000), 0, stream.length - 1000);
    }).toThrow();
  });
});

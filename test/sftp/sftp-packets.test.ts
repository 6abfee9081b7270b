import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BufferPool } from '../../src/drive/buffer-pool.js';
import { pooledPush } from '../../src/sftp/sftp-packets.js';

type Push = (this: unknown, data: Buffer | null) => boolean | undefined;
interface SftpServer {
  push(data: Buffer | null): boolean | undefined;
  on(event: 'WRITE', fn: (id: number, handle: Buffer, offset: number, data: Buffer) => void): void;
  on(event: 'error', fn: (err: Error) => void): void;
}
const { SFTP } = createRequire(import.meta.url)('ssh2/lib/protocol/SFTP.js') as {
  SFTP: (new (client: unknown, chanInfo: unknown, cfg: unknown) => SftpServer) & { prototype: { push: Push } };
};

/** ssh2's own SFTP server parser, fed as its channel feeds it, with `push` wrapped as the door wraps it */
function sftpServer(pool: BufferPool, sshPackets?: BufferPool): { sftp: SftpServer; writes: Array<{ offset: number; data: Buffer }> } {
  const client = { _protocol: { _remoteIdentRaw: 'SSH-2.0-OpenSSH_9.6', channelData: () => undefined, channelClose: () => undefined } };
  const chanInfo = {
    type: 'session',
    incoming: { id: 0, window: 1 << 30, packetSize: 1 << 20, state: 'open' },
    outgoing: { id: 0, window: 1 << 30, packetSize: 1 << 20, state: 'open' },
  };
  const sftp = new SFTP(client, chanInfo, { server: true });
  sftp.push = pooledPush(SFTP.prototype.push, pool, sshPackets) as SftpServer['push'];
  const writes: Array<{ offset: number; data: Buffer }> = [];
  sftp.on('WRITE', (_id, _handle, offset, data) => writes.push({ offset, data }));
  return { sftp, writes };
}

const packet = (type: number, body: Buffer) => {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(body.length + 1);
  head[4] = type;
  return Buffer.concat([head, body]);
};
const init = () => packet(1, Buffer.from([0, 0, 0, 3]));
function write(id: number, offset: number, data: Buffer): Buffer {
  const body = Buffer.alloc(4 + 8 + 8 + 4);
  body.writeUInt32BE(id, 0);
  body.writeUInt32BE(4, 4);
  body.writeUInt32BE(7, 8);
  body.writeBigUInt64BE(BigInt(offset), 12);
  body.writeUInt32BE(data.length, 20);
  return packet(6, Buffer.concat([body, data]));
}
/** `stream` cut at the given points, each piece in a buffer of its own as the SSH layer hands them over */
const cut = (stream: Buffer, points: number[]) =>
  [0, ...[...new Set(points.map((p) => p % stream.length))].sort((a, b) => a - b), stream.length]
    .map((p, i, all) => Buffer.from(stream.subarray(p, all[i + 1] ?? p)))
    .filter((b) => b.length > 0);

describe('SFTP packets put together in pooled buffers (ssh2 SFTP.prototype.push wrapped)', () => {
  it('ssh2 sees every WRITE whole and unchanged, however the stream is cut; a cut 32 KiB WRITE lands in a pooled buffer', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(10, 100, 5000, 32768), { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        fc.integer({ min: 1, max: 255 }),
        (sizes, points, fill) => {
          const pool = new BufferPool(34 << 10, 8);
          const { sftp, writes } = sftpServer(pool);
          const datas = sizes.map((n, i) => Buffer.alloc(n, (fill + i) & 0xff));
          const packets = datas.map((d, i) => write(i, i * 40000, d));
          const stream = Buffer.concat([init(), ...packets]);
          const pieces = cut(stream, points);
          for (const piece of pieces) expect(sftp.push(piece)).not.toBe(false);
          expect(writes.map((w) => w.offset)).toEqual(datas.map((_, i) => i * 40000));
          writes.forEach((w, i) => expect(w.data.equals(datas[i]!)).toBe(true));
          // a WRITE of 32 KiB that arrived in more than one piece was put together in the pool
          let at = init().length;
          packets.forEach((p, i) => {
            const whole = pieces.some((piece) => piece.equals(stream.subarray(at, at + p.length)) || piece.includes(p));
            if (datas[i]!.length === 32768 && !whole) expect(writes[i]!.data.buffer.byteLength).toBe(pool.size);
            at += p.length;
          });
        },
      ),
    );
  });

  it('gives an SSH packet back to its pool once all its data was copied, never one ssh2 may still read', () => {
    /** pushes each piece as ssh2's decipher hands a packet over (in a buffer lent by the pool); counts those given back */
    const feed = (sftp: SftpServer, sshPackets: BufferPool, pieces: Buffer[], check: () => void) => {
      let given = 0;
      for (const piece of pieces) {
        const lent = sshPackets.take(piece.length);
        piece.copy(lent);
        expect(sftp.push(lent)).not.toBe(false);
        const next = sshPackets.take(1);
        if (next.buffer === lent.buffer) given++;
        // the pool lends it again at once: whatever ssh2 kept of it must not change
        new Uint8Array(next.buffer).fill(0xee);
        sshPackets.give(next);
        check();
      }
      return given;
    };
    fc.assert(
      fc.property(fc.array(fc.constantFrom(10, 100, 32768), { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 20 }), (sizes, points) => {
        const sshPackets = new BufferPool(34 << 10, 64);
        const { sftp, writes } = sftpServer(new BufferPool(34 << 10, 8), sshPackets);
        const datas = sizes.map((n, i) => Buffer.alloc(n, i + 1));
        const stream = Buffer.concat([init(), ...datas.map((d, i) => write(i, i * 40000, d))]);
        feed(sftp, sshPackets, cut(stream, points), () => writes.forEach((w, i) => expect(w.data.equals(datas[i]!)).toBe(true)));
        expect(writes.length).toBe(datas.length);
      }),
    );
    // OpenSSH's shape: 32 KiB WRITEs in SSH packets of 32 KiB, so each packet holds the end of one and the start of the next
    const sshPackets = new BufferPool(34 << 10, 64);
    const { sftp, writes } = sftpServer(new BufferPool(34 << 10, 8), sshPackets);
    const datas = Array.from({ length: 6 }, (_, i) => Buffer.alloc(32768, i + 1));
    const rest = Buffer.concat(datas.map((d, i) => write(i, i * 32768, d)));
    const pieces = [init(), ...Array.from({ length: Math.ceil(rest.length / 32768) }, (_, i) => rest.subarray(i * 32768, (i + 1) * 32768))];
    const given = feed(sftp, sshPackets, pieces, () => undefined);
    writes.forEach((w, i) => expect(w.data.equals(datas[i]!)).toBe(true));
    expect(given).toBe(pieces.length - 1);
  });

  it('a malformed length still reaches ssh2, which refuses it', () => {
    const { sftp } = sftpServer(new BufferPool(34 << 10, 8));
    const errors: string[] = [];
    sftp.on('error', (err) => errors.push(err.message));
    expect(sftp.push(init())).not.toBe(false);
    const huge = Buffer.alloc(8);
    huge.writeUInt32BE(1 << 30);
    expect(sftp.push(huge)).toBe(false);
    expect(errors.join()).toMatch(/exceeds max length/);
  });
});

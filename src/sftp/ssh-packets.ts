import { createRequire } from 'node:module';
import type { BufferPool } from '../drive/buffer-pool.js';

interface CipherInfo {
  sslName: string;
  keyLen: number;
  ivLen: number;
}
interface MacInfo {
  len: number;
}
interface Decipher {
  _len: number;
  _pktLen: number;
  free(): void;
}
interface SshCrypto {
  CIPHER_INFO: Record<string, CipherInfo>;
  MAC_INFO: Record<string, MacInfo>;
  createDecipher(config: object): Decipher;
}

/** ssh2's deciphers (native binding) that put an SSH packet cut across socket reads into `_packet` */
const POOLED_CLASSES = new Set(['GenericDecipherBinding', 'AESGCMDecipherBinding']);
const packet = Symbol('casedrop ssh packet');
const installed = new WeakSet<object>();

/**
 * ssh2 (1.x) decrypts an SSH packet in place where it arrived whole in one socket read, and
 * otherwise puts it together in a new `Buffer.allocUnsafe` of its length (`_packet`): with
 * OpenSSH's 32 KiB packets and Node's 64 KiB socket reads, about every second packet of an upload,
 * half a GiB of fresh ArrayBuffers per GiB, each counting towards V8's next full collection.
 *
 * This gives those deciphers a `_packet` accessor: where ssh2 finds no packet yet for a cut one (its
 * `if (!this._packet)` before allocating) it gets a buffer from `pool` of exactly that length
 * instead, and puts the packet together, checks and decrypts it as before. The buffer comes back
 * only through `pool.give`, which the SFTP layer calls once it copied all of a packet's data
 * (`sftp-packets.ts`); any other packet (SCP, a small request parsed in place, a failed MAC) is
 * simply collected, as ssh2's own buffer would be. Installed on ssh2's classes, once per process;
 * the JavaScript fallbacks (no native binding) are left as they are.
 */
export function decipherIntoPool(pool: BufferPool): void {
  const require = createRequire(import.meta.url);
  const crypto = require('ssh2/lib/protocol/crypto.js') as SshCrypto;
  for (const [cipher, mac] of [
    ['aes128-ctr', 'hmac-sha2-256-etm@openssh.com'],
    ['aes128-gcm@openssh.com', undefined],
  ] as const) {
    const proto = decipherPrototype(crypto, cipher, mac);
    if (!POOLED_CLASSES.has((proto.constructor as { name: string }).name) || installed.has(proto)) continue;
    installed.add(proto);
    Object.defineProperty(proto, '_packet', pooledPacketProperty(pool));
  }
}

/** The prototype of the decipher class ssh2 picks for these algorithms, from a throwaway instance. */
function decipherPrototype(crypto: SshCrypto, cipher: string, mac: string | undefined): object {
  const decipherInfo = crypto.CIPHER_INFO[cipher]!;
  const macInfo = mac === undefined ? undefined : crypto.MAC_INFO[mac]!;
  const instance = crypto.createDecipher({
    inbound: {
      onPayload: () => undefined,
      decipherInfo,
      decipherKey: Buffer.alloc(decipherInfo.keyLen),
      decipherIV: Buffer.alloc(decipherInfo.ivLen),
      macInfo,
      macKey: macInfo && Buffer.alloc(macInfo.len),
      seqno: 0,
    },
  });
  instance.free();
  return Object.getPrototypeOf(instance) as object;
}

/** `_packet` as ssh2 uses it, except that the buffer for a cut packet is lent by `pool`. */
function pooledPacketProperty(pool: BufferPool): PropertyDescriptor {
  return {
    configurable: true,
    get(this: Decipher & { [packet]?: Uint8Array | null }) {
      const current = this[packet];
      // no packet yet and part of one read: ssh2 is about to allocate its length
      if (current == null && this._pktLen === 0 && this._len > 0 && this._len <= pool.size) return (this[packet] = pool.take(this._len));
      return current ?? null;
    },
    set(this: { [packet]?: Uint8Array | null }, value: Uint8Array | null) {
      this[packet] = value;
    },
  };
}

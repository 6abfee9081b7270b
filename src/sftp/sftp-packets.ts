import { createRequire } from 'node:module';
import type { BufferPool } from '../drive/buffer-pool.js';

type Push = (this: SftpChannel, data: Buffer | null) => boolean | undefined;
interface SftpChannel {
  _maxInPktLen?: number;
  [assembly]?: Assembly;
}
interface Assembly {
  /** the packet being put together (length prefix included), and how much of it arrived */
  packet?: Buffer;
  filled: number;
  /** a length prefix cut between two SSH packets */
  prefix: Buffer;
  prefixLen: number;
  /** bytes to hand to ssh2 as they come: a packet it puts together itself */
  through: number;
}

const assembly = Symbol('casedrop sftp assembly');
/** below this, a packet cut in two is left to ssh2: small requests, where a copy costs nothing */
const POOLED_FROM = 4096;
const OPENSSH_MAX_PACKET = 256 << 10;

/**
 * ssh2's SFTP layer (ssh2 1.x, `SFTP.prototype.push`) copies every SFTP packet that arrives in two
 * SSH packets into a new buffer, and every 32 KiB WRITE from OpenSSH does (its SSH packets carry
 * 32 KiB; the WRITE is 29 bytes longer). This wraps `push` so that such packets are put together
 * in `pool`'s buffers, which the upload gives back once the store copied them, and handed to ssh2
 * whole, which it parses in place: its own checks and dispatch stay as they are. Small packets,
 * packets too long for a pooled buffer and malformed ones go through to ssh2 as they come.
 * Installed on ssh2's prototype, once per process (an in-process ssh2 SFTP client gets it too).
 */
export function assembleSftpPacketsIn(pool: BufferPool, sshPackets?: BufferPool): void {
  const require = createRequire(import.meta.url);
  const { SFTP } = require('ssh2/lib/protocol/SFTP.js') as { SFTP: { prototype: { push: Push } } };
  if (wrapped.has(SFTP.prototype.push)) return;
  SFTP.prototype.push = pooledPush(SFTP.prototype.push, pool, sshPackets);
}

const wrapped = new WeakSet<Push>();

/**
 * `push` of one SFTP channel: hands `original` the same bytes in the same order, whole packets where
 * it can. When none of `data` went to `original` as it came (all copied), nothing refers to it any
 * more, and it is given back to `sshPackets` (a no-op unless that pool lent it: `ssh-packets.ts`).
 */
export function pooledPush(original: Push, pool: BufferPool, sshPackets?: BufferPool): Push {
  const push: Push = function (this: SftpChannel, data) {
    if (data === null) return original.call(this, null);
    let viewed = false;
    const state = (this[assembly] ??= { filled: 0, prefix: Buffer.alloc(4), prefixLen: 0, through: 0 });
    const max = this._maxInPktLen ?? OPENSSH_MAX_PACKET;
    const pooled = (length: number) => length >= POOLED_FROM && length <= max && 4 + length <= pool.size;
    for (let p = 0; p < data.length;) {
      if (state.through > 0) {
        const n = Math.min(state.through, data.length - p);
        state.through -= n;
        viewed = true;
        if (original.call(this, data.subarray(p, (p += n))) === false) return stop(state);
      } else if (state.packet) {
        const n = data.copy(state.packet, state.filled, p, Math.min(data.length, p + state.packet.length - state.filled));
        p += n;
        state.filled += n;
        if (state.filled < state.packet.length) break; // all of data copied
        const whole = state.packet;
        state.packet = undefined;
        if (original.call(this, whole) === false) return stop(state);
      } else if (state.prefixLen > 0 || data.length - p < 4) {
        // a length prefix cut in two: its packet is cut too
        const n = data.copy(state.prefix, state.prefixLen, p, Math.min(data.length, p + 4 - state.prefixLen));
        p += n;
        state.prefixLen += n;
        if (state.prefixLen < 4) continue;
        state.prefixLen = 0;
        const length = state.prefix.readUInt32BE(0);
        if (pooled(length)) {
          state.packet = pool.take(4 + length);
          state.filled = state.prefix.copy(state.packet);
        } else {
          state.through = length;
          if (original.call(this, Buffer.from(state.prefix)) === false) return stop(state);
        }
      } else {
        const length = data.readUInt32BE(p);
        // whole here (parsed in place), malformed (ssh2 reports it) or small: as it comes
        if (data.length - p >= 4 + length || !pooled(length)) state.through = 4 + length;
        else {
          state.packet = pool.take(4 + length);
          state.filled = 0;
        }
      }
    }
    if (!viewed) sshPackets?.give(data);
    return undefined;
  };
  wrapped.add(push);
  return push;
}

/** After ssh2 found a fatal error in the stream, everything else goes to it as it comes, as before. */
function stop(state: Assembly): false {
  state.packet = undefined;
  state.through = Infinity;
  return false;
}

// Misbehaving SMTP clients for the fault tests (test/faults/slow-clients.test.ts): raw sockets that
// can come from any loopback address (127.0.0.2, 127.0.0.3 … are all this host on Linux, so per-IP
// limits can be tested from one machine), trickle a byte at a time, sit idle, or vanish mid-DATA.
import { createConnection } from 'node:net';

/** Connects from `localAddress` (default: the kernel's choice). Resolves once connected. */
export function connectRaw({ port, host = '127.0.0.1', localAddress } = {}) {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host, port, ...(localAddress ? { localAddress } : {}) });
    socket.setNoDelay(true);
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(new RawClient(socket));
    });
  });
}

class RawClient {
  constructor(socket) {
    this.socket = socket;
    this.text = '';
    this.openedAt = performance.now();
    this.closedAt = undefined;
    this.waiters = new Set();
    socket.on('data', (d) => {
      this.text += d.toString('latin1');
      this.#wake();
    });
    // an error (e.g. ECONNRESET from a server that hung up) ends the session like a close
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.closedAt = performance.now();
        this.#wake();
        resolve(this.closedAt);
      }),
    );
  }

  get isClosed() {
    return this.closedAt !== undefined;
  }

  #wake() {
    for (const w of [...this.waiters]) w();
  }

  /**
   * Resolves with the match once everything received so far matches `pattern` (anything with an
   * exec(text) method); rejects when the connection closes without a match or after `timeoutMs`.
   */
  waitFor(pattern, timeoutMs = 10_000) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = pattern.exec(this.text);
        if (m) return done(() => resolve(m));
        if (this.isClosed) return done(() => reject(new Error(`closed before ${pattern}; got ${JSON.stringify(this.text.slice(-300))}`)));
        return undefined;
      };
      const timer = setTimeout(
        () => done(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms; got ${JSON.stringify(this.text.slice(-300))}`))),
        timeoutMs,
      );
      const done = (settle) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        settle();
      };
      this.waiters.add(check);
      check();
    });
  }

  /**
   * The next complete reply not yet taken (multi-line replies whole), e.g. '250 2.0.0 ok'; rejects
   * like waitFor when none comes.
   */
  async nextReply(timeoutMs = 10_000) {
    const from = this.taken ?? 0;
    const end = /^\d{3} [^\r\n]*\r\n/m;
    const m = await this.waitFor({ exec: (text) => end.exec(text.slice(from)), toString: () => 'a complete reply' }, timeoutMs);
    const upTo = from + m.index + m[0].length;
    this.taken = upTo;
    return this.text.slice(from, upTo).trimEnd();
  }

  write(bytes) {
    return new Promise((resolve, reject) => {
      if (this.isClosed || this.socket.destroyed) {
        reject(new Error('connection closed'));
        return;
      }
      this.socket.write(bytes, (err) => (err ? reject(err) : resolve()));
    });
  }

  /**
   * Slow-loris: writes `text` one byte every `intervalMs` (then starts over) until stop() or the
   * server hangs up. `sent` counts the bytes written.
   */
  trickle(text, intervalMs) {
    const bytes = Buffer.from(text, 'latin1');
    const handle = { sent: 0, stop: () => clearInterval(timer) };
    const timer = setInterval(() => {
      if (this.isClosed || this.socket.destroyed) return handle.stop();
      this.socket.write(bytes.subarray(handle.sent % bytes.length, (handle.sent % bytes.length) + 1));
      handle.sent++;
    }, intervalMs);
    this.closed.then(handle.stop);
    return handle;
  }

  /** Hangs up without QUIT (a reset: the way a crashed or cut-off client disappears). */
  destroy() {
    this.socket.resetAndDestroy();
  }
}

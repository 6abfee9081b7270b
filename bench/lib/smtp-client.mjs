// A minimal raw SMTP client: no pipelining, no TLS, nothing hidden. Used by the benchmark's latency
// probe (it timestamps the moment the final ".\r\n" is handed to the kernel and the moment the reply
// arrives) and by the hostile-input replays, which must send exactly the bytes they were given.
import { createConnection } from 'node:net';
import { readFileSync } from 'node:fs';

export class SmtpReplyTimeout extends Error {}

/**
 * Opens a session; resolves after the greeting (or right after connecting with `greeting: false`,
 * for early-talker tests: read it later with reply()). `replyTimeoutMs` bounds every wait for a reply.
 */
export async function openSession({ host = '127.0.0.1', port, replyTimeoutMs = 60_000, greeting = true }) {
  const socket = createConnection({ host, port });
  socket.setNoDelay(true);
  const session = new Session(socket, replyTimeoutMs);
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  if (greeting) session.greeting = await session.reply();
  return session;
}

class Session {
  constructor(socket, replyTimeoutMs) {
    this.socket = socket;
    this.replyTimeoutMs = replyTimeoutMs;
    this.buffer = '';
    this.replies = []; // complete replies not yet taken
    this.waiter = null;
    this.closed = false;
    socket.on('data', (d) => this.#onData(d));
    socket.on('close', () => {
      this.closed = true;
      this.#wake();
    });
    socket.on('error', () => {
      this.closed = true;
      this.#wake();
    });
  }

  #onData(chunk) {
    this.buffer += chunk.toString('latin1');
    let current = this.pending ?? [];
    let nl;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).replace(/\r$/, '');
      this.buffer = this.buffer.slice(nl + 1);
      current.push(line);
      // "250-..." continues a multi-line reply, "250 ..." ends it (RFC 5321 §4.2.1)
      if (!/^\d{3}-/.test(line)) {
        this.replies.push({ code: Number(line.slice(0, 3)) || 0, lines: current, at: performance.now() });
        current = [];
      }
    }
    this.pending = current;
    this.#wake();
  }

  #wake() {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  /** The next complete reply, or { code: 0, closed: true } if the server hung up first. */
  async reply(timeoutMs = this.replyTimeoutMs) {
    const deadline = Date.now() + timeoutMs;
    while (this.replies.length === 0) {
      if (this.closed) return { code: 0, lines: [], closed: true, at: performance.now() };
      const left = deadline - Date.now();
      if (left <= 0) throw new SmtpReplyTimeout(`no SMTP reply within ${timeoutMs} ms`);
      await new Promise((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    return this.replies.shift();
  }

  /** Writes raw bytes; resolves when they were handed to the kernel (timestamp in ms). */
  write(bytes) {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(new Error('connection closed'));
        return;
      }
      this.socket.write(bytes, (err) => (err ? reject(err) : resolve(performance.now())));
    });
  }

  async command(line) {
    await this.write(`${line}\r\n`);
    return this.reply();
  }

  /**
   * One transaction with an already dot-stuffed CRLF body (see wireBody). Returns the final reply
   * with latencyMs = end of DATA written → reply received.
   */
  async sendMessage({ from, to, body }) {
    for (const [line, want] of [
      [`MAIL FROM:<${from}>`, 2],
      [`RCPT TO:<${to}>`, 2],
      ['DATA', 3],
    ]) {
      const r = await this.command(line);
      if (Math.floor(r.code / 100) !== want) return { ...r, stage: line.split(/[ :]/)[0] };
    }
    await this.write(body);
    const sentAt = await this.write('.\r\n');
    const r = await this.reply();
    return { ...r, stage: 'DATA-END', latencyMs: r.at - sentAt };
  }

  async quit() {
    if (!this.closed) await this.command('QUIT').catch(() => undefined);
    this.socket.destroy();
  }

  destroy() {
    this.socket.destroy();
  }
}

/**
 * Exact message bytes → what to send after DATA: only dot-stuffing (after CRLF, and at the start)
 * and a final CRLF if missing. Bare CR and LF stay as they are: hostile items depend on them.
 */
export function stuffRaw(bytes) {
  const text = Buffer.from(bytes).toString('latin1');
  const stuffed = text.replace(/(^|\r\n)\./g, '$1..');
  return Buffer.from(stuffed.length === 0 || stuffed.endsWith('\r\n') ? stuffed : `${stuffed}\r\n`, 'latin1');
}

/** A message file with LF or CRLF line ends → the bytes to send after DATA (CRLF, dot-stuffed, ending in CRLF). */
export function wireBody(path) {
  const text = readFileSync(path).toString('latin1').replace(/\r?\n/g, '\r\n');
  const stuffed = text.replace(/(^|\r\n)\./g, '$1..');
  return Buffer.from(stuffed.endsWith('\r\n') ? stuffed : `${stuffed}\r\n`, 'latin1');
}

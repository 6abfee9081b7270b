import { sleep } from '../../../bench/lib/procs.mjs';
import { openSession, type SmtpSession } from '../../../bench/lib/smtp-client.mjs';
import { INTAKE, SENDER, type Message } from './mail.js';

export { makeRng } from '../../helpers/rng.js';

/**
 * The client side of every fault test: a real SMTP client (bench/lib/smtp-client.mjs) sends the
 * messages and writes down each attempt and the reply it got — the ledger that ./judge.ts holds the
 * data dir against.
 */
export interface Attempt {
  n: number;
  messageId: string;
  try: number;
  /** performance.now() when the transaction began / its last reply came */
  startedAt: number;
  repliedAt: number;
  /** 0: no reply (connection lost, timed out) */
  code: number;
  /** the enhanced status code from the reply text, e.g. 4.3.1 */
  enhanced?: string;
  /** where the transaction ended: greeting, EHLO, MAIL, RCPT, DATA, DATA-END, connect or timeout */
  stage: string;
  text: string;
  /** the body went out after a 354: from here on a copy may exist, whatever the reply */
  bodySent: boolean;
  /** from `250 2.0.0 queued as <id>`: the spool id, which names every object of the message */
  spoolId?: string;
}

export interface SendOptions {
  port: number;
  messages: readonly Message[];
  /** parallel sessions */
  sessions: number;
  /** how many messages a session carries before QUIT, as an MTA reuses a connection (default 1) */
  perSession?: () => number;
  /**
   * Like an MTA's queue: a message that got a 4xx or no reply is tried again after `delayMs`, until
   * `deadlineMs` after the start. Without it every message is sent exactly once — a retry would be
   * a second message as far as a kill test's ledger is concerned.
   */
  retry?: { delayMs: number; deadlineMs: number };
  /**
   * While the door is down (refused, 421 greeting) keep trying to connect, this long (default 60 s);
   * 0: a refused greeting is the message's attempt (a test that expects the door to turn it away).
   */
  connectTimeoutMs?: number;
  replyTimeoutMs?: number;
  /** called after every attempt, e.g. to trigger the fault at the right moment */
  onAttempt?: (a: Attempt) => void;
}

/**
 * Sends every message, `sessions` at a time. A session is only opened (and retried while the door
 * is down) before a message is taken, so a refused connection never consumes a message. Returns
 * every attempt in the order the replies came.
 */
export async function send(o: SendOptions): Promise<Attempt[]> {
  const ledger: Attempt[] = [];
  const queue = o.messages.map((m) => ({ m, tries: 0 }));
  const deadline = performance.now() + (o.retry?.deadlineMs ?? 0);
  /** messages sitting out their retry delay: the clients must not stop while there are any */
  let waiting = 0;
  const retryLater = (item: (typeof queue)[number], delayMs: number) => {
    waiting++;
    void sleep(delayMs).then(() => {
      waiting--;
      queue.push(item);
    });
  };
  const client = async (): Promise<void> => {
    for (;;) {
      if (queue.length === 0) {
        if (waiting === 0) return;
        await sleep(10);
        continue;
      }
      const startedAt = performance.now();
      const s = await connect(o.port, o.connectTimeoutMs ?? 60_000, o.replyTimeoutMs ?? 30_000);
      if (isRefusal(s)) {
        const item = queue.shift();
        if (!item) continue;
        const a = { n: item.m.n, messageId: item.m.messageId, try: ++item.tries, startedAt, bodySent: false };
        ledger.push(attempt(a, s.code, s.stage, s.lines));
        o.onAttempt?.(ledger.at(-1)!);
        if (o.retry && s.code < 500 && performance.now() < deadline) retryLater(item, o.retry.delayMs);
        continue;
      }
      let budget = o.perSession?.() ?? 1;
      let alive = true;
      for (let item = queue.shift(); item; item = budget > 0 && alive ? queue.shift() : undefined) {
        budget--;
        const a = await transaction(s, item.m, ++item.tries);
        ledger.push(a);
        o.onAttempt?.(a);
        alive = a.code !== 0 && a.code !== 421;
        const temporary = a.code === 0 || (a.code >= 400 && a.code < 500);
        if (o.retry && temporary && performance.now() < deadline) retryLater(item, o.retry.delayMs);
      }
      if (alive) await s.quit().catch(() => undefined);
      else s.destroy();
    }
  };
  await Promise.all(Array.from({ length: o.sessions }, client));
  return ledger;
}

/** One session, one transaction, QUIT: the single sends of the disk-full and slow-client tests. */
export async function sendOnce(port: number, m: Message, replyTimeoutMs = 30_000): Promise<Attempt> {
  const [a] = await send({ port, messages: [m], sessions: 1, replyTimeoutMs, connectTimeoutMs: 0 });
  return a!;
}

interface Refusal {
  code: number;
  stage: string;
  lines: string[];
}

const isRefusal = (s: SmtpSession | Refusal): s is Refusal => !('command' in s);

/**
 * A session past EHLO; while the door is down (refused, 421, hung up) it tries again until
 * `timeoutMs` — with 0, the refusal itself is returned.
 */
async function connect(port: number, timeoutMs: number, replyTimeoutMs: number): Promise<SmtpSession | Refusal> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    let refusal: Refusal = { code: 0, stage: 'connect', lines: ['connection refused'] };
    const s = await openSession({ port, replyTimeoutMs }).catch(() => undefined);
    if (s?.greeting && s.greeting.code !== 220) refusal = { code: s.greeting.code, stage: 'greeting', lines: s.greeting.lines };
    else if (s) {
      const ehlo = await s.command('EHLO client.faults.test').catch(() => undefined);
      if (ehlo?.code === 250) return s;
      refusal = { code: ehlo?.code ?? 0, stage: 'EHLO', lines: ehlo?.lines ?? [] };
    }
    s?.destroy();
    if (timeoutMs === 0) return refusal;
    if (performance.now() > deadline) throw new Error(`SMTP door on ${port} did not come back within ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** One transaction on an open session; never throws (a lost connection is an attempt with code 0). */
async function transaction(s: SmtpSession, m: Message, tryNo: number): Promise<Attempt> {
  const base = { n: m.n, messageId: m.messageId, try: tryNo, startedAt: performance.now(), bodySent: false };
  let stage = 'MAIL';
  try {
    for (const [line, want] of [
      [`MAIL FROM:<${SENDER}>`, 2],
      [`RCPT TO:<${INTAKE}>`, 2],
      ['DATA', 3],
    ] as const) {
      stage = line.split(/[ :]/)[0]!;
      const r = await s.command(line);
      if (r.closed || Math.floor(r.code / 100) !== want) return attempt(base, r.closed ? 0 : r.code, stage, r.lines);
    }
    base.bodySent = true;
    stage = 'DATA-END';
    await s.write(m.wire);
    await s.write('.\r\n');
    const r = await s.reply();
    return attempt(base, r.closed ? 0 : r.code, stage, r.lines);
  } catch (err) {
    // a write into a reset connection, or no reply in time: the client cannot know what happened
    return { ...base, repliedAt: performance.now(), code: 0, stage, text: String((err as Error).message) };
  }
}

function attempt(base: Omit<Attempt, 'repliedAt' | 'code' | 'stage' | 'text'>, code: number, stage: string, lines: string[]): Attempt {
  const text = lines.join(' | ');
  const enhanced = /^\d{3}[ -]([245]\.\d{1,3}\.\d{1,3}) /.exec(lines.at(-1) ?? '')?.[1];
  const spoolId = code === 250 && stage === 'DATA-END' ? /queued as ([0-9A-Za-z]+)/.exec(text)?.[1] : undefined;
  return { ...base, repliedAt: performance.now(), code, stage, text, ...(enhanced ? { enhanced } : {}), ...(spoolId ? { spoolId } : {}) };
}

/** messageId → spool id of the 250 it got (a message answered 250 twice shows up in `twice`). */
export function acceptedByMessage(ledger: readonly Attempt[]): { accepted: Map<string, string>; twice: string[] } {
  const accepted = new Map<string, string>();
  const twice: string[] = [];
  for (const a of ledger) {
    if (a.code !== 250 || !a.spoolId) continue;
    if (accepted.has(a.messageId)) twice.push(a.messageId);
    accepted.set(a.messageId, a.spoolId);
  }
  return { accepted, twice };
}

/** "451 4.3.0 ×12, 250 2.0.0 ×300": a compact tally for failure messages and the report. */
export function tally(ledger: readonly Attempt[]): string {
  const counts = new Map<string, number>();
  for (const a of ledger) {
    const k = `${a.code}${a.enhanced ? ` ${a.enhanced}` : ''}${a.code === 0 ? ` (${a.stage})` : ''}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts].map(([k, v]) => `${k} ×${v}`).join(', ');
}

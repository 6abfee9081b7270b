import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import MailComposer from 'nodemailer/lib/mail-composer';
import { sleep } from '../../../bench/lib/procs.mjs';
import { openSession, stuffRaw, type SmtpSession } from '../../../bench/lib/smtp-client.mjs';
import { loadConfig } from '../../../src/config/load.js';
import { outcomeSchema, type Outcome } from '../../../src/jobs/records.js';
import { createLogger } from '../../../src/log.js';
import { openStore } from '../../../src/store/open.js';
import type { ObjectStore } from '../../../src/store/types.js';
import { DOMAIN, INTAKE, SENDER } from './ledger.js';

/**
 * The kill tests' client and judge (the other half of the fault harness is ./ledger.ts, one
 * connection per attempt, and ./verify.ts). The client sends numbered messages (each with its own
 * Message-ID) over several sessions, a session's messages back to back as an MTA does, and writes
 * down what each one got back; the audit then reads the store, the outbox and the spool and holds
 * them against that ledger: a 250 means exactly one complete copy, a refusal means nothing at all, a
 * connection lost after the body means one or the other — never a part of a message.
 */
const zipFixture = join(import.meta.dirname, '../../../fixtures/archives/zip/aes256.zip');

/** mulberry32: small, seedable, good enough to pick kill moments and session lengths. */
export function makeRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Fate = 'queued' | 'refused-4xx' | 'refused-5xx' | 'lost';

export interface Entry {
  n: number;
  caseNumber: string;
  messageId: string;
  /** the door answered DATA with 354 and the body went out: from here on a copy may exist */
  bodySent: boolean;
  fate?: Fate;
  code?: number;
  /** from `250 … queued as <id>`: the spool id, which names every object of the message */
  queueId?: string;
}

export const messageIdOf = (tag: string, n: number): string => `<${tag}-${n}@${DOMAIN}>`;
const bare = (id: string | undefined): string => (id ?? '').trim().replace(/^<|>$/g, '');

/**
 * About `wireBytes` on the wire: a text part (which becomes the case note) and the AES zip fixture.
 * Composed once per size; each message differs only in its Message-ID (and so in its case's objects).
 */
export async function composeMessage(e: Pick<Entry, 'caseNumber' | 'messageId'>, wireBytes = 10 * 1024): Promise<Buffer> {
  const key = `${e.caseNumber}/${wireBytes}`;
  let template = templates.get(key);
  if (!template) templates.set(key, (template = await composeTemplate(e.caseNumber, wireBytes)));
  return stuffRaw(Buffer.from(template.replace(PLACEHOLDER, e.messageId), 'latin1'));
}

const PLACEHOLDER = `<message-id-placeholder@${DOMAIN}>`;
const templates = new Map<string, string>();

async function composeTemplate(caseNumber: string, wireBytes: number): Promise<string> {
  const zip = readFileSync(zipFixture);
  const base64 = Math.ceil(zip.length / 3) * 4 * (78 / 76);
  const lines = Math.max(1, Math.floor((wireBytes - base64 - 600) / 72));
  const text = Array.from({ length: lines }, (_, i) => `diagnostic line ${String(i).padStart(4, '0')}`.padEnd(70, '.')).join('\r\n');
  const raw = await new MailComposer({
    from: SENDER,
    to: INTAKE,
    subject: `Case ${caseNumber}`,
    messageId: PLACEHOLDER,
    text: `Diagnostics attached, password sent separately.\r\n${text}\r\n`,
    attachments: [{ filename: 'diagnostics.zip', content: zip, contentType: 'application/zip' }],
  })
    .compile()
    .build();
  return raw.toString('latin1');
}

export interface SendOptions {
  port: number;
  entries: Entry[];
  sessions: number;
  /** each session sends 1..maxPerSession messages before QUIT (a lost connection ends it early) */
  maxPerSession: number;
  rng: () => number;
  wireBytes?: number;
  /** give up waiting for the door to come back after this long */
  connectTimeoutMs?: number;
}

/**
 * Sends every entry once. A session is only opened (and retried while the door is down) before a
 * message is taken, so a refused connection never consumes a message; once taken, a message is
 * never sent again — a retry would be a second message as far as the ledger is concerned.
 */
export async function sendAll(o: SendOptions): Promise<void> {
  let next = 0;
  const take = (): Entry | undefined => o.entries[next++];
  const client = async (): Promise<void> => {
    while (next < o.entries.length) {
      const s = await connect(o.port, o.connectTimeoutMs ?? 60_000);
      let budget = 1 + Math.floor(o.rng() * o.maxPerSession);
      let alive = true;
      while (alive && budget-- > 0) {
        const e = take();
        if (!e) break;
        alive = await sendOne(s, e, await composeMessage(e, o.wireBytes));
      }
      if (alive) await s.quit().catch(() => undefined);
      else s.destroy();
    }
  };
  await Promise.all(Array.from({ length: o.sessions }, client));
}

/** A session past EHLO; while the door is down (refused, 421, hung up) it tries again. */
async function connect(port: number, timeoutMs: number): Promise<SmtpSession> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await openSession({ port, replyTimeoutMs: 30_000 }).catch(() => undefined);
    if (s && s.greeting?.code === 220) {
      const ehlo = await s.command('EHLO client.faults.test').catch(() => undefined);
      if (ehlo?.code === 250) return s;
    }
    s?.destroy();
    if (Date.now() > deadline) throw new Error(`SMTP door on ${port} did not come back within ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** One transaction; records its fate. Returns false when the connection is gone. */
async function sendOne(s: SmtpSession, e: Entry, body: Buffer): Promise<boolean> {
  try {
    for (const [line, want] of [
      [`MAIL FROM:<${SENDER}>`, 2],
      [`RCPT TO:<${INTAKE}>`, 2],
      ['DATA', 3],
    ] as const) {
      const r = await s.command(line);
      if (r.closed) return lost(e);
      if (Math.floor(r.code / 100) !== want) return refused(e, r.code);
    }
    e.bodySent = true;
    await s.write(body);
    await s.write('.\r\n');
    const r = await s.reply();
    if (r.closed) return lost(e);
    if (r.code !== 250) return refused(e, r.code);
    // a 250 without `queued as <id>` keeps queueId unset: the audit then reports it as misfiled
    Object.assign(e, { fate: 'queued', code: 250, queueId: /queued as (\S+)/.exec(r.lines.join(' '))?.[1] });
    return true;
  } catch {
    // a write into a reset connection, or no reply in time: the client cannot know what happened
    return lost(e);
  }
}

function lost(e: Entry): false {
  e.fate = 'lost';
  return false;
}

function refused(e: Entry, code: number): boolean {
  Object.assign(e, { fate: code >= 500 ? 'refused-5xx' : 'refused-4xx', code });
  // after a 421 the door hangs up; other refusals leave the session usable
  return code !== 421;
}

export function tally(entries: Entry[]): Record<Fate | 'unsent', number> {
  const t = { queued: 0, 'refused-4xx': 0, 'refused-5xx': 0, lost: 0, unsent: 0 };
  for (const e of entries) t[e.fate ?? 'unsent']++;
  return t;
}

/** What the data dir holds for one message (by Message-ID), each object named by its spool id. */
interface Holdings {
  outcomes: Outcome[];
  files: { id: string; spoolId: string }[];
  notes: { id: string; spoolId: string }[];
  spool: string[];
  /** outbox `*-sender.eml` files whose In-Reply-To names the message */
  receipts: string[];
}

/**
 * lost: a 250 without its complete copy; duplicate: more than one copy, file, note or receipt;
 * half: a message without a 250 that is neither absent nor complete; orphan-spool: the only trace
 * is a spool object no job will ever take; misfiled: complete but not as the reply said; stray:
 * objects, outbox files or temp files that belong to no message.
 */
export type FindingKind = 'lost' | 'duplicate' | 'half' | 'orphan-spool' | 'misfiled' | 'stray';

export interface AuditReport {
  findings: { kind: FindingKind; text: string }[];
  complete: number;
  absent: number;
  receipts: number;
  /** the findings of some kinds, as text (an empty list is the pass) */
  of(...kinds: FindingKind[]): string[];
  /** per ledger entry (by n): absent, complete, or what is wrong with it */
  status: Map<number, 'absent' | 'complete' | FindingKind>;
}

/**
 * Reads the whole data dir (decrypting metadata with the instance's master key) and checks it
 * against the ledger. Temp files are counted before the store is opened: opening cleans them up.
 */
export async function audit(dataDir: string, masterKeys: string, entries: Entry[]): Promise<AuditReport> {
  const findings: AuditReport['findings'] = [];
  const report: AuditReport = {
    findings,
    complete: 0,
    absent: 0,
    receipts: 0,
    status: new Map(),
    of: (...kinds) => findings.filter((f) => kinds.includes(f.kind)).map((f) => f.text),
  };
  const stray = (text: string) => findings.push({ kind: 'stray', text });
  const temps = listDir(join(dataDir, 'objects', '.tmp'));
  if (temps.length > 0) stray(`${temps.length} unfinished object(s) in objects/.tmp: ${temps.slice(0, 3).join(', ')}`);
  const store = await openStore(loadConfig({ NODE_ENV: 'test', CASEDROP_DATA_DIR: dataDir, CASEDROP_MASTER_KEYS: masterKeys }), createLogger('silent'));
  const held = await readHoldings(store, stray);
  const outbox = join(dataDir, 'outbox');
  const names = new Set(listDir(outbox));
  for (const name of names) {
    if (!name.endsWith('-sender.eml')) continue;
    report.receipts++;
    const inReplyTo = /^In-Reply-To:\s*(\S+)/im.exec(readFileSync(join(outbox, name), 'latin1'))?.[1];
    holdingsOf(held, inReplyTo).receipts.push(name);
  }
  const known = new Set(entries.map((e) => bare(e.messageId)));
  for (const [mid] of held) if (!known.has(mid)) stray(`objects or replies for a Message-ID the client never sent: "${mid}"`);
  const outcomeIds = new Set([...held.values()].flatMap((h) => h.outcomes.map((o) => o.spoolId)));
  for (const name of names) if (!outcomeIds.has(/^(.+)-(sender|engineer)\.eml$/.exec(name)?.[1] ?? '')) stray(`outbox file without an outcome: ${name}`);
  for (const e of entries) judge(e, held.get(bare(e.messageId)), names, report);
  return report;
}

function holdingsOf(held: Map<string, Holdings>, messageId: unknown): Holdings {
  const mid = bare(typeof messageId === 'string' ? messageId : '');
  let h = held.get(mid);
  if (!h) held.set(mid, (h = { outcomes: [], files: [], notes: [], spool: [], receipts: [] }));
  return h;
}

async function readHoldings(store: ObjectStore, stray: (text: string) => void): Promise<Map<string, Holdings>> {
  const held = new Map<string, Holdings>();
  for (const id of await store.list('outcomes/')) {
    const outcome = outcomeSchema.parse(JSON.parse((await readAll(store, id)).toString('utf8')));
    if (`outcomes/${outcome.spoolId}` !== id) stray(`${id} holds the outcome of ${outcome.spoolId}`);
    holdingsOf(held, outcome.messageId).outcomes.push(outcome);
  }
  for (const id of await store.list('cases/')) {
    const meta = (await store.head(id)).meta;
    const kind = id.includes('/files/') ? 'files' : id.includes('/notes/') ? 'notes' : undefined;
    if (!kind) stray(`unexpected object in a case: ${id}`);
    else holdingsOf(held, meta.messageId)[kind].push({ id, spoolId: String(meta.spoolId) });
  }
  for (const id of await store.list('spool/')) holdingsOf(held, (await store.head(id)).meta.messageId).spool.push(id);
  return held;
}

/**
 * One message against what the client saw. Complete: one outcome under one spool id, stored, with
 * its one file and one note under that id, one receipt to the sender and the engineer's notice in
 * the outbox, and no spool object left. Absent: no trace at all.
 */
function judge(e: Entry, h: Holdings | undefined, outbox: Set<string>, report: AuditReport): void {
  const add = (kind: FindingKind, what: string): void => {
    report.status.set(e.n, kind);
    report.findings.push({ kind, text: `#${e.n} ${e.messageId} (${e.fate}${e.queueId ? ` as ${e.queueId}` : ''}): ${what}` });
  };
  const ids = new Set([...(h?.outcomes ?? []), ...(h?.files ?? []), ...(h?.notes ?? [])].map((x) => x.spoolId));
  if (!h || (ids.size === 0 && h.spool.length === 0 && h.receipts.length === 0)) {
    report.absent++;
    report.status.set(e.n, 'absent');
    if (e.fate === 'queued') add('lost', 'got 250, but nothing of it was stored');
    return;
  }
  const notYet = e.fate === 'queued' ? 'lost' : 'half';
  if (ids.size === 0 && h.receipts.length === 0)
    return add(e.fate === 'queued' ? 'lost' : 'orphan-spool', `only a spool object, which no job will ever take: ${h.spool.join(', ')}`);
  if (ids.size > 1 || h.outcomes.length > 1 || h.files.length > 1 || h.notes.length > 1 || h.receipts.length > 1) {
    return add(
      'duplicate',
      `${h.outcomes.length} outcome(s), ${h.files.length} file(s), ${h.notes.length} note(s), ${h.receipts.length} receipt(s) under ${[...ids].join(', ')}`,
    );
  }
  const spoolId = [...ids][0] ?? '?';
  const missing = incomplete(spoolId, h, outbox);
  if (missing.length > 0) return add(notYet, missing.join('; '));
  report.complete++;
  report.status.set(e.n, 'complete');
  if (e.fate === 'queued' && e.queueId !== spoolId) add('misfiled', `stored under ${spoolId}, not under the id of its 250`);
  else if (e.fate !== 'queued' && e.fate !== 'lost') add('misfiled', `refused with ${e.code}, yet stored (the sender will send it again)`);
  else if (!e.bodySent) add('misfiled', 'stored though its body was never sent');
}

function incomplete(spoolId: string, h: Holdings, outbox: Set<string>): string[] {
  const missing: string[] = [];
  const outcome = h.outcomes[0];
  if (!outcome) missing.push('no outcome');
  else if (outcome.kind !== 'stored' || outcome.stored.length !== 1) missing.push(`outcome ${outcome.kind} with ${outcome.stored.length} file(s)`);
  else if (h.files[0]?.id !== outcome.stored[0]?.id) missing.push(`outcome names ${outcome.stored[0]?.id}, the case holds ${h.files[0]?.id ?? 'no file'}`);
  if (h.files.length === 0) missing.push('no file in the case');
  if (h.notes.length === 0) missing.push('no note in the case');
  if (h.spool.length > 0) missing.push(`spool object left behind: ${h.spool.join(', ')}`);
  if (h.receipts[0] !== `${spoolId}-sender.eml`) missing.push(`no receipt in the outbox (found: ${h.receipts.join(', ') || 'none'})`);
  if (!outbox.has(`${spoolId}-engineer.eml`)) missing.push("no engineer's notice in the outbox");
  return missing;
}

async function readAll(store: ObjectStore, id: string): Promise<Buffer> {
  return buffer(await store.get(id));
}

function listDir(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}

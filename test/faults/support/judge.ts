import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { pino } from 'pino';
import { caseFilesNamespace } from '../../../src/jobs/ids.js';
import { outcomeSchema, type Outcome } from '../../../src/jobs/records.js';
import { parseMasterKeys } from '../../../src/keys/ring.js';
import { ShredKeyStore } from '../../../src/keys/shred-store.js';
import { FsBlobBackend } from '../../../src/store/fs-backend.js';
import { keyStoreDirOf } from '../../../src/store/open.js';
import { EncryptedStore } from '../../../src/store/store.js';
import type { Attempt } from './client.js';
import { CASE } from './mail.js';

/**
 * The judge of every fault test: the data dir, read from outside the processes with the
 * instance's master key (the store's own reader, so every tag is verified), held against the
 * client's ledger. A 250 means exactly one complete copy; a refusal means nothing at all; a
 * connection lost after the body means one or the other — never a part of a message.
 */
export function storeOf(env: Record<string, string | undefined>): EncryptedStore {
  // read-only use: no init(), so nothing of the running processes (their temp files) is touched
  const keys = parseMasterKeys(env.CASEDROP_MASTER_KEYS!);
  const shred = new ShredKeyStore(`${keyStoreDirOf({ dataDir: env.CASEDROP_DATA_DIR!, keyStoreDir: env.CASEDROP_KEYSTORE_DIR })}/live`, keys);
  return new EncryptedStore(new FsBlobBackend(env.CASEDROP_DATA_DIR!), keys, pino({ level: 'silent' }), shred);
}

/** Reads one object to the end; its SHA-256, or the error that stopped the read. */
export async function readBack(store: EncryptedStore, id: string): Promise<{ sha256: string; bytes: Buffer } | { error: string }> {
  try {
    const bytes = await buffer(await store.get(id));
    return { sha256: createHash('sha256').update(bytes).digest('hex'), bytes };
  } catch (err) {
    return { error: `${(err as { code?: string }).code ?? ''} ${(err as Error).message}` };
  }
}

/** Plain files left in a directory (temp files of the store or the outbox, which must not outlive a write). */
export function leftovers(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}

/**
 * lost: a 250 without its complete copy; duplicate: more than one copy, file, note or receipt;
 * half: a message without a 250 that is neither absent nor complete; orphan-spool: the only trace
 * is a spool object no job will ever take; misfiled: complete but not as the reply said; stray:
 * objects, outbox files or temp files that belong to no message; corrupt: an object that does not
 * read back, or a stored file that is not the attachment sent.
 */
export type FindingKind = 'lost' | 'duplicate' | 'half' | 'orphan-spool' | 'misfiled' | 'stray' | 'corrupt';
export type Status = 'absent' | 'complete' | FindingKind;

export interface Verdict {
  findings: { kind: FindingKind; text: string }[];
  complete: number;
  absent: number;
  receipts: number;
  /** the findings of some kinds (all kinds when none is named), as text: an empty list is the pass */
  of(...kinds: FindingKind[]): string[];
  /** per message (by Message-ID): absent, complete, or what is wrong with it */
  status: Map<string, Status>;
}

export interface JudgeInput {
  /** the instance's settings: CASEDROP_DATA_DIR, CASEDROP_MASTER_KEYS (and the key store dir) */
  env: Record<string, string | undefined>;
  ledger: readonly Attempt[];
  /** when every message carries the same attachment: each stored file must be exactly it */
  attachmentSha256?: string;
}

/** What the client saw of one message over all its attempts: a 250 wins, else the last reply. */
export interface Fate {
  n: number;
  messageId: string;
  fate: 'queued' | 'refused-4xx' | 'refused-5xx' | 'lost';
  code: number;
  spoolId?: string;
  bodySent: boolean;
}

export function fates(ledger: readonly Attempt[]): Map<string, Fate> {
  const byMessage = new Map<string, Fate>();
  for (const a of ledger) {
    const before = byMessage.get(a.messageId);
    if (before?.fate === 'queued') continue;
    const fate = a.code === 250 ? 'queued' : a.code === 0 ? 'lost' : a.code >= 500 ? 'refused-5xx' : 'refused-4xx';
    byMessage.set(a.messageId, {
      n: a.n,
      messageId: a.messageId,
      fate,
      code: a.code,
      ...(a.spoolId ? { spoolId: a.spoolId } : {}),
      bodySent: a.bodySent || (before?.bodySent ?? false),
    });
  }
  return byMessage;
}

export function queued(ledger: readonly Attempt[]): Fate[] {
  return [...fates(ledger).values()].filter((f) => f.fate === 'queued');
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

const bare = (id: string | undefined): string => (id ?? '').trim().replace(/^<|>$/g, '');

/** Reads the whole data dir and checks it against the ledger (call it once the queues drained). */
export async function judge(input: JudgeInput): Promise<Verdict> {
  const findings: Verdict['findings'] = [];
  const verdict: Verdict = {
    findings,
    complete: 0,
    absent: 0,
    receipts: 0,
    status: new Map(),
    of: (...kinds) => findings.filter((f) => kinds.length === 0 || kinds.includes(f.kind)).map((f) => `${f.kind}: ${f.text}`),
  };
  const dataDir = input.env.CASEDROP_DATA_DIR!;
  const stray = (text: string) => findings.push({ kind: 'stray', text });
  for (const tmp of [join(dataDir, 'objects', '.tmp'), join(dataDir, '.outbox-tmp')]) {
    const left = leftovers(tmp);
    if (left.length > 0) stray(`${left.length} temp file(s) in ${tmp}: ${left.slice(0, 3).join(', ')}`);
  }
  const store = storeOf(input.env);
  const held = await readHoldings(store, stray, (text) => findings.push({ kind: 'corrupt', text }), input.attachmentSha256);
  const outbox = join(dataDir, 'outbox');
  const names = new Set(leftovers(outbox));
  for (const name of names) {
    if (!name.endsWith('-sender.eml')) continue;
    verdict.receipts++;
    const inReplyTo = /^In-Reply-To:\s*(\S+)/im.exec(readFileSync(join(outbox, name), 'latin1'))?.[1];
    holdingsOf(held, inReplyTo).receipts.push(name);
  }
  const byMessage = fates(input.ledger);
  const known = new Set([...byMessage.keys()].map(bare));
  for (const [mid] of held) if (!known.has(mid)) stray(`objects or replies for a Message-ID the client never sent: "${mid}"`);
  const outcomeIds = new Set([...held.values()].flatMap((h) => h.outcomes.map((o) => o.spoolId)));
  for (const name of names) if (!outcomeIds.has(/^(.+)-(sender|engineer)\.eml$/.exec(name)?.[1] ?? '')) stray(`outbox file without an outcome: ${name}`);
  for (const f of byMessage.values()) judgeOne(f, held.get(bare(f.messageId)), names, verdict);
  return verdict;
}

function holdingsOf(held: Map<string, Holdings>, messageId: unknown): Holdings {
  const mid = bare(typeof messageId === 'string' ? messageId : '');
  let h = held.get(mid);
  if (!h) held.set(mid, (h = { outcomes: [], files: [], notes: [], spool: [], receipts: [] }));
  return h;
}

async function readHoldings(
  store: EncryptedStore,
  stray: (text: string) => void,
  corrupt: (text: string) => void,
  attachmentSha256: string | undefined,
): Promise<Map<string, Holdings>> {
  const held = new Map<string, Holdings>();
  for (const id of await store.list('outcomes/')) {
    const r = await readBack(store, id);
    if ('error' in r) {
      corrupt(`${id}: ${r.error}`);
      continue;
    }
    const outcome = outcomeSchema.parse(JSON.parse(r.bytes.toString('utf8')));
    if (`outcomes/${outcome.spoolId}` !== id) stray(`${id} holds the outcome of ${outcome.spoolId}`);
    holdingsOf(held, outcome.messageId).outcomes.push(outcome);
  }
  const filesNamespace = `${caseFilesNamespace(CASE)}/`;
  for (const id of await store.list('cases/')) {
    const meta = (await store.head(id)).meta;
    const kind = id.includes('/files/') ? 'files' : id.includes('/notes/') ? 'notes' : undefined;
    if (!kind) stray(`unexpected object in a case: ${id}`);
    else holdingsOf(held, meta.messageId)[kind].push({ id, spoolId: String(meta.spoolId) });
    const r = await readBack(store, id);
    if ('error' in r) corrupt(`${id}: ${r.error}`);
    else if (attachmentSha256 && id.startsWith(filesNamespace) && r.sha256 !== attachmentSha256)
      corrupt(`${id} is not the attachment sent (sha256 ${r.sha256})`);
  }
  for (const id of await store.list('spool/')) {
    holdingsOf(held, (await store.head(id)).meta.messageId).spool.push(id);
    const r = await readBack(store, id);
    if ('error' in r) corrupt(`${id}: ${r.error}`);
  }
  return held;
}

/**
 * One message against what the client saw. Complete: one outcome under one spool id, stored, with
 * its one file and one note under that id, one receipt to the sender and the engineer's notice in
 * the outbox, and no spool object left. Absent: no trace at all.
 */
function judgeOne(f: Fate, h: Holdings | undefined, outbox: Set<string>, verdict: Verdict): void {
  const add = (kind: FindingKind, what: string): void => {
    verdict.status.set(f.messageId, kind);
    verdict.findings.push({ kind, text: `#${f.n} ${f.messageId} (${f.fate}${f.spoolId ? ` as ${f.spoolId}` : ''}): ${what}` });
  };
  const ids = new Set([...(h?.outcomes ?? []), ...(h?.files ?? []), ...(h?.notes ?? [])].map((x) => x.spoolId));
  if (!h || (ids.size === 0 && h.spool.length === 0 && h.receipts.length === 0)) {
    verdict.absent++;
    verdict.status.set(f.messageId, 'absent');
    if (f.fate === 'queued') add('lost', 'got 250, but nothing of it was stored');
    return;
  }
  const notYet = f.fate === 'queued' ? 'lost' : 'half';
  if (ids.size === 0 && h.receipts.length === 0)
    return add(f.fate === 'queued' ? 'lost' : 'orphan-spool', `only a spool object, which no job will ever take: ${h.spool.join(', ')}`);
  if (ids.size > 1 || h.outcomes.length > 1 || h.files.length > 1 || h.notes.length > 1 || h.receipts.length > 1) {
    return add(
      'duplicate',
      `${h.outcomes.length} outcome(s), ${h.files.length} file(s), ${h.notes.length} note(s), ${h.receipts.length} receipt(s) under ${[...ids].join(', ')}`,
    );
  }
  const spoolId = [...ids][0] ?? '?';
  const missing = incomplete(spoolId, h, outbox);
  if (missing.length > 0) return add(notYet, missing.join('; '));
  verdict.complete++;
  verdict.status.set(f.messageId, 'complete');
  if (f.fate === 'queued' && f.spoolId !== spoolId) add('misfiled', `stored under ${spoolId}, not under the id of its 250`);
  else if (f.fate !== 'queued' && f.fate !== 'lost') add('misfiled', `refused with ${f.code}, yet stored (the sender will send it again)`);
  else if (!f.bodySent) add('misfiled', 'stored though its body was never sent');
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

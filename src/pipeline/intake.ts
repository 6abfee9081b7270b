import { Readable } from 'node:stream';
import { UnrecoverableError } from 'bullmq';
import type { CaseRegistry } from '../cases/types.js';
import type { Config } from '../config/schema.js';
import { CasedropError, ErrorCode, isCasedropError } from '../errors.js';
import type { Logger } from '../log.js';
import { reasonTable, type ReasonCode } from '../reasons/table.js';
import type { ObjectStore } from '../store/types.js';
import type { VerifyInput, VerifyResult } from '../verify/types.js';
import { admitBuffer } from '../intake/admit.js';
import type { Arrival } from '../intake/types.js';
import { abandonedId, caseFilesNamespace, caseNotesNamespace, outcomeId, spoolObjectId } from '../jobs/ids.js';
import { attachmentName, boundText, outcomeKind } from './outcome.js';
import { parseMessage, type ParsedAttachment, type ParsedMessage } from './parse.js';
import type { NameRegistry } from './stored-names.js';
import type { NotifyJobData, Outcome, RefusedFile, SpoolMeta, StoredFile } from '../jobs/types.js';

/**
 * One intake job: spooled message → verified files in the case, a note, an outcome, a notify job,
 * then the spool object is deleted. Every write has a fixed name derived from the spool id, so a
 * retry after a crash between any two steps rewrites the same objects and converges on exactly one
 * of each. The spool object goes last: while it exists the job can be redone from scratch.
 */
export interface IntakeDeps {
  config: Pick<Config, 'noteMaxBytes' | 'forwardDepth'>;
  store: ObjectStore;
  registry: CaseRegistry;
  verify: (input: VerifyInput) => Promise<VerifyResult>;
  notify: { add(name: string, data: NotifyJobData, opts: { jobId: string }): Promise<unknown> };
  logger: Logger;
  /** stored names unique within a case, across workers and retries */
  names: NameRegistry;
  /** bounds the message bytes held at once across this process's jobs; unbounded without it */
  budget?: { run<T>(bytes: number, fn: () => Promise<T>): Promise<T> };
  /** test-only crash points (CASEDROP_TEST_CRASH_AT); a no-op in production */
  checkpoint?: (step: IntakeStep) => void;
}

export type IntakeStep = 'after-files' | 'after-note' | 'after-outcome' | 'after-notify';

export async function processIntake(spoolId: string, deps: IntakeDeps): Promise<Outcome | undefined> {
  const log = deps.logger.child({ spoolId });
  if (!(await deps.store.exists(spoolObjectId(spoolId)))) return finishWithoutSpool(spoolId, deps, log);
  if (await deps.store.exists(outcomeId(spoolId))) {
    // crashed after the outcome was written: only the notify job and the clean-up are left
    await finish(spoolId, deps);
    log.info('outcome already recorded; finished the remaining steps');
    return undefined;
  }
  const { meta, size } = await readSpoolMeta(spoolId, deps.store);
  const open = await caseIsOpen(meta.caseNumber, deps.registry);
  if (!open) await removePartialWork(meta, deps.store);
  // the parsed attachments and the copies being stored: about twice the spooled size in memory
  const holding = deps.budget ?? { run: <T>(_bytes: number, fn: () => Promise<T>) => fn() };
  const outcome = open ? await holding.run(2 * size, () => processMessage(meta, deps, log)) : closedCaseOutcome(meta);
  await deps.store.put('outcomes', Readable.from([Buffer.from(JSON.stringify(outcome))]), { spoolId, caseNumber: meta.caseNumber, kind: outcome.kind }, { name: spoolId });
  deps.checkpoint?.('after-outcome');
  await finish(spoolId, deps);
  log.info({ caseNumber: meta.caseNumber, kind: outcome.kind, stored: outcome.stored.length, refused: outcome.refused.length }, 'message processed');
  return outcome;
}

async function finishWithoutSpool(spoolId: string, deps: IntakeDeps, log: Logger): Promise<undefined> {
  if (await deps.store.exists(outcomeId(spoolId))) {
    // the job already ran to the end and only the acknowledgement was lost. The notify job was added
    // before the spool object went; adding it again could re-send a reply once BullMQ has pruned it.
    log.info('spool object already gone and outcome recorded: nothing left to do');
    return undefined;
  }
  if (await deps.store.exists(abandonedId(spoolId))) {
    // a ghost: its door answered 4xx and removed the message, then the add reached Redis after all
    await deps.store.delete(abandonedId(spoolId));
    log.info({ event: 'intake_ghost_dropped' }, 'job for a message its door gave up on (the sender was told to retry): dropped');
    return undefined;
  }
  throw new UnrecoverableError(`spool object ${spoolId} is missing and no outcome was recorded`);
}

async function finish(spoolId: string, deps: IntakeDeps): Promise<void> {
  await deps.notify.add('outcome', { outcomeId: outcomeId(spoolId) }, { jobId: spoolId });
  deps.checkpoint?.('after-notify');
  await deps.store.delete(spoolObjectId(spoolId)).catch((err: unknown) => {
    if (!isCasedropError(err, ErrorCode.ObjectNotFound)) throw err;
  });
}

async function readSpoolMeta(spoolId: string, store: ObjectStore): Promise<{ meta: SpoolMeta; size: number }> {
  const info = await store.head(spoolObjectId(spoolId));
  const meta = info.meta as Partial<SpoolMeta>;
  if (typeof meta.caseNumber !== 'string' || typeof meta.receivedAt !== 'string' || typeof meta.mailFrom !== 'string') {
    throw new UnrecoverableError(`spool object ${spoolId} has no usable metadata`);
  }
  const full = { ...(meta as SpoolMeta), spoolId, rcptTo: meta.rcptTo ?? [], automatic: meta.automatic ?? false, clientAddress: meta.clientAddress ?? '', sessionId: meta.sessionId ?? '' };
  return { meta: full, size: info.size };
}

/** The case may have closed (or been removed) between the SMTP door and now. */
async function caseIsOpen(caseNumber: string, registry: CaseRegistry): Promise<boolean> {
  const found = await registry.get(caseNumber);
  return found !== null && found.state === 'open';
}

function baseOutcome(meta: SpoolMeta): Outcome {
  return {
    spoolId: meta.spoolId,
    caseNumber: meta.caseNumber,
    kind: 'no-attachment',
    receivedAt: meta.receivedAt,
    processedAt: new Date().toISOString(),
    mailFrom: meta.mailFrom,
    rcptTo: meta.rcptTo,
    subject: meta.subject,
    messageId: meta.messageId,
    automatic: meta.automatic,
    stored: [],
    refused: [],
    originalHeaders: '',
  };
}

/** Policy: a case closed since the door accepted the message keeps nothing; the reply says so. */
function closedCaseOutcome(meta: SpoolMeta): Outcome {
  return { ...baseOutcome(meta), kind: 'case-closed' };
}

/** An attempt that crashed before the case closed may have stored files; closed means nothing is kept. */
async function removePartialWork(meta: SpoolMeta, store: ObjectStore): Promise<void> {
  const files = caseFilesNamespace(meta.caseNumber);
  const mine = (await store.list(`${files}/${meta.spoolId}-`)).concat(await store.list(`${caseNotesNamespace(meta.caseNumber)}/${meta.spoolId}`));
  for (const id of mine) await store.delete(id);
}

async function processMessage(meta: SpoolMeta, deps: IntakeDeps, log: Logger): Promise<Outcome> {
  const parsed = await parseSpooled(meta.spoolId, deps);
  if (!parsed) return { ...baseOutcome(meta), kind: 'refused', refused: [unparseable()] };
  const outcome: Outcome = { ...baseOutcome(meta), from: parsed.from, subject: parsed.subject ?? meta.subject, messageId: parsed.messageId ?? meta.messageId, originalHeaders: parsed.headers };
  const judged = await judgeAll(parsed.attachments, deps.verify);
  outcome.stored = await storeAccepted(judged, meta, outcome, deps);
  outcome.refused = judged.filter((j) => j.verdict.verdict === 'reject').map(refusal);
  deps.checkpoint?.('after-files');
  outcome.noteId = await storeNote(parsed, meta, outcome, deps);
  deps.checkpoint?.('after-note');
  outcome.kind = outcomeKind(outcome.stored, outcome.refused);
  log.debug({ parts: parsed.attachments.length }, 'message parsed');
  return outcome;
}

/** A store failure is temporary (thrown, retried); bytes mailparser cannot read never will be. */
async function parseSpooled(spoolId: string, deps: IntakeDeps): Promise<ParsedMessage | undefined> {
  const stream = await deps.store.get(spoolObjectId(spoolId));
  try {
    return await parseMessage(stream, { maxDepth: deps.config.forwardDepth });
  } catch (err) {
    if (err instanceof CasedropError) {
      if (err.code === ErrorCode.ObjectCorrupt || err.code === ErrorCode.ObjectTruncated) throw new UnrecoverableError(`spool object ${spoolId}: ${err.code}`);
      throw err;
    }
    deps.logger.warn({ spoolId, err: (err as Error).message }, 'message could not be parsed');
    return undefined;
  } finally {
    stream.destroy();
  }
}

function unparseable(): RefusedFile {
  return { originalName: '(message)', size: 0, format: 'unknown', reason: 'unparseable', advice: reasonTable.unparseable.advice };
}

interface Judged {
  part: ParsedAttachment;
  verdict: VerifyResult;
}

async function judgeAll(parts: ParsedAttachment[], verify: IntakeDeps['verify']): Promise<Judged[]> {
  const judged: Judged[] = [];
  // one at a time: each verification may decrypt in memory, and a message holds at most 20 MB anyway
  for (const part of parts) judged.push({ part, verdict: await judgeOne(part, verify) });
  return judged;
}

async function judgeOne(part: ParsedAttachment, verify: IntakeDeps['verify']): Promise<VerifyResult> {
  if (part.kind === 'tnef') return messageRefusal('tnef', 'tnef');
  if (part.kind === 'smime-opaque') return messageRefusal('smime', 'smime-opaque');
  if (part.kind === 'too-deep') return messageRefusal('message', 'nesting-too-deep');
  return verify({ name: part.filename, buffer: part.content });
}

/** A refusal decided by the message around the part, not by its bytes. */
function messageRefusal(format: string, reason: ReasonCode): VerifyResult {
  return { format, verdict: 'reject', reason, details: {}, advice: reasonTable[reason].advice };
}

function refusal(j: Judged): RefusedFile {
  return { originalName: j.part.filename ?? '', size: j.part.content.length, format: j.verdict.format, reason: j.verdict.reason, advice: j.verdict.advice };
}

async function storeAccepted(judged: Judged[], meta: SpoolMeta, outcome: Outcome, deps: IntakeDeps): Promise<StoredFile[]> {
  const stored: StoredFile[] = [];
  for (const j of judged.filter((x) => x.verdict.verdict === 'accept')) {
    const arrival: Arrival = { caseNumber: meta.caseNumber, channel: 'email', fileId: attachmentName(meta.spoolId, j.part.partPath), originalName: j.part.filename, receivedAt: meta.receivedAt, extra: mailFacts(j, meta, outcome) };
    const file = await admitBuffer(arrival, j.part.content, j.verdict, deps);
    stored.push({ id: file.id, originalName: file.originalName, storedName: file.storedName, size: file.size, sha256: file.sha256, format: file.format, ...(file.cipher !== undefined ? { cipher: file.cipher } : {}) });
  }
  return stored;
}

/** What only mail knows about a file, kept with it by the shared intake. */
function mailFacts(j: Judged, meta: SpoolMeta, outcome: Outcome): Record<string, unknown> {
  return { partPath: j.part.partPath, contentType: j.part.contentType, sender: meta.mailFrom, from: outcome.from, messageId: outcome.messageId, spoolId: meta.spoolId };
}

async function storeNote(parsed: ParsedMessage, meta: SpoolMeta, outcome: Outcome, deps: IntakeDeps): Promise<string | undefined> {
  const { text, truncated } = boundText(parsed.text.trim(), deps.config.noteMaxBytes);
  if (text === '') return undefined;
  const namespace = caseNotesNamespace(meta.caseNumber);
  const noteMeta = { kind: 'note', spoolId: meta.spoolId, sender: meta.mailFrom, from: outcome.from, subject: outcome.subject, messageId: outcome.messageId, receivedAt: meta.receivedAt, truncated, channel: 'email' };
  const result = await deps.store.put(namespace, Readable.from([Buffer.from(text, 'utf8')]), noteMeta, { name: meta.spoolId });
  return result.id;
}

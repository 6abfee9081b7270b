import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { UnrecoverableError } from 'bullmq';
import type { CaseRegistry } from '../cases/types.js';
import type { Config } from '../config/schema.js';
import { CasedropError, ErrorCode, isCasedropError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ObjectStore } from '../store/types.js';
import type { VerifyInput, VerifyResult } from '../verify/types.js';
import { abandonedId, caseFilesNamespace, caseNotesNamespace, outcomeId, spoolObjectId } from '../jobs/ids.js';
import { analyseSpooled, type Analyse, type AnalyseConfig, type Analysis, type Judged } from './analyse.js';
import type { AttemptMarker } from './attempts.js';
import { sanitizeFilename } from './filenames.js';
import { attachmentName, boundText, outcomeKind } from './outcome.js';
import { messageRefusal } from './refusals.js';
import type { NameRegistry } from './stored-names.js';
import type { NotifyJobData, Outcome, RefusedFile, SpoolMeta, StoredFile } from '../jobs/types.js';

/**
 * One intake job: spooled message → verified files in the case, a note, an outcome, a notify job,
 * then the spool object is deleted. Every write has a fixed name derived from the spool id, so a
 * retry after a crash between any two steps rewrites the same objects and converges on exactly one
 * of each. The spool object goes last: while it exists the job can be redone from scratch.
 */
export interface IntakeDeps {
  config: Pick<Config, 'noteMaxBytes' | 'poisonAttempts'> & AnalyseConfig;
  store: ObjectStore;
  registry: CaseRegistry;
  verify: (input: VerifyInput) => Promise<VerifyResult>;
  notify: { add(name: string, data: NotifyJobData, opts: { jobId: string }): Promise<unknown> };
  logger: Logger;
  /** stored names unique within a case, across workers and retries */
  names: NameRegistry;
  /** bounds the message bytes held at once across this process's jobs; unbounded without it */
  budget?: { run<T>(bytes: number, fn: () => Promise<T>): Promise<T> };
  /** parse and verify somewhere a blow-up cannot take the process down (isolate.ts); in this thread when absent */
  analyse?: Analyse;
  /** counts attempts of the risky step that never finished (attempts.ts); no poison detection when absent */
  attempts?: AttemptMarker;
  /** test-only crash points (CASEDROP_TEST_CRASH_AT); a no-op in production */
  checkpoint?: (step: IntakeStep) => void;
}

export type IntakeStep = 'during-parse' | 'after-files' | 'after-note' | 'after-outcome' | 'after-notify';

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
  if (open) await refusePoison(meta, deps, log);
  const outcome = open ? await holding.run(2 * size, () => processMessage(meta, deps, log).catch(inBandFailure(meta.spoolId, deps))) : closedCaseOutcome(meta);
  await writeOutcome(outcome, spoolId, deps.store);
  await deps.attempts?.finish(spoolId);
  deps.checkpoint?.('after-outcome');
  await finish(spoolId, deps);
  log.info({ caseNumber: meta.caseNumber, kind: outcome.kind, stored: outcome.stored.length, refused: outcome.refused.length }, 'message processed');
  return outcome;
}

/** A failure the process lived through is no sign of poison: the marker counts only deaths. */
function inBandFailure(spoolId: string, deps: IntakeDeps): (err: unknown) => Promise<never> {
  return async (err) => {
    await deps.attempts?.finish(spoolId).catch(() => undefined);
    throw err;
  };
}

async function writeOutcome(outcome: Outcome, name: string, store: ObjectStore): Promise<void> {
  await store.put('outcomes', Readable.from([Buffer.from(JSON.stringify(outcome))]), { spoolId: outcome.spoolId, caseNumber: outcome.caseNumber, kind: outcome.kind }, { name });
}

/**
 * Earlier attempts died inside the risky step `poisonAttempts` times: this message kills its
 * process. Dead-letter it (the spool object stays, for `casedrop jobs retry`, which clears the
 * marker) and tell the sender and the engineer through an outcome of its own, so a later retry
 * still writes the real one.
 */
async function refusePoison(meta: SpoolMeta, deps: IntakeDeps, log: Logger): Promise<void> {
  const unfinished = (await deps.attempts?.begin(meta.spoolId)) ?? 0;
  if (unfinished <= deps.config.poisonAttempts) return;
  const name = `${meta.spoolId}.poison`;
  const outcome: Outcome = { ...baseOutcome(meta), spoolId: name, kind: 'refused', refused: [messageRefusal('too-complex')] };
  if (!(await deps.store.exists(outcomeId(name)))) await writeOutcome(outcome, name, deps.store);
  await deps.notify.add('outcome', { outcomeId: outcomeId(name) }, { jobId: name });
  log.error({ event: 'intake_poison', attempts: unfinished - 1 }, 'message stopped its worker on every attempt: dead-lettered as too-complex, spool kept');
  throw new UnrecoverableError(`too-complex: the message stopped its worker ${unfinished - 1} times; its spool is kept for casedrop jobs retry`);
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
  deps.checkpoint?.('during-parse');
  const analysis = await analyse(meta.spoolId, deps);
  if (analysis.kind === 'refused') return { ...baseOutcome(meta), kind: 'refused', refused: [messageRefusal(analysis.reason)] };
  const { message, judged, extra } = analysis;
  const outcome: Outcome = { ...baseOutcome(meta), from: message.from, subject: message.subject ?? meta.subject, messageId: message.messageId ?? meta.messageId, originalHeaders: message.headers };
  outcome.stored = await storeAccepted(judged, meta, outcome, deps);
  outcome.refused = judged.filter((j) => j.verdict.verdict === 'reject').map(refusal);
  if (extra.count > 0) outcome.refused.push(messageRefusal('too-many-files', { count: extra.count, size: extra.size, limit: judged.length }));
  deps.checkpoint?.('after-files');
  outcome.noteId = await storeNote(message.text, meta, outcome, deps);
  deps.checkpoint?.('after-note');
  outcome.kind = outcomeKind(outcome.stored, outcome.refused);
  log.debug({ parts: judged.length + extra.count }, 'message parsed');
  return outcome;
}

/** The isolated analysis when the worker set one up; in this thread otherwise. Corrupt spool bytes never heal. */
async function analyse(spoolId: string, deps: IntakeDeps): Promise<Analysis> {
  try {
    return await (deps.analyse ?? ((id: string) => analyseSpooled(id, deps)))(spoolId);
  } catch (err) {
    if (isCasedropError(err, ErrorCode.ObjectCorrupt) || isCasedropError(err, ErrorCode.ObjectTruncated)) {
      throw new UnrecoverableError(`spool object ${spoolId}: ${(err as CasedropError).code}`);
    }
    throw err;
  }
}

function refusal(j: Judged): RefusedFile {
  return { originalName: j.part.filename ?? '', size: j.part.content.length, format: j.verdict.format, reason: j.verdict.reason, advice: j.verdict.advice };
}

async function storeAccepted(judged: Judged[], meta: SpoolMeta, outcome: Outcome, deps: IntakeDeps): Promise<StoredFile[]> {
  const namespace = caseFilesNamespace(meta.caseNumber);
  const stored: StoredFile[] = [];
  for (const j of judged.filter((x) => x.verdict.verdict === 'accept')) {
    const id = attachmentName(meta.spoolId, j.part.partPath);
    const storedName = await deps.names.reserve(meta.caseNumber, id, sanitizeFilename(j.part.filename));
    const file = describe(j, id, storedName);
    await deps.store.put(namespace, Readable.from([j.part.content]), fileMeta(file, j, meta, outcome), { name: id });
    stored.push({ ...file, id: `${namespace}/${id}` });
  }
  return stored;
}

function describe(j: Judged, id: string, storedName: string): StoredFile {
  return {
    id,
    originalName: j.part.filename ?? '',
    storedName,
    size: j.part.content.length,
    sha256: createHash('sha256').update(j.part.content).digest('hex'),
    format: j.verdict.format,
    ...(j.verdict.cipher !== undefined ? { cipher: j.verdict.cipher } : {}),
  };
}

function fileMeta(file: StoredFile, j: Judged, meta: SpoolMeta, outcome: Outcome): Record<string, unknown> {
  return {
    kind: 'file',
    ...file,
    partPath: j.part.partPath,
    contentType: j.part.contentType,
    verdict: { verdict: j.verdict.verdict, reason: j.verdict.reason, details: j.verdict.details },
    sender: meta.mailFrom,
    from: outcome.from,
    messageId: outcome.messageId,
    receivedAt: meta.receivedAt,
    spoolId: meta.spoolId,
    channel: 'email',
  };
}

async function storeNote(body: string, meta: SpoolMeta, outcome: Outcome, deps: IntakeDeps): Promise<string | undefined> {
  const { text, truncated } = boundText(body.trim(), deps.config.noteMaxBytes);
  if (text === '') return undefined;
  const namespace = caseNotesNamespace(meta.caseNumber);
  const noteMeta = { kind: 'note', spoolId: meta.spoolId, sender: meta.mailFrom, from: outcome.from, subject: outcome.subject, messageId: outcome.messageId, receivedAt: meta.receivedAt, truncated, channel: 'email' };
  const result = await deps.store.put(namespace, Readable.from([Buffer.from(text, 'utf8')]), noteMeta, { name: meta.spoolId });
  return result.id;
}

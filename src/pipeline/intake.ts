import { Readable } from 'node:stream';
import { UnrecoverableError } from 'bullmq';
import type { AuditEvent, AuditSink } from '../audit/types.js';
import type { CheckOptions } from '../auth/check.js';
import { checkSpooled } from '../auth/spooled.js';
import { describeAuth, hasTemporaryFailure, senderTrust } from '../auth/trust.js';
import type { SenderAuth } from '../auth/types.js';
import type { CaseRegistry } from '../cases/types.js';
import type { Config } from '../config/schema.js';
import { ErrorCode, isCasedropError } from '../errors.js';
import { admitBuffer } from '../intake/admit.js';
import type { Arrival } from '../intake/types.js';
import { recordProblem, spoolMetaSchema } from '../jobs/records.js';
import type { Logger } from '../log.js';
import { filesProcessed, senderChecks } from '../metrics.js';
import { isDamaged, quarantineDamaged } from '../store/quarantine.js';
import type { ObjectStore } from '../store/types.js';
import type { VerifyInput, VerifyResult } from '../verify/types.js';
import { abandonedId, caseFilesNamespace, caseNotesNamespace, outcomeId, spoolObjectId } from '../jobs/ids.js';
import type { Analyse, AnalyseConfig, Analysis, Judged } from './analyse.js';
import type { AttemptMarker } from './attempts.js';
import { attachmentName, boundText, outcomeKind } from './outcome.js';
import { messageRefusal } from './refusals.js';
import { releaseViewed } from '../release.js';
import type { NameRegistry } from './stored-names.js';
import type { NotifyJobData, Outcome, RefusedFile, SpoolMeta, StoredFile } from '../jobs/types.js';

/**
 * One intake job: spooled message → verified files in the case, a note, an outcome, its replies
 * decided and their outbound jobs added (the notify step), then the spool object is deleted. Every
 * write has a fixed name derived from the spool id and every job a fixed id, so a retry after a crash
 * between any two steps rewrites the same objects and converges on exactly one of each. The spool
 * object goes last: while it exists the job can be redone from scratch.
 */
export interface IntakeDeps {
  config: Pick<Config, 'noteMaxBytes' | 'poisonAttempts'> & AnalyseConfig;
  store: ObjectStore;
  /** asked whether the case is still open; the worker's answers may be a few seconds old (src/jobs/case-cache.ts) */
  registry: Pick<CaseRegistry, 'get'>;
  verify: (input: VerifyInput) => Promise<VerifyResult>;
  /** where the outcome's notify job goes when `replies` is absent (a notify stage in another process) */
  notify: { add(name: string, data: NotifyJobData, opts: { jobId: string }): Promise<unknown> };
  /**
   * This process's notify step (src/notify/notify.ts) for the outcome now written under `name`
   * (`outcomes/<name>`: the spool id, or `<spool id>.poison`): decides the replies and adds their
   * outbound jobs, idempotently (fixed job ids, decisions kept per outcome), so no notify job is
   * needed. The worker sets it; without it each outcome gets a notify job.
   */
  replies?: (name: string, logger: Logger) => Promise<void>;
  logger: Logger;
  /** stored names unique within a case, across workers and retries */
  names: NameRegistry;
  /** bounds the message bytes held at once across this process's jobs; unbounded without it */
  budget?: { run<T>(bytes: number, fn: () => Promise<T>): Promise<T> };
  /** parse and verify somewhere a blow-up cannot take the process down (isolate.ts); in this thread when absent */
  analyse?: Analyse;
  /** counts attempts of the risky step that never finished (attempts.ts); no poison detection when absent */
  attempts?: AttemptMarker;
  /** SPF, DKIM, DMARC and ARC of each message; unchecked (no `auth` in the outcome) without it */
  senderChecks?: CheckOptions;
  /** test-only crash points (CASEDROP_TEST_CRASH_AT); a no-op in production */
  checkpoint?: (step: IntakeStep) => void;
  /** the case's audit trail (stored and refused files); the worker always sets it */
  audit?: AuditSink;
  /** told each outcome written, so this process's notify step need not read it back from the store */
  outcomes?: { rememberWritten(outcomeId: string, json: string): void };
}

export type IntakeStep = 'during-parse' | 'after-files' | 'after-note' | 'after-outcome' | 'after-notify';

export async function processIntake(spoolId: string, deps: IntakeDeps): Promise<Outcome | undefined> {
  const log = deps.logger.child({ spoolId });
  if (!(await deps.store.exists(spoolObjectId(spoolId)))) return finishWithoutSpool(spoolId, deps, log);
  if (await deps.store.exists(outcomeId(spoolId))) {
    // crashed after the outcome was written: only the notify step and the clean-up are left
    await finish(spoolId, deps, log);
    log.info('outcome already recorded; finished the remaining steps');
    return undefined;
  }
  const { outcome, meta } = await quarantineOnDamage(spoolId, deps, log, () => processSpooled(spoolId, deps, log));
  await writeOutcome(outcome, spoolId, deps.store, deps.outcomes);
  deps.checkpoint?.('after-outcome');
  await finish(spoolId, deps, log);
  log.info({ caseNumber: meta.caseNumber, kind: outcome.kind, stored: outcome.stored.length, refused: outcome.refused.length }, 'message processed');
  return outcome;
}

async function processSpooled(spoolId: string, deps: IntakeDeps, log: Logger): Promise<{ outcome: Outcome; meta: SpoolMeta }> {
  const { meta, size } = await readSpoolMeta(spoolId, deps.store);
  const open = await caseIsOpen(meta.caseNumber, deps.registry);
  if (!open) await removePartialWork(meta, deps.store);
  const auth = await checkSenderOf(meta, deps);
  if (!open) return { outcome: { ...closedCaseOutcome(meta), ...(auth ? { auth } : {}) }, meta };
  // the parsed attachments and the copies being stored: about twice the spooled size in memory
  const holding = deps.budget ?? { run: <T>(_bytes: number, fn: () => Promise<T>) => fn() };
  const outcome = await holding.run(2 * size, () => processMessage(meta, size, deps, log, auth));
  return { outcome, meta };
}

/** A spool object that fails authentication (on head or while parsing) is quarantined and the job dead-lettered. */
async function quarantineOnDamage<T>(spoolId: string, deps: IntakeDeps, log: Logger, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isDamaged(err)) throw await quarantineDamaged(deps.store, spoolObjectId(spoolId), err, log);
    throw err;
  }
}

async function checkSenderOf(meta: SpoolMeta, deps: IntakeDeps): Promise<SenderAuth | undefined> {
  if (!deps.senderChecks) return undefined;
  const env = { clientAddress: meta.clientAddress, mailFrom: meta.mailFrom, ...(meta.heloName ? { heloName: meta.heloName } : {}) };
  const auth = await checkSpooled(deps.store, spoolObjectId(meta.spoolId), env, deps.senderChecks);
  const how = senderTrust(auth, meta.mailFrom);
  senderChecks.inc({ via: how.trusted ? how.how.split(' ')[0]!.toLowerCase() : 'none', temperror: String(hasTemporaryFailure(auth)) });
  deps.logger.info(
    {
      spoolId: meta.spoolId,
      event: 'sender_checked',
      authenticated: how.trusted,
      spf: auth.spf.result,
      dkim: auth.dkim.map((s) => `${s.result}:${s.domain}`),
      dmarc: auth.dmarc.result,
      arc: auth.arc.result,
    },
    'sender checked',
  );
  return auth;
}

/** Earlier attempts died inside the parse this many times, this one included (attempts.ts). */
class Poisonous extends Error {
  constructor(readonly unfinished: number) {
    super(`the message stopped its worker ${unfinished - 1} times`);
  }
}

/**
 * Parse and verify, counted by the poison marker from when the message enters its parse thread until
 * the analysis is back: a process death in that window counts against the message, one anywhere else
 * (waiting for a thread, storing files, sending replies) does not. An analysis that failed and that
 * the process lived through is no sign of poison either: the marker goes with any end but a death.
 */
async function analyseCounted(meta: SpoolMeta, size: number, deps: IntakeDeps, log: Logger): Promise<Analysis> {
  const enter = async (): Promise<void> => {
    const unfinished = (await deps.attempts?.begin(meta.spoolId)) ?? 0;
    if (unfinished > deps.config.poisonAttempts) throw new Poisonous(unfinished);
    deps.checkpoint?.('during-parse');
  };
  let analysis: Analysis;
  try {
    analysis = await analyse(meta.spoolId, size, deps, enter);
  } catch (err) {
    if (err instanceof Poisonous) return refusePoison(meta, err.unfinished, deps, log);
    await deps.attempts?.finish(meta.spoolId).catch(() => undefined);
    throw err;
  }
  await deps.attempts?.finish(meta.spoolId);
  return analysis;
}

async function writeOutcome(outcome: Outcome, name: string, store: ObjectStore, written?: IntakeDeps['outcomes']): Promise<void> {
  const json = JSON.stringify(outcome);
  const { id } = await store.put(
    'outcomes',
    Readable.from([Buffer.from(json)]),
    { spoolId: outcome.spoolId, caseNumber: outcome.caseNumber, kind: outcome.kind },
    { name },
  );
  written?.rememberWritten(id, json);
}

/**
 * Earlier attempts died inside the risky step `poisonAttempts` times: this message kills its
 * process. Dead-letter it (the spool object stays, for `casedrop jobs retry`, which clears the
 * marker) and tell the sender and the engineer through an outcome of its own, so a later retry
 * still writes the real one.
 */
async function refusePoison(meta: SpoolMeta, unfinished: number, deps: IntakeDeps, log: Logger): Promise<never> {
  const name = `${meta.spoolId}.poison`;
  const outcome: Outcome = { ...baseOutcome(meta), spoolId: name, kind: 'refused', refused: [messageRefusal('too-complex')] };
  if (!(await deps.store.exists(outcomeId(name)))) await writeOutcome(outcome, name, deps.store, deps.outcomes);
  await queueReplies(name, deps, log);
  log.error({ event: 'intake_poison', attempts: unfinished - 1 }, 'message stopped its worker on every attempt: dead-lettered as too-complex, spool kept');
  throw new UnrecoverableError(`too-complex: the message stopped its worker ${unfinished - 1} times; its spool is kept for casedrop jobs retry`);
}

async function finishWithoutSpool(spoolId: string, deps: IntakeDeps, log: Logger): Promise<undefined> {
  if (await deps.store.exists(outcomeId(spoolId))) {
    // the job already ran to the end and only the acknowledgement was lost. The replies were decided
    // and queued before the spool object went; their durable markers would stop a second send, but
    // there is nothing left to do.
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

async function finish(spoolId: string, deps: IntakeDeps, log: Logger): Promise<void> {
  await queueReplies(spoolId, deps, log);
  deps.checkpoint?.('after-notify');
  // not fsynced: the outcome is, so a spool object a power loss brings back only re-runs this step
  await deps.store.delete(spoolObjectId(spoolId), { mayReappear: true }).catch((err: unknown) => {
    if (!isCasedropError(err, ErrorCode.ObjectNotFound)) throw err;
  });
}

/** The notify step inline when this process has one; a notify job otherwise. */
async function queueReplies(name: string, deps: IntakeDeps, log: Logger): Promise<void> {
  if (deps.replies) await deps.replies(name, log);
  else await deps.notify.add('outcome', { outcomeId: outcomeId(name) }, { jobId: name });
}

async function readSpoolMeta(spoolId: string, store: ObjectStore): Promise<{ meta: SpoolMeta; size: number }> {
  const info = await store.head(spoolObjectId(spoolId));
  // the object's own id wins over whatever its metadata claims
  const parsed = spoolMetaSchema.safeParse({ ...info.meta, spoolId });
  if (!parsed.success) throw new UnrecoverableError(`spool object ${spoolId} has no usable metadata (${recordProblem(parsed.error)})`);
  return { meta: parsed.data, size: info.size };
}

/** The case may have closed (or been removed) between the SMTP door and now (as of a few seconds ago, see IntakeDeps.registry). */
async function caseIsOpen(caseNumber: string, registry: IntakeDeps['registry']): Promise<boolean> {
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

async function processMessage(meta: SpoolMeta, size: number, deps: IntakeDeps, log: Logger, auth: SenderAuth | undefined): Promise<Outcome> {
  const analysis = await analyseCounted(meta, size, deps, log);
  const checked = auth ? { auth } : {};
  if (analysis.kind === 'refused') return { ...baseOutcome(meta), ...checked, kind: 'refused', refused: [messageRefusal(analysis.reason)] };
  const { message, judged, extra } = analysis;
  // counted here: the parse thread has its own metrics registry, which nobody scrapes
  for (const j of judged) filesProcessed.inc({ verdict: j.verdict.verdict, reason: j.verdict.reason });
  const outcome: Outcome = {
    ...baseOutcome(meta),
    ...checked,
    from: message.from,
    subject: message.subject ?? meta.subject,
    messageId: message.messageId ?? meta.messageId,
    originalHeaders: message.headers,
  };
  outcome.stored = await storeAccepted(judged, meta, outcome, deps);
  outcome.refused = judged.filter((j) => j.verdict.verdict === 'reject').map(refusal);
  if (extra.count > 0) outcome.refused.push(messageRefusal('too-many-files', { count: extra.count, size: extra.size, limit: judged.length }));
  await auditFiles(meta, outcome, deps);
  deps.checkpoint?.('after-files');
  outcome.noteId = await storeNote(message.text, meta, outcome, deps);
  deps.checkpoint?.('after-note');
  outcome.kind = outcomeKind(outcome.stored, outcome.refused);
  log.debug({ parts: judged.length + extra.count }, 'message parsed');
  // stored and sealed (the store copies what it encrypts): a 20 MB message's memory, which its big
  // attachments are views of, goes now, not at some later collection, so the memory budget's bound
  // on held bytes is the real one
  releaseViewed(judged.map((j) => j.part.content));
  return outcome;
}

/** The isolated analysis when the worker set one up; in this thread otherwise. Corrupt spool bytes never heal. */
async function analyse(spoolId: string, size: number, deps: IntakeDeps, enter: () => Promise<void>): Promise<Analysis> {
  // damage is quarantined by processIntake; other store errors may pass and are retried
  if (deps.analyse) return deps.analyse(spoolId, size, enter);
  // loaded only here: with parse threads, the worker's main thread never holds the parser in memory
  const { analyseSpooled } = await import('./analyse.js');
  await enter();
  return analyseSpooled(spoolId, deps, size);
}

function refusal(j: Judged): RefusedFile {
  return { originalName: j.part.filename ?? '', size: j.part.content.length, format: j.verdict.format, reason: j.verdict.reason, advice: j.verdict.advice };
}

async function storeAccepted(judged: Judged[], meta: SpoolMeta, outcome: Outcome, deps: IntakeDeps): Promise<StoredFile[]> {
  const stored: StoredFile[] = [];
  for (const j of judged.filter((x) => x.verdict.verdict === 'accept')) {
    const arrival: Arrival = {
      caseNumber: meta.caseNumber,
      channel: 'email',
      fileId: attachmentName(meta.spoolId, j.part.partPath),
      originalName: j.part.filename,
      receivedAt: meta.receivedAt,
      extra: mailFacts(j, meta, outcome),
    };
    const file = await admitBuffer(arrival, j.part.content, j.verdict, deps);
    stored.push({
      id: file.id,
      originalName: file.originalName,
      storedName: file.storedName,
      size: file.size,
      sha256: file.sha256,
      format: file.format,
      ...(file.cipher !== undefined ? { cipher: file.cipher } : {}),
    });
  }
  return stored;
}

/** What only mail knows about a file, kept with it by the shared intake. */
function mailFacts(j: Judged, meta: SpoolMeta, outcome: Outcome): Record<string, unknown> {
  return {
    partPath: j.part.partPath,
    contentType: j.part.contentType,
    sender: meta.mailFrom,
    from: outcome.from,
    messageId: outcome.messageId,
    spoolId: meta.spoolId,
    ...(outcome.auth
      ? { authentication: describeAuth(outcome.auth), authenticationResults: outcome.auth.header, clientAddress: outcome.auth.clientAddress }
      : {}),
  };
}

async function storeNote(body: string, meta: SpoolMeta, outcome: Outcome, deps: IntakeDeps): Promise<string | undefined> {
  const { text, truncated } = boundText(body.trim(), deps.config.noteMaxBytes);
  if (text === '') return undefined;
  const namespace = caseNotesNamespace(meta.caseNumber);
  const noteMeta = {
    kind: 'note',
    spoolId: meta.spoolId,
    sender: meta.mailFrom,
    from: outcome.from,
    subject: outcome.subject,
    messageId: outcome.messageId,
    receivedAt: meta.receivedAt,
    truncated,
    channel: 'email',
  };
  const result = await deps.store.put(namespace, Readable.from([Buffer.from(text, 'utf8')]), noteMeta, { name: meta.spoolId });
  return result.id;
}

/** Event ids are fixed by the file (or the spool id and position), so a retried job appends each once. */
async function auditFiles(meta: SpoolMeta, outcome: Outcome, deps: IntakeDeps): Promise<void> {
  const audit = deps.audit;
  if (!audit) return;
  const actor = meta.mailFrom || '<>';
  const events: AuditEvent[] = [
    ...outcome.stored.map((f) => ({
      type: 'stored' as const,
      actor,
      channel: 'email',
      file: { id: f.id, storedName: f.storedName, originalName: f.originalName, size: f.size, sha256: f.sha256 },
      eventId: `stored:${f.id}`,
    })),
    ...outcome.refused.map((r, i) => ({
      type: 'refused' as const,
      actor,
      channel: 'email',
      file: { originalName: r.originalName, size: r.size },
      reason: r.reason,
      details: { spoolId: meta.spoolId },
      eventId: `refused:${meta.spoolId}:${i}`,
    })),
  ];
  if (audit.appendMany) await audit.appendMany(meta.caseNumber, events);
  else for (const e of events) await audit.append(meta.caseNumber, e);
}

import type { CaseRegistry } from '../cases/types.js';
import { outboundJobId, outcomeId } from '../jobs/ids.js';
import type { BatchSlot, OutboundJobData, Outcome } from '../jobs/types.js';
import type { Logger } from '../log.js';
import { repliesSent } from '../metrics.js';
import { UnrecoverableError } from 'bullmq';
import type { ObjectStore } from '../store/types.js';
import type { ComposeConfig, ComposedMail } from './compose.js';
import type { Deliverer } from './deliver.js';
import type { Config } from '../config/schema.js';
import { domainOf } from '../auth/trust.js';
import { replyCapHits } from '../metrics.js';
import { batchJobId, type Batches } from './batch.js';
import type { Caps } from './caps.js';
import { MAX_MESSAGES } from './bounds.js';
import { buildCombinedNotice, buildSenderDigest, type BatchContent } from './digest.js';
import { buildDsn } from './dsn.js';
import { buildEngineerNotice } from './engineer.js';
import { readOutcome, type OutcomeCache } from './outcome.js';
import { buildReceipt } from './receipt.js';
import { forwardPostmaster, type PostmasterRoute } from './postmaster.js';
import { alreadySent, markSent, markSentAndSettle, settleIfDone } from './sent.js';
import { dropUploadEntries } from './upload-notice.js';
import { sendUploadNotice } from './upload-send.js';

/**
 * One outbound job: build the mail from the stored outcome now (job data holds ids only), then hand
 * it to the relay or the outbox. The engineer's address is looked up now too, so a case handed to
 * another engineer in the meantime notifies the new owner.
 */
export interface OutboundDeps {
  config: ComposeConfig;
  store: ObjectStore;
  registry: Pick<CaseRegistry, 'get'>;
  deliverer: Deliverer;
  batches: Batches;
  /** digests count against the domain and total caps too: many local parts of one domain do not each get one */
  caps: Caps;
  capConfig: Pick<Config, 'replyRatePerDomainPerHour' | 'replyRateTotalPerHour' | 'engineerNoticesPerCasePerHour' | 'digestIntervalSeconds'>;
  /** the outbound queue itself: a batch job adds its follow-up (late members, an upload notice over the cap) */
  outbound?: { add(name: string, data: OutboundJobData, opts: { jobId: string; delay: number }): Promise<unknown> };
  now?: () => number;
  logger: Logger;
  /** where postmaster mail is forwarded; absent, a postmaster job fails (kept for `jobs retry`) */
  postmaster?: PostmasterRoute;
  /** outcomes this process wrote or read a moment ago (the intake job wrote this one a moment before) */
  outcomes?: OutcomeCache;
}

export async function processOutbound(jobId: string, data: OutboundJobData, deps: OutboundDeps): Promise<void> {
  if (data.kind === 'postmaster') {
    if (!deps.postmaster) throw new UnrecoverableError('no postmaster route at this worker');
    return forwardPostmaster(jobId, data.spoolId, deps.store, deps.postmaster, deps.logger);
  }
  if (data.batch) {
    if (await alreadySent(deps.store, jobId)) {
      alreadySentLog(data.kind, deps);
      // a digest sent just before a crash: its members must not wait for the next slot's mail
      await forgetSent(data, deps);
    } else {
      await processBatch(jobId, data, deps);
    }
    return;
  }
  // the engineer notice first when this job carries it: a sender reply the relay refuses for good
  // (UnrecoverableError) must not keep the engineer from hearing of the message
  const mails: [string, OutboundJobData][] = [
    ...(data.notice ? [[outboundJobId.engineer(data.spoolId), { ...data, kind: 'engineer' as const }] as [string, OutboundJobData]] : []),
    [jobId, data],
  ];
  let settled = false;
  for (const [id, mail] of mails) {
    // a reply is one of its outcome's planned mails: the outcome's settled marker covers it too
    if (await alreadySent(deps.store, id, data.spoolId)) alreadySentLog(mail.kind, deps);
    // settles the outcome itself when this is its last mail
    else settled = await send(id, mail, deps);
  }
  if (!settled) await settleIfDone(deps.store, data.spoolId, data.planned ?? [jobId]);
}

function alreadySentLog(kind: string, deps: OutboundDeps): void {
  deps.logger.info({ kind, event: 'reply_already_sent' }, 'mail already sent (a replayed job): not sent again');
}

/** true when the mail went out and its marker (or the outcome's settled marker) is written */
async function send(jobId: string, data: OutboundJobData, deps: OutboundDeps): Promise<boolean> {
  const outcome = await readOutcome(deps.store, outcomeId(data.spoolId), undefined, deps.outcomes);
  const mail = await compose(data, deps, outcome);
  if (!mail) {
    await markSent(deps.store, jobId, 'dropped');
    return false;
  }
  const raw = await mail.node.build();
  const result = await deps.deliverer.deliver(jobId, raw, mail.envelope);
  await markSentAndSettle(deps.store, jobId, data.spoolId, data.planned ?? [jobId], 'sent');
  repliesSent.inc({ kind: data.kind, result: 'sent' });
  deps.logger.info({ kind: data.kind, caseNumber: outcome.caseNumber, bytes: raw.length, result }, 'mail sent');
  return true;
}

async function compose(data: OutboundJobData, deps: OutboundDeps, outcome: Outcome): Promise<ComposedMail | undefined> {
  if (data.kind === 'dsn') return buildDsn(outcome, deps.config);
  if (data.kind === 'receipt') return buildReceipt(outcome, deps.config);
  const owner = (await deps.registry.get(outcome.caseNumber))?.owner;
  if (!owner) {
    deps.logger.warn({ caseNumber: outcome.caseNumber }, 'case has no owner any more: engineer notice dropped');
    return undefined;
  }
  return buildEngineerNotice(outcome, owner, data.senderReply, deps.config);
}

/**
 * A digest or combined notice: every member that joined the batch up to the slot's end. Members
 * are removed only once the mail went out, so a failed try leaves them for the retry (or, if the job
 * is dead-lettered, for the next slot's mail).
 */
async function processBatch(jobId: string, data: OutboundJobData, deps: OutboundDeps): Promise<void> {
  const slot = data.batch!;
  const members = await deps.batches.due(slot);
  if (members.length === 0) return;
  if (data.kind === 'upload-notice') {
    if ((await sendUploadNotice(jobId, slot, members, deps)) === 'postponed') return;
  } else {
    await sendCombined(jobId, data, members, deps);
  }
  await deps.batches.remove(slot, members);
  if (data.kind === 'upload-notice') await dropUploadEntries(deps.store, members);
  await followLateMembers(data, slot, deps);
}

async function forgetSent(data: OutboundJobData, deps: OutboundDeps): Promise<void> {
  const members = await deps.batches.due(data.batch!);
  await deps.batches.remove(data.batch!, members);
  if (data.kind === 'upload-notice') await dropUploadEntries(deps.store, members);
}

async function sendCombined(jobId: string, data: OutboundJobData, members: string[], deps: OutboundDeps): Promise<void> {
  const content = await readBatch(members, deps);
  if (content.entries.length === 0) return;
  const mail = (await digestAllowed(data, jobId, data.batch!.subject, deps)) ? await composeBatch(data, content, jobId, deps) : undefined;
  if (!mail) return;
  const raw = await mail.node.build();
  const result = await deps.deliverer.deliver(jobId, raw, mail.envelope);
  await markSent(deps.store, jobId, 'sent');
  repliesSent.inc({ kind: data.kind, result: 'sent' });
  deps.logger.info({ kind: data.kind, messages: members.length, bytes: raw.length, result }, 'combined mail sent');
}

/**
 * A member that joined just as this job started (clocks of two workers differ a little) is not left
 * behind: a follow-up job with a slot ending now sends it. Not a retry of this job: the retry would
 * find this job's sent marker and take the late members out unsent.
 */
async function followLateMembers(data: OutboundJobData, slot: BatchSlot, deps: OutboundDeps): Promise<void> {
  if ((await deps.batches.due(slot)).length === 0) return;
  if (!deps.outbound) throw new Error('members joined while the combined mail was being sent; sending them on the retry');
  const later: BatchSlot = { ...slot, until: Math.max(slot.until + 1, (deps.now ?? Date.now)()) };
  await deps.outbound.add(data.kind, { ...data, batch: later }, { jobId: batchJobId(later), delay: 0 });
}

/**
 * A digest is one more mail to its sender's domain: past the domain's (or the total) hourly cap of
 * digests it is not sent, which is logged and counted; every refusal in it is in the engineer's
 * notices already, so it still reaches someone.
 */
async function digestAllowed(data: OutboundJobData, jobId: string, sender: string, deps: OutboundDeps): Promise<boolean> {
  if (data.kind !== 'digest') return true;
  const answer = await deps.caps.check('digest', jobId, [
    { name: 'digest-domain', subject: domainOf(sender) || '(none)', limit: deps.capConfig.replyRatePerDomainPerHour },
    { name: 'digest-total', subject: 'all', limit: deps.capConfig.replyRateTotalPerHour },
  ]);
  if (answer === 'allowed') return true;
  replyCapHits.inc({ cap: answer });
  repliesSent.inc({ kind: 'digest', result: 'suppressed' });
  deps.logger.warn(
    { cap: answer, sender, event: 'digest_withheld' },
    'digest not sent: its domain (or all senders) had too many mails this hour; the engineer notices list the refusals',
  );
  return false;
}

async function readBatch(members: readonly string[], deps: OutboundDeps): Promise<BatchContent> {
  const entries: BatchContent['entries'] = [];
  let rest = Math.max(0, members.length - MAX_MESSAGES);
  for (const member of members.slice(0, MAX_MESSAGES)) {
    const [spoolId = '', senderReply] = member.split('\t');
    try {
      entries.push({ outcome: await readOutcome(deps.store, outcomeId(spoolId)), ...(senderReply ? { senderReply } : {}) });
    } catch (err) {
      // an outcome that cannot be read is counted, not listed; a store error that may pass is retried
      if (!(err instanceof UnrecoverableError)) throw err;
      rest++;
    }
  }
  return { entries, rest };
}

async function composeBatch(data: OutboundJobData, content: BatchContent, jobId: string, deps: OutboundDeps): Promise<ComposedMail | undefined> {
  if (data.kind === 'digest') return buildSenderDigest(content, jobId, deps.config);
  const owner = (await deps.registry.get(content.entries[0]!.outcome.caseNumber))?.owner;
  if (!owner) {
    deps.logger.warn({ caseNumber: content.entries[0]!.outcome.caseNumber }, 'case has no owner any more: combined notice dropped');
    return undefined;
  }
  return buildCombinedNotice(content, owner, jobId, deps.config);
}

import type { CaseRegistry } from '../cases/types.js';
import type { Config } from '../config/schema.js';
import { outboundJobId, webhookJobId } from '../jobs/ids.js';
import type { OutboundJobData, Outcome, WebhookJobData } from '../jobs/types.js';
import type { Logger } from '../log.js';
import { repliesSent, replyCapHits, sendersUntrusted } from '../metrics.js';
import type { CaseContacts } from '../cases/contacts.js';
import type { ObjectStore } from '../store/types.js';
import { readOutcome, type OutcomeCache } from './outcome.js';
import { isSettled, settleIfDone } from './sent.js';
import { batchJobId, type Batches, type BatchSlot } from './batch.js';
import type { Caps } from './caps.js';
import { decideSenderReply, type SenderDecision } from './policy.js';
import { replyCaps, senderKey, senderStanding, type CapConfig } from './trust.js';

/**
 * The notify step: outcome → at most one sender reply, one engineer notice, one webhook per URL.
 * It only decides and adds jobs; sending is the outbound and webhook workers' (so a slow relay or
 * endpoint never holds it up). Each added job has a fixed id, so a retried step adds nothing new.
 *
 * The intake job of a worker runs it inline, right after writing the outcome and before deleting the
 * spool object (src/pipeline/intake.ts): a BullMQ job fewer per message. A notify job runs it too,
 * when recovery finds an outcome whose replies Redis lost, or for an intake worker without a notify
 * stage in its process.
 */
interface Adder<T> {
  add(name: string, data: T, opts: { jobId: string; delay?: number }): Promise<unknown>;
}

export interface NotifyDeps {
  config: Pick<Config, 'intakeAddresses' | 'replyFrom' | 'receipts' | 'webhookUrls' | 'webhookSecret' | 'engineerNoticesPerCasePerHour'> & CapConfig;
  store: ObjectStore;
  registry: Pick<CaseRegistry, 'get'>;
  contacts: Pick<CaseContacts, 'list'>;
  caps: Caps;
  batches: Batches;
  now?: () => number;
  outbound: Adder<OutboundJobData>;
  webhook: Adder<WebhookJobData>;
  logger: Logger;
  /** outcomes this process wrote or read a moment ago; every read goes to the store without it */
  outcomes?: OutcomeCache;
}

export async function processNotify(outcomeId: string, deps: NotifyDeps): Promise<void> {
  // run inline by intake, this is the outcome it just wrote, from the cache (no decryption)
  const outcome = await readOutcome(deps.store, outcomeId, deps.logger, deps.outcomes);
  const log = deps.logger.child({ spoolId: outcome.spoolId, caseNumber: outcome.caseNumber });
  if (await isSettled(deps.store, outcome.spoolId)) {
    // a replay (recovery, an operator, a pruned job id): every reply already went out
    log.info({ event: 'notify_settled' }, 'replies of this outcome were all sent already');
    return;
  }
  const decision = await decide(outcome, deps, log);
  const owner = (await deps.registry.get(outcome.caseNumber))?.owner;
  // decided before any job is added, so every job carries the whole plan (the cap answer is kept per outcome)
  const notice = owner ? await noticeCap(outcome, deps) : undefined;
  const planned = [
    ...('send' in decision ? [outboundJobId.sender(outcome.spoolId)] : []),
    ...(notice === 'allowed' ? [outboundJobId.engineer(outcome.spoolId)] : []),
  ];
  // one outbound job carries both mails when both are due (a BullMQ job fewer per message)
  const carried = 'send' in decision && notice === 'allowed';
  const senderReply = await queueSenderReply(outcome, decision, planned, deps, log, carried);
  if (!carried) await queueEngineerNotice(outcome, owner, notice, senderReply, planned, deps, log);
  await queueWebhooks(outcome, deps);
  // nothing to send, or a replay that finds everything sent: settled now
  await settleIfDone(deps.store, outcome.spoolId, planned);
}

type Plan = SenderDecision | { digest: string; kind: 'dsn' | 'receipt' } | { untrusted: string };

/**
 * Loop rules first (pure), then trust: an unauthenticated sender gets nothing (backscatter), then
 * the caps, which are only counted for a reply that would go out; over one, the reply joins the
 * sender's digest instead of being dropped.
 */
async function decide(outcome: Outcome, deps: NotifyDeps, log: Logger): Promise<Plan> {
  const decision = decideSenderReply(outcome, deps.config);
  if (!('send' in decision)) return decision;
  const standing = senderStanding(outcome, await deps.contacts.list(outcome.caseNumber));
  if (!standing.trusted) return { untrusted: standing.how };
  const answer = await deps.caps.check('reply', outcome.spoolId, replyCaps(outcome, deps.config));
  if (answer === 'allowed') return decision;
  replyCapHits.inc({ cap: answer });
  log.info({ cap: answer, sender: outcome.mailFrom, event: 'reply_digested' }, "reply cap reached: the reply joins the sender's digest");
  return { digest: answer, kind: decision.send };
}

async function queueSenderReply(outcome: Outcome, decision: Plan, planned: string[], deps: NotifyDeps, log: Logger, withNotice = false): Promise<string> {
  if ('untrusted' in decision) {
    log.info(
      { reason: 'unauthenticated', how: decision.untrusted, kind: outcome.kind, sender: outcome.mailFrom, event: 'reply_untrusted' },
      'sender not authenticated: no reply',
    );
    sendersUntrusted.inc({ kind: outcome.kind === 'stored' ? 'receipt' : 'dsn' });
    repliesSent.inc({ kind: outcome.kind === 'stored' ? 'receipt' : 'dsn', result: 'suppressed' });
    return `none: the sender is not authenticated (${decision.untrusted}), so nothing was sent to it${outcome.refused.length > 0 ? '; the refused files are listed here only' : ''}`;
  }
  if ('digest' in decision) {
    const slot = await deps.batches.join('sender', senderKey(outcome.mailFrom), outcome.spoolId);
    await addBatchJob('digest', slot, outcome.spoolId, deps);
    repliesSent.inc({ kind: decision.kind, result: 'digested' });
    return `combined into the sender's digest (cap ${decision.digest} reached), due ${new Date(slot.until).toISOString()}`;
  }
  if ('suppress' in decision) {
    // the reason is logged, never the body; the sender's address is what an operator needs to follow a loop
    log.info({ reason: decision.suppress, kind: outcome.kind, sender: outcome.mailFrom }, 'sender reply suppressed');
    repliesSent.inc({ kind: outcome.kind === 'stored' ? 'receipt' : 'dsn', result: 'suppressed' });
    return `none (${decision.suppress})`;
  }
  const told = decision.send === 'dsn' ? 'delivery status notification (DSN)' : 'receipt';
  const data: OutboundJobData = { spoolId: outcome.spoolId, kind: decision.send, planned, ...(withNotice ? { notice: true, senderReply: told } : {}) };
  await deps.outbound.add(decision.send, data, { jobId: outboundJobId.sender(outcome.spoolId) });
  return told;
}

async function queueEngineerNotice(
  outcome: Outcome,
  owner: string | undefined,
  notice: string | undefined,
  senderReply: string,
  planned: string[],
  deps: NotifyDeps,
  log: Logger,
): Promise<void> {
  if (!owner || notice === undefined) {
    log.warn('case has no owner: no engineer notice');
    return;
  }
  if (notice === 'allowed') {
    await deps.outbound.add(
      'engineer',
      { spoolId: outcome.spoolId, kind: 'engineer', senderReply, planned },
      { jobId: outboundJobId.engineer(outcome.spoolId) },
    );
    return;
  }
  replyCapHits.inc({ cap: notice });
  // the member carries what the sender was told: the combined notice shows it per message
  const slot = await deps.batches.join('case', outcome.caseNumber, `${outcome.spoolId}\t${senderReply.slice(0, 300)}`);
  await addBatchJob('notice-digest', slot, outcome.spoolId, deps);
}

function noticeCap(outcome: Outcome, deps: NotifyDeps): Promise<string> {
  return deps.caps.check('notice', outcome.spoolId, [{ name: 'case-notices', subject: outcome.caseNumber, limit: deps.config.engineerNoticesPerCasePerHour }]);
}

/** One delayed job per batch and slot: its fixed id makes a second add (another member, a retry) a no-op. */
async function addBatchJob(kind: 'digest' | 'notice-digest', slot: BatchSlot, spoolId: string, deps: NotifyDeps): Promise<void> {
  const delay = Math.max(0, slot.until - (deps.now ?? Date.now)());
  await deps.outbound.add(kind, { spoolId, kind, batch: slot }, { jobId: batchJobId(slot), delay });
}

async function queueWebhooks(outcome: Outcome, deps: NotifyDeps): Promise<void> {
  // unsigned webhooks are not sent: receivers could not tell them from forged ones (logged at start)
  if (deps.config.webhookSecret === undefined) return;
  for (const [urlIndex] of deps.config.webhookUrls.entries()) {
    await deps.webhook.add('webhook', { spoolId: outcome.spoolId, urlIndex }, { jobId: webhookJobId(outcome.spoolId, urlIndex) });
  }
}

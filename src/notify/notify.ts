import type { CaseRegistry } from '../cases/types.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { repliesSent } from '../metrics.js';
import type { Outcome } from '../jobs/types.js';
import type { ObjectStore } from '../store/types.js';
import { outboundJobId, webhookJobId } from '../jobs/ids.js';
import { type OutboundJobData, type WebhookJobData } from '../jobs/types.js';
import { readOutcome } from './outcome.js';
import { decideSenderReply, normaliseAddress, type SenderDecision } from './policy.js';
import type { RateLimiter } from './rate-limit.js';

/**
 * One notify job: outcome → at most one sender reply, one engineer notice, one webhook per URL.
 * It only decides and adds jobs; sending is the outbound and webhook workers' (so a slow relay or
 * endpoint never holds it up). Each added job has a fixed id, so a retried notify job adds nothing new.
 */
interface Adder<T> {
  add(name: string, data: T, opts: { jobId: string }): Promise<unknown>;
}

export interface NotifyDeps {
  config: Pick<Config, 'intakeAddresses' | 'replyFrom' | 'receipts' | 'webhookUrls' | 'webhookSecret'>;
  store: ObjectStore;
  registry: Pick<CaseRegistry, 'get'>;
  rateLimiter: RateLimiter;
  outbound: Adder<OutboundJobData>;
  webhook: Adder<WebhookJobData>;
  logger: Logger;
}

export async function processNotify(outcomeId: string, deps: NotifyDeps): Promise<void> {
  const outcome = await readOutcome(deps.store, outcomeId);
  const log = deps.logger.child({ spoolId: outcome.spoolId, caseNumber: outcome.caseNumber });
  const decision = await decide(outcome, deps);
  const senderReply = await queueSenderReply(outcome, decision, deps, log);
  await queueEngineerNotice(outcome, senderReply, deps, log);
  await queueWebhooks(outcome, deps);
}

/** Loop rules first (pure), then the rate limit, which is only counted for a reply that would go out. */
async function decide(outcome: Outcome, deps: NotifyDeps): Promise<SenderDecision> {
  const decision = decideSenderReply(outcome, deps.config);
  if (!('send' in decision)) return decision;
  const allowed = await deps.rateLimiter.allow(normaliseAddress(outcome.mailFrom), outcome.spoolId);
  return allowed ? decision : { suppress: 'rate-limit' };
}

async function queueSenderReply(outcome: Outcome, decision: SenderDecision, deps: NotifyDeps, log: Logger): Promise<string> {
  if ('suppress' in decision) {
    // the reason is logged, never the body; the sender's address is what an operator needs to follow a loop
    log.info({ reason: decision.suppress, kind: outcome.kind, sender: outcome.mailFrom }, 'sender reply suppressed');
    repliesSent.inc({ kind: outcome.kind === 'stored' ? 'receipt' : 'dsn', result: 'suppressed' });
    return `none (${decision.suppress})`;
  }
  await deps.outbound.add(decision.send, { spoolId: outcome.spoolId, kind: decision.send }, { jobId: outboundJobId.sender(outcome.spoolId) });
  return decision.send === 'dsn' ? 'delivery status notification (DSN)' : 'receipt';
}

async function queueEngineerNotice(outcome: Outcome, senderReply: string, deps: NotifyDeps, log: Logger): Promise<void> {
  const found = await deps.registry.get(outcome.caseNumber);
  if (!found?.owner) {
    log.warn('case has no owner: no engineer notice');
    return;
  }
  await deps.outbound.add('engineer', { spoolId: outcome.spoolId, kind: 'engineer', senderReply }, { jobId: outboundJobId.engineer(outcome.spoolId) });
}

async function queueWebhooks(outcome: Outcome, deps: NotifyDeps): Promise<void> {
  // unsigned webhooks are not sent: receivers could not tell them from forged ones (logged at start)
  if (deps.config.webhookSecret === undefined) return;
  for (const [urlIndex] of deps.config.webhookUrls.entries()) {
    await deps.webhook.add('webhook', { spoolId: outcome.spoolId, urlIndex }, { jobId: webhookJobId(outcome.spoolId, urlIndex) });
  }
}

import type { CaseRegistry } from '../cases/types.js';
import type { Logger } from '../log.js';
import { repliesSent } from '../metrics.js';
import { outcomeId } from '../jobs/ids.js';
import type { Outcome } from '../jobs/types.js';
import type { ObjectStore } from '../store/types.js';
import type { ComposeConfig, ComposedMail } from './compose.js';
import type { Deliverer } from './deliver.js';
import { buildDsn } from './dsn.js';
import { buildEngineerNotice } from './engineer.js';
import type { OutboundJobData } from '../jobs/types.js';
import { readOutcome } from './outcome.js';
import { buildReceipt } from './receipt.js';

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
  logger: Logger;
}

export async function processOutbound(jobId: string, data: OutboundJobData, deps: OutboundDeps): Promise<void> {
  const outcome = await readOutcome(deps.store, outcomeId(data.spoolId));
  const mail = await compose(data, deps, outcome);
  if (!mail) return;
  const raw = await mail.node.build();
  const result = await deps.deliverer.deliver(jobId, raw, mail.envelope);
  repliesSent.inc({ kind: data.kind, result: 'sent' });
  deps.logger.info({ kind: data.kind, caseNumber: outcome.caseNumber, bytes: raw.length, result }, 'mail sent');
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

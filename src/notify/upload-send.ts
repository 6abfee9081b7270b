import type { BatchSlot } from '../jobs/types.js';
import { repliesSent, replyCapHits } from '../metrics.js';
import type { OutboundDeps } from './outbound.js';
import { markSent } from './sent.js';
import { buildUploadNotice } from './upload-mail.js';
import { addUploadNoticeJob, readUploadEntries } from './upload-notice.js';

/**
 * One upload notice job (src/notify/upload-notice.ts): the files of its slot in one mail to the
 * case's owner, looked up now. The notice is one of the case's separate notices
 * (`case-notices`, CASEDROP_ENGINEER_NOTICES_PER_CASE_PER_HOUR), decided once per job id so a
 * retry counts nothing twice. Over the cap it is not dropped: its files stay in the batch and a job
 * one digest interval later sends them (with whatever joined meanwhile), as a capped mail notice
 * waits for the case's combined notice. `sent` also covers nothing to send: the members may go.
 */
export async function sendUploadNotice(jobId: string, slot: BatchSlot, members: readonly string[], deps: OutboundDeps): Promise<'sent' | 'postponed'> {
  const caseNumber = slot.subject;
  const log = deps.logger.child({ caseNumber, kind: 'upload-notice' });
  const content = await readUploadEntries(deps.store, members, log);
  if (content.files.length === 0) return 'sent';
  const owner = (await deps.registry.get(caseNumber))?.owner;
  if (!owner) {
    log.warn('case has no owner: upload notice dropped');
    return 'sent';
  }
  const limit = deps.capConfig.engineerNoticesPerCasePerHour;
  const answer = await deps.caps.check('upload-notice', jobId, [{ name: 'case-notices', subject: caseNumber, limit }]);
  if (answer !== 'allowed' && deps.outbound) {
    const now = (deps.now ?? Date.now)();
    const later: BatchSlot = { ...slot, until: Math.max(now, slot.until) + deps.capConfig.digestIntervalSeconds * 1000 };
    await addUploadNoticeJob(deps.outbound, later, members[0]!, now);
    replyCapHits.inc({ cap: answer });
    log.info(
      { cap: answer, files: members.length, due: new Date(later.until).toISOString(), event: 'upload_notice_postponed' },
      'notice cap reached: upload notice postponed',
    );
    return 'postponed';
  }
  const mail = buildUploadNotice(content, caseNumber, owner, jobId, deps.config);
  const raw = await mail.node.build();
  const result = await deps.deliverer.deliver(jobId, raw, mail.envelope);
  await markSent(deps.store, jobId, 'sent');
  repliesSent.inc({ kind: 'upload-notice', result: 'sent' });
  log.info({ files: content.files.length, rest: content.rest, bytes: raw.length, result }, 'upload notice sent');
  return 'sent';
}

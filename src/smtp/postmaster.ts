import type { SMTPServerSession } from 'smtp-server';
import { isDiskFull } from '../errors.js';
import type { Logger } from '../log.js';
import type { DataPipe } from './data-pipe.js';
import { reply, type DataReply, type MessageDeps } from './message.js';
import { receivedHeader } from './received.js';
import { transmissionProtocol } from './verdict.js';

/**
 * Mail to postmaster (RFC 5321 4.5.1): spooled encrypted like any message, then one outbound job
 * (id = spool id) forwards the raw spool object unchanged to CASEDROP_POSTMASTER_ADDRESS or the
 * outbox and deletes it (src/notify/postmaster.ts). Never parsed, never replied to, no case. The
 * same durability rule as intake mail: 250 only once the spool object is fsynced and the job added.
 */
export async function receivePostmaster(pipe: DataPipe, spoolId: string, session: SMTPServerSession, deps: MessageDeps, log: Logger): Promise<DataReply> {
  const { config } = deps;
  const received = receivedHeader({
    heloName: session.hostNameAppearsAs || undefined,
    clientAddress: session.remoteAddress,
    clientHostname: session.clientHostname.startsWith('[') ? undefined : session.clientHostname,
    hostname: config.hostname,
    id: spoolId,
    protocol: transmissionProtocol({ lmtp: config.smtpLmtp, secure: session.secure, authenticated: Boolean(session.user) }),
    recipient: session.envelope.rcptTo[0]?.address ?? '',
    date: new Date(),
  });
  async function* body(): AsyncGenerator<Buffer> {
    yield Buffer.from(received, 'utf8');
    yield* pipe.body();
  }
  const meta = {
    spoolId,
    postmaster: true,
    mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
    receivedAt: new Date().toISOString(),
  };
  const put = deps.spool.writePostmaster(meta, body()).then(
    () => ({ ok: true as const }),
    (error: unknown) => {
      pipe.stop('spool write failed');
      return { ok: false as const, error };
    },
  );
  const end = await pipe.ended;
  const written = await put;
  if (end.hungUp || end.sizeExceeded) {
    if (written.ok) await deps.spool.discard(spoolId, log);
    if (end.hungUp) return { ...reply('localError'), unsent: true };
    return reply('sizeExceeded', { limit: String(config.maxMessageBytes) });
  }
  if (!written.ok) {
    log.error({ err: written.error, event: 'smtp_spool_failed' }, 'postmaster message not spooled');
    return reply(isDiskFull(written.error) ? 'storageFull' : 'localError');
  }
  try {
    await deps.spool.enqueuePostmaster(spoolId);
  } catch (err) {
    log.error({ err, event: 'smtp_queue_failed' }, 'queue unavailable; postmaster spool object removed');
    await deps.spool.discard(spoolId, log);
    return reply('queueUnavailable');
  }
  log.info({ event: 'smtp_postmaster_queued', bytes: end.bytes }, 'postmaster message queued for the operator');
  return reply('queued', { id: spoolId });
}

import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import type { CaseRegistry } from '../cases/types.js';
import type { Config } from '../config/schema.js';
import { uploadBaseUrl } from '../upload/url.js';
import { isDiskFull } from '../errors.js';
import { newId } from '../ids.js';
import type { SpoolMeta } from '../jobs/types.js';
import type { Logger } from '../log.js';
import { smtpAcceptLatency } from '../metrics.js';
import { AuthTap } from '../auth/tap.js';
import type { CheckOptions } from '../auth/check.js';
import { isContact, type CaseContacts } from '../cases/contacts.js';
import { authGate } from './sender-auth.js';
import { automaticReason } from '../mail/automatic.js';
import { DataPipe, type EndResult, type HeadResult, type HeaderBlock } from './data-pipe.js';
import type { Dedup } from './dedup.js';
import { receivedHeader } from './received.js';
import { receivePostmaster } from './postmaster.js';
import { caseFromRecipients } from './recipients.js';
import { replies, replyText, smtpError, type ReplyName, type SmtpError } from './replies.js';
import type { Spool } from './spool.js';
import { caseExample, decodeSubject, findCaseNumber } from './subject.js';
import { caseRefusal, contentVerdict, transmissionProtocol, type CaseLookup, type ContentVerdict, type Refusal } from './verdict.js';

/**
 * One message, from DATA to the reply: read the headers while the data streams in, decide the
 * case, spool the message (Received header first) while the rest arrives, then — only after the
 * final dot — refuse, discard, or dedup-check and queue it. `250 queued as <id>` is sent only once
 * the spool object is fsynced and the job added; every other path leaves neither behind.
 */
export interface Transaction {
  /** case numbers named by sub-addresses of the accepted recipients (already checked at RCPT) */
  recipientCases: string[];
  /** a postmaster recipient was accepted: the message is forwarded to the operator (postmaster.ts) */
  postmaster: boolean;
  /** an intake recipient was accepted: postmaster may not join */
  intake: boolean;
}

export interface MessageDeps {
  config: Config;
  registry: CaseRegistry;
  spool: Spool;
  dedup?: Dedup;
  log: Logger;
  /** the case's known senders: when a case has any, other senders are refused */
  contacts?: Pick<CaseContacts, 'list'>;
  /** set under CASEDROP_AUTH_POLICY=require: the sender checks run while the message streams */
  senderChecks?: CheckOptions;
}

export interface DataReply {
  name: ReplyName;
  code: number;
  text: string;
  error: SmtpError;
  /** the client is gone: nothing reaches it, and the reply is not counted */
  unsent?: true;
}

export function reply(name: ReplyName, vars?: Record<string, string>): DataReply {
  return { name, code: replies[name].code, text: replyText(name, vars), error: smtpError(name, vars) };
}

interface Decision {
  caseNumber?: string;
  caseRefusal?: Refusal;
  headerTooBig: boolean;
  automatic: boolean;
  autoReason?: string;
  headers?: HeaderBlock;
}

export async function receiveMessage(stream: SMTPServerDataStream, session: SMTPServerSession, tx: Transaction, deps: MessageDeps): Promise<DataReply> {
  const { config } = deps;
  const spoolId = newId();
  const log = deps.log.child({ spoolId });
  const pipe = new DataPipe(stream, { mode: config.smtpBareLineEndings, maxHeaderBytes: config.smtpMaxHeaderBytes });
  const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
  if (tx.postmaster) return receivePostmaster(pipe, spoolId, session, deps, log);

  let decision: Decision;
  try {
    decision = await decide(await pipe.head, tx, mailFrom, deps);
  } catch (err) {
    // the registry (Redis) did not answer: read to the end, then 451
    pipe.stop('case registry unavailable');
    await pipe.ended;
    log.error({ err, event: 'smtp_registry_error' }, 'case look-up failed');
    return reply('queueUnavailable');
  }

  const accepting = decision.caseNumber !== undefined && !decision.caseRefusal;
  const tap =
    accepting && deps.senderChecks
      ? new AuthTap({ clientAddress: session.remoteAddress, heloName: session.hostNameAppearsAs || undefined, mailFrom }, deps.senderChecks)
      : undefined;
  const spooling = accepting ? startSpool(pipe, spoolId, session, decision, deps, tap) : undefined;
  if (!spooling) pipe.stop('refused at the headers');
  const end = await pipe.ended;
  const endAt = process.hrtime.bigint();
  const put = spooling ? await spooling : undefined;
  const result = await conclude({ spoolId, decision, end, put, mailFrom, deps, log, tap });
  if (result.name === 'queued') smtpAcceptLatency.observe(Number(process.hrtime.bigint() - endAt) / 1e9);
  return result;
}

interface Ending {
  spoolId: string;
  decision: Decision;
  end: EndResult;
  put: PutOutcome | undefined;
  mailFrom: string;
  deps: MessageDeps;
  log: Logger;
  tap?: AuthTap;
}

/** After the final dot (or the hang-up): the reply, and the spool object removed unless queued. */
async function conclude(e: Ending): Promise<DataReply> {
  const { spoolId, decision, end, put, deps, log } = e;
  if (end.hungUp) {
    if (put?.ok) await deps.spool.discard(spoolId, log);
    log.info({ event: 'smtp_hangup', bytes: end.bytes }, 'client went away inside DATA; nothing kept');
    return { ...reply('localError'), unsent: true };
  }
  const verdict = contentVerdict({
    sizeExceeded: end.sizeExceeded,
    headerTooBig: decision.headerTooBig,
    bareLineEnding: deps.config.smtpBareLineEndings === 'reject' && end.bareLineEnding,
    caseRefusal: decision.caseRefusal,
    automatic: decision.automatic,
    limits: { maxMessageBytes: deps.config.maxMessageBytes, maxHeaderBytes: deps.config.smtpMaxHeaderBytes },
    uploadUrl: uploadBaseUrl(deps.config),
  });
  if (verdict.kind !== 'accept') {
    if (put?.ok) await deps.spool.discard(spoolId, log);
    return refuseOrDiscard(verdict, e);
  }
  if (!put?.ok) {
    log.error({ err: put?.error, event: 'smtp_spool_failed' }, 'message not spooled');
    return reply(isDiskFull(put?.error) ? 'storageFull' : 'localError');
  }
  if (e.tap) {
    const refused = await senderGate(e.tap, e);
    if (refused) return refused;
  }
  const result = await queue(spoolId, decision.headers?.get('message-id'), end.sha256, deps, log);
  if (result.name === 'queued') {
    log.info(
      { event: 'smtp_queued', caseNumber: decision.caseNumber, bytes: end.bytes, automatic: decision.automatic, normalized: end.bareLineEnding },
      'message queued',
    );
  }
  return result;
}

/** CASEDROP_AUTH_POLICY=require: unauthenticated mail is refused (or, automatic, discarded) after all. */
async function senderGate(tap: AuthTap, e: Ending): Promise<DataReply | undefined> {
  const auth = await tap.result;
  const gate = authGate(auth, e.mailFrom, e.decision.automatic);
  if (gate.kind === 'accept') return undefined;
  await e.deps.spool.discard(e.spoolId, e.log);
  e.log.info(
    {
      event: 'smtp_sender_unauthenticated',
      reply: gate.name,
      spf: auth.spf.result,
      dmarc: auth.dmarc.result,
      dkim: auth.dkim.map((s) => s.result),
      mailFrom: e.mailFrom,
    },
    'sender not authenticated under the require policy',
  );
  if (gate.kind === 'discard') return reply('discardedAutomatic', { id: e.spoolId });
  return reply(gate.name, gate.vars);
}

function refuseOrDiscard(verdict: Exclude<ContentVerdict, { kind: 'accept' }>, e: Ending): DataReply {
  if (verdict.kind === 'refuse') {
    e.log.info({ event: 'smtp_refused', reply: verdict.refusal.name, caseNumber: e.decision.caseNumber }, 'message refused');
    return reply(verdict.refusal.name, verdict.refusal.vars);
  }
  e.log.info(
    { event: 'smtp_discarded_automatic', because: verdict.because.name, automatic: e.decision.autoReason, mailFrom: e.mailFrom },
    'automatic message failed a check: accepted and discarded',
  );
  return reply('discardedAutomatic', { id: e.spoolId });
}

/** From the header block (or its absence) to the case the message goes to, or the refusal. */
async function decide(head: HeadResult, tx: Transaction, mailFrom: string, deps: MessageDeps): Promise<Decision> {
  const { config } = deps;
  const headers: HeaderBlock = head.kind === 'headers' ? head.headers : { get: () => undefined };
  const autoReason = automaticReason(headers, mailFrom);
  const base = { automatic: autoReason !== undefined, autoReason, headers: head.kind === 'headers' ? headers : undefined };
  if (head.kind === 'tooBig') return { ...base, headerTooBig: true };
  // a case named by the address was checked against the registry at RCPT
  const fromAddress = caseFromRecipients(tx.recipientCases);
  if (fromAddress.kind === 'found')
    return { ...base, headerTooBig: false, caseNumber: fromAddress.caseNumber, caseRefusal: await senderRefusal(fromAddress.caseNumber, mailFrom, deps) };
  const finding = findCaseNumber(headers.get('subject'), { digits: config.caseDigits, prefixes: config.caseSubjectPrefixes });
  const lookup: CaseLookup | undefined = finding.kind === 'found' ? await lookupCase(deps.registry, finding.caseNumber) : undefined;
  const refusal = caseRefusal(finding, lookup, { example: caseExample({ digits: config.caseDigits, prefixes: config.caseSubjectPrefixes }) });
  const caseNumber = finding.kind === 'found' ? finding.caseNumber : undefined;
  const contactRefusal = caseNumber !== undefined && !refusal ? await senderRefusal(caseNumber, mailFrom, deps) : undefined;
  return { ...base, headerTooBig: false, caseNumber, caseRefusal: refusal ?? contactRefusal };
}

/** A case with known senders takes mail from them only. */
async function senderRefusal(caseNumber: string, mailFrom: string, deps: MessageDeps): Promise<Refusal | undefined> {
  const known = deps.contacts ? await deps.contacts.list(caseNumber) : [];
  if (known.length === 0 || isContact(known, mailFrom)) return undefined;
  return { name: 'senderNotContact', vars: { case: caseNumber, sender: mailFrom } };
}

async function lookupCase(registry: CaseRegistry, caseNumber: string): Promise<CaseLookup> {
  const found = await registry.get(caseNumber);
  return found ? found.state : 'missing';
}

type PutOutcome = { ok: true } | { ok: false; error: unknown };

function startSpool(pipe: DataPipe, spoolId: string, session: SMTPServerSession, d: Decision, deps: MessageDeps, tap?: AuthTap): Promise<PutOutcome> {
  const meta = spoolMeta(spoolId, session, d);
  const received = receivedHeader({
    heloName: session.hostNameAppearsAs || undefined,
    clientAddress: session.remoteAddress,
    // smtp-server gives `[address]` when the reverse look-up found nothing: no name to show then
    clientHostname: session.clientHostname.startsWith('[') ? undefined : session.clientHostname,
    hostname: deps.config.hostname,
    id: spoolId,
    protocol: transmissionProtocol({ lmtp: deps.config.smtpLmtp, secure: session.secure, authenticated: Boolean(session.user) }),
    // every recipient is one of our intake addresses, so naming the first one discloses nothing
    recipient: session.envelope.rcptTo[0]?.address ?? '',
    date: new Date(meta.receivedAt),
  });
  async function* body(): AsyncGenerator<Buffer> {
    yield Buffer.from(received, 'utf8');
    if (!tap) return yield* pipe.body();
    try {
      for await (const chunk of pipe.body()) {
        await tap.feed(chunk);
        yield chunk;
      }
      tap.end();
    } finally {
      tap.abort();
    }
  }
  return deps.spool.write(meta, body()).then(
    (): PutOutcome => ({ ok: true }),
    (error: unknown): PutOutcome => {
      // nothing was committed (the store removes its temp file); read on to the final dot
      pipe.stop('spool write failed');
      return { ok: false, error };
    },
  );
}

function spoolMeta(spoolId: string, session: SMTPServerSession, d: Decision): SpoolMeta {
  const subject = d.headers?.get('subject');
  const messageId = d.headers?.get('message-id')?.trim();
  return {
    spoolId,
    caseNumber: d.caseNumber!,
    receivedAt: new Date().toISOString(),
    mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
    rcptTo: session.envelope.rcptTo.map((r) => r.address),
    ...(messageId ? { messageId } : {}),
    ...(subject !== undefined ? { subject: decodeSubject(subject).trim() } : {}),
    clientAddress: session.remoteAddress,
    ...(session.hostNameAppearsAs ? { heloName: session.hostNameAppearsAs } : {}),
    sessionId: session.id,
    automatic: d.automatic,
  };
}

/** Dedup check, then the job. Any failure removes the spool object: a 4xx leaves nothing behind. */
async function queue(spoolId: string, messageId: string | undefined, sha256: string, deps: MessageDeps, log: Logger): Promise<DataReply> {
  let release: (() => Promise<void>) | undefined;
  try {
    if (deps.dedup && messageId?.trim()) {
      const claim = await deps.dedup.claim(messageId, sha256, spoolId);
      if (claim.duplicateOf) {
        await deps.spool.discard(spoolId, log);
        log.info({ event: 'smtp_duplicate', duplicateOf: claim.duplicateOf }, 'same message already queued; not queued again');
        return reply('duplicate', { id: claim.duplicateOf });
      }
      release = claim.release;
    }
    await deps.spool.enqueue(spoolId);
    return reply('queued', { id: spoolId });
  } catch (err) {
    log.error({ err, event: 'smtp_queue_failed' }, 'queue unavailable; spool object removed');
    await release?.().catch((e: unknown) => log.warn({ err: e }, 'dedup claim not released'));
    await deps.spool.abandon(spoolId, log);
    return reply('queueUnavailable');
  }
}

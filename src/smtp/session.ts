import type { SMTPServerAddress, SMTPServerAuthentication, SMTPServerAuthenticationResponse, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { exampleCaseNumber } from '../cases/number.js';
import type { CaseRegistry } from '../cases/types.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { smtpReplies } from '../metrics.js';
import type { CheckCredentials } from './auth.js';
import { ConnectionCounter } from './connections.js';
import type { ProbeGuard } from './probing.js';
import { receiveMessage, type MessageDeps, type Transaction } from './message.js';
import { replies, smtpError, type ReplyName, type SmtpError } from './replies.js';
import { classifyRecipient, caseFromRecipients, isPostmaster, subaddress } from './recipients.js';
import { caseExample } from './subject.js';
import { caseRefusal, type CaseLookup } from './verdict.js';

/**
 * The SMTP session handlers: who may connect, MAIL, RCPT (address and sub-address case checked
 * here, so most wrong mail is refused before any data), AUTH, and the hand-over of DATA to
 * message.ts. Every refusal is a reply from replies.ts; a failure nobody classified is 451 4.3.0.
 */
export interface DoorDeps extends Omit<MessageDeps, 'log'> {
  config: Config;
  logger: Logger;
  registry: CaseRegistry;
  checkCredentials?: CheckCredentials;
  /** case-number probing: tarpit and refusal (probing.ts); off when absent */
  probe?: ProbeGuard;
}

interface SessionState {
  log: Logger;
  tx: Transaction;
}

type Callback = (err?: Error | null) => void;

export class Door {
  /** Set by stop(): newcomers and new transactions get 421 4.3.2. */
  stopping = false;
  private readonly sessions = new Map<string, SessionState>();
  private readonly counter: ConnectionCounter;
  /** sessions with a transaction between MAIL and the reply to DATA */
  private readonly inFlight = new Set<string>();
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly deps: DoorDeps) {
    this.counter = new ConnectionCounter(deps.config.smtpMaxConnections, deps.config.smtpMaxConnectionsPerIp, deps.config.smtpMaxConnectionsPerNet);
  }

  get transactionsInFlight(): number {
    return this.inFlight.size;
  }

  /** Resolves once no transaction is in flight. */
  whenIdle(): Promise<void> {
    if (this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  onConnect(session: SMTPServerSession, callback: Callback): void {
    const log = this.deps.logger.child({ session: session.id });
    if (this.stopping) return callback(this.refuse('shuttingDown'));
    const admission = this.counter.admit(session.id, session.remoteAddress);
    if (admission !== 'ok') {
      log.warn({ client: session.remoteAddress, limit: admission, event: 'smtp_connection_refused' }, 'connection limit reached');
      // the total limit is the server's state, not the client's fault: say busy
      return callback(this.refuse(admission === 'total' ? 'serverBusy' : 'tooManyConnections'));
    }
    this.sessions.set(session.id, { log, tx: newTransaction() });
    log.info({ client: session.remoteAddress, clientHostname: session.clientHostname, event: 'smtp_connect' }, 'connection');
    callback();
  }

  onClose(session: SMTPServerSession): void {
    this.counter.release(session.id);
    this.sessions.get(session.id)?.log.info({ event: 'smtp_close' }, 'connection closed');
    this.sessions.delete(session.id);
    this.settle(session.id);
  }

  onAuth(
    auth: SMTPServerAuthentication,
    session: SMTPServerSession,
    callback: (err: Error | null | undefined, response?: SMTPServerAuthenticationResponse) => void,
  ): void {
    const ok = this.deps.checkCredentials?.(auth.username ?? '', auth.password ?? '') ?? false;
    // the user name is logged, never the password
    this.state(session).log.info(
      { user: auth.username, method: auth.method, ok, event: 'smtp_auth' },
      ok ? 'relay authenticated' : 'relay authentication failed',
    );
    if (!ok) return callback(this.refuse('authFailed'));
    callback(null, { user: auth.username });
  }

  onMailFrom(address: SMTPServerAddress, session: SMTPServerSession, callback: Callback): void {
    if (this.stopping) return callback(this.refuse('shuttingDown'));
    if (this.deps.config.smtpRequireTls && !session.secure) return callback(this.refuse('tlsRequired'));
    const probe = this.deps.probe;
    if (!probe) return this.startTransaction(session, callback);
    probe.blockedFor(session.remoteAddress).then(
      (seconds) => {
        if (seconds === undefined) return this.startTransaction(session, callback);
        this.state(session).log.warn({ event: 'smtp_probe_blocked', client: session.remoteAddress, seconds }, 'address refused for case-number probing');
        callback(this.refuse('probing', { minutes: String(Math.ceil(seconds / 60)) }));
      },
      // Redis trouble must not lock customers out: probing protection is best effort
      () => this.startTransaction(session, callback),
    );
  }

  private startTransaction(session: SMTPServerSession, callback: Callback): void {
    const state = this.state(session);
    state.tx = newTransaction();
    this.inFlight.add(session.id);
    callback();
  }

  onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, callback: Callback): void {
    this.checkRecipient(address.address, session).then(
      (refusal) => void this.afterCaseReply(refusal?.reply, session).then(() => callback(refusal)),
      (err: unknown) => {
        this.state(session).log.error({ err, event: 'smtp_rcpt_error' }, 'recipient check failed');
        callback(this.refuse('queueUnavailable'));
      },
    );
  }

  onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (err?: Error | null, message?: string) => void): void {
    const state = this.state(session);
    receiveMessage(stream, session, state.tx, { ...this.deps, log: state.log })
      .then(
        async (reply) => {
          await this.afterCaseReply(reply.name, session);
          if (!reply.unsent) smtpReplies.inc({ reason: reply.name, code: String(replies[reply.name].code) });
          if (reply.code >= 400) callback(reply.error);
          else callback(null, reply.text);
        },
        (err: unknown) => {
          // receiveMessage answers every failure itself; this is the last line of defence
          state.log.error({ err, event: 'smtp_data_error' }, 'unexpected failure in DATA');
          callback(this.refuse('localError'));
        },
      )
      .finally(() => this.settle(session.id));
  }

  private async checkRecipient(address: string, session: SMTPServerSession): Promise<SmtpError | undefined> {
    const { config } = this.deps;
    const tx = this.state(session).tx;
    if (session.envelope.rcptTo.length >= config.smtpMaxRecipients) return this.refuse('tooManyRecipients', { max: String(config.smtpMaxRecipients) });
    if (isPostmaster(address, config.intakeAddresses)) {
      // postmaster mail is forwarded, never filed: it cannot share a message with intake mail
      if (tx.intake) return this.refuse('postmasterAlone');
      tx.postmaster = true;
      return undefined;
    }
    if (tx.postmaster) return this.refuse('postmasterAlone');
    const found = classifyRecipient(address, config.intakeAddresses, { digits: config.caseDigits });
    const intake = config.intakeAddresses[0]!;
    if (!found.accepted && found.reason === 'badSubaddress') {
      return this.refuse('subaddressInvalid', { address, digits: String(config.caseDigits), intake: subaddress(intake, exampleCaseNumber(config.caseDigits)) });
    }
    if (!found.accepted) return this.refuse('recipientUnknown', { address, intake });
    if (found.caseNumber === undefined) {
      tx.intake = true;
      return undefined;
    }
    const finding = caseFromRecipients([...tx.recipientCases, found.caseNumber]);
    const lookup = finding.kind === 'found' ? await this.lookup(finding.caseNumber) : undefined;
    const refusal = caseRefusal(finding, lookup, { example: caseExample({ digits: config.caseDigits, prefixes: config.caseSubjectPrefixes }) });
    if (refusal) return this.refuse(refusal.name, refusal.vars);
    tx.recipientCases.push(found.caseNumber);
    tx.intake = true;
    return undefined;
  }

  /** A "case does not exist" reply is counted against the client, and held back once it looks like probing. */
  private async afterCaseReply(name: string | undefined, session: SMTPServerSession): Promise<void> {
    if (name !== 'caseUnknown' || !this.deps.probe) return;
    const delay = await this.deps.probe.record(session.remoteAddress, this.state(session).log).catch(() => 0);
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
  }

  private async lookup(caseNumber: string): Promise<CaseLookup> {
    const found = await this.deps.registry.get(caseNumber);
    return found ? found.state : 'missing';
  }

  private refuse(name: ReplyName, vars?: Record<string, string>): SmtpError {
    smtpReplies.inc({ reason: name, code: String(replies[name].code) });
    return smtpError(name, vars);
  }

  private state(session: SMTPServerSession): SessionState {
    let state = this.sessions.get(session.id);
    if (!state) {
      // a handler of a session onConnect refused never runs; a fresh state keeps this total anyway
      state = { log: this.deps.logger.child({ session: session.id }), tx: newTransaction() };
      this.sessions.set(session.id, state);
    }
    return state;
  }

  private settle(sessionId: string): void {
    if (!this.inFlight.delete(sessionId) || this.inFlight.size > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}

function newTransaction(): Transaction {
  return { recipientCases: [], postmaster: false, intake: false };
}

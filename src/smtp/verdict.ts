import type { CaseState } from '../cases/types.js';
import type { ReceivedProtocol } from './received.js';
import type { ReplyName } from './replies.js';
import type { CaseFinding } from './subject.js';

/**
 * Pure decisions of the data phase; session.ts and message.ts gather the facts and do the I/O.
 *
 * Decided: automatic mail that fails any content check (case, size, header size, bare line
 * endings) is accepted and discarded, since a refusal makes the sending MTA bounce it and a bounce to
 * an automaton can loop (RFC 3834). Recipients and a declared SIZE are refused at RCPT/MAIL as for
 * anyone: the Auto-Submitted header is not known yet then, and a null sender's bounce goes nowhere.
 */
export interface Refusal {
  name: ReplyName;
  vars: Record<string, string>;
}

/** What the registry said about the case a message names; `missing` when it has no such case. */
export type CaseLookup = CaseState | 'missing';

export interface CaseWording {
  example: string;
}

/** The refusal for a case finding that names no usable case, or for a case that is not open. */
export function caseRefusal(finding: CaseFinding, lookup: CaseLookup | undefined, wording: CaseWording): Refusal | undefined {
  if (finding.kind === 'none') return { name: 'noCaseNumber', vars: { example: wording.example } };
  if (finding.kind === 'ambiguous') return { name: 'ambiguousCaseNumber', vars: { numbers: finding.numbers.join(', '), example: wording.example } };
  if (lookup === 'missing') return { name: 'caseUnknown', vars: { case: finding.caseNumber } };
  if (lookup === 'closed') return { name: 'caseClosed', vars: { case: finding.caseNumber } };
  return undefined;
}

export interface ContentFacts {
  sizeExceeded: boolean;
  headerTooBig: boolean;
  /** a bare CR or LF was seen and the policy is to refuse them */
  bareLineEnding: boolean;
  /** the refusal decided from the headers (case number, case state), if any */
  caseRefusal?: Refusal;
  automatic: boolean;
  limits: { maxMessageBytes: number; maxHeaderBytes: number };
  /** the upload drive's base URL, quoted when a message is too big for mail */
  uploadUrl?: string;
}

export type ContentVerdict = { kind: 'accept' } | { kind: 'refuse'; refusal: Refusal } | { kind: 'discard'; because: Refusal };

/** After the final dot: the first failed check wins, in the order a customer should fix them. */
export function contentVerdict(f: ContentFacts): ContentVerdict {
  const refusal = firstRefusal(f);
  if (!refusal) return { kind: 'accept' };
  return f.automatic ? { kind: 'discard', because: refusal } : { kind: 'refuse', refusal };
}

function firstRefusal(f: ContentFacts): Refusal | undefined {
  if (f.sizeExceeded) return { name: 'sizeExceeded', vars: { limit: String(f.limits.maxMessageBytes), ...(f.uploadUrl ? { upload: f.uploadUrl } : {}) } };
  if (f.headerTooBig) return { name: 'headerTooBig', vars: { limit: String(f.limits.maxHeaderBytes) } };
  if (f.bareLineEnding) return { name: 'bareLineEnding', vars: {} };
  return f.caseRefusal;
}

/**
 * The RFC 3848 protocol name for the Received header: ESMTP, ESMTPS, ESMTPA, ESMTPSA or LMTP.
 * RFC 6531's UTF8SMTP names are not used: received.ts does not offer them, and nothing downstream
 * reads the protocol.
 */
export function transmissionProtocol(o: { lmtp: boolean; secure: boolean; authenticated: boolean }): ReceivedProtocol {
  if (o.lmtp) return 'LMTP';
  return `ESMTP${o.secure ? 'S' : ''}${o.authenticated ? 'A' : ''}` as ReceivedProtocol;
}

import { domainOf, doorAuthVerdict, describeAuth } from '../auth/trust.js';
import type { SenderAuth } from '../auth/types.js';
import type { ReplyName } from './replies.js';

/**
 * Pure: the door's answer under `CASEDROP_AUTH_POLICY=require`, from the checks mailauth ran while
 * the message streamed in. Automatic mail that fails is discarded rather than refused (as for every
 * other door check, a refusal could start a bounce loop); a DNS failure is 451 for everyone.
 */
export type AuthGate = { kind: 'accept' } | { kind: 'refuse' | 'discard'; name: ReplyName; vars: Record<string, string> };

export function authGate(auth: SenderAuth, mailFrom: string, automatic: boolean): AuthGate {
  const verdict = doorAuthVerdict(auth, mailFrom);
  if (verdict.kind === 'accept') return { kind: 'accept' };
  if (verdict.kind === 'temporary') return { kind: 'refuse', name: 'authTemporary', vars: {} };
  const domain = domainOf(mailFrom) || auth.heloName || auth.clientAddress;
  const refusal: { name: ReplyName; vars: Record<string, string> } =
    verdict.kind === 'spf'
      ? { name: 'authSpfFailed', vars: { domain, ip: auth.clientAddress } }
      : { name: 'authMultipleFailed', vars: { how: describeAuth(auth), domain } };
  return { kind: automatic ? 'discard' : 'refuse', ...refusal };
}

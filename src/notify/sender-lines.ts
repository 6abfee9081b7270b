import addressparser from 'nodemailer/lib/addressparser/index.js';
import { describeAuth, displayNameWarning, senderTrust } from '../auth/trust.js';
import type { Outcome } from '../jobs/types.js';
import { safeName } from './words.js';

/**
 * The lines of an engineer's notice that say who really sent a message: the client's IP and HELO
 * name, how (or whether) the sender was authenticated, and a warning when the From display name
 * claims a domain the authentication does not vouch for. Pure.
 */
export function senderLines(outcome: Pick<Outcome, 'auth' | 'mailFrom' | 'from'>): string[] {
  const auth = outcome.auth;
  if (!auth) return ['  Authenticated: not checked (recorded before sender checks)'];
  const trust = senderTrust(auth, outcome.mailFrom);
  const warning = displayNameWarning(displayName(outcome.from), auth);
  return [
    `  Client:     ${safeName(auth.clientAddress || '?')}${auth.heloName ? ` (HELO ${safeName(auth.heloName)})` : ''}`,
    trust.trusted ? `  Authenticated: yes, ${trust.how}` : `  Authenticated: NO (${describeAuth(auth)}): the sender address may be forged`,
    ...(warning ? [`  WARNING: ${safeName(warning)}`] : []),
  ];
}

/** The display name of a From header (cut first: header values are customer input). */
export function displayName(from: string | undefined): string | undefined {
  if (!from) return undefined;
  const first = addressparser(from.slice(0, 1000))[0];
  return first && 'name' in first && first.name ? first.name : undefined;
}

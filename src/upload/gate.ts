import type { IncomingMessage } from 'node:http';
import { tokenAllows, type UploadToken } from '../cases/token-rules.js';
import type { TokenStore } from '../cases/tokens.js';
import type { Config } from '../config/schema.js';
import { checkUploadName } from '../intake/names.js';
import type { Channel } from '../intake/types.js';
import { parseAuthorization, parseContentLength, parseSha256Digest, type Credentials } from './headers.js';
import type { LoginLimiter } from './login-limit.js';
import { refusal, type UploadRefusal } from './replies.js';
import type { CaseUsage } from './usage.js';

/**
 * Everything decided before a single body byte is read: who (login, brute-force limit), where
 * (the name), how much (file, case and token caps) and the promised digest. The listener answers
 * `100 Continue` only when this passes, so a refusal never costs the client its transfer.
 */
export interface GateDeps {
  config: Pick<Config, 'caseDigits' | 'uploadMaxFileBytes' | 'uploadMaxCaseBytes'>;
  tokens: TokenStore;
  limiter: LoginLimiter;
  usage: CaseUsage;
  now?: () => Date;
}

export interface Admission {
  caseNumber: string;
  token: UploadToken;
  name: string;
  /** undefined for a chunked body */
  declaredLength?: number;
  /** bytes this upload may carry at most: the smallest of the file, case and token allowances */
  allowance: number;
  allowanceCode: 'file-too-big' | 'case-full' | 'token-quota';
  expectSha256?: string;
}

export type GateResult = { ok: true; admission: Admission } | { ok: false; refusal: UploadRefusal };

const no = (r: UploadRefusal): GateResult => ({ ok: false, refusal: r });

export async function gate(req: IncomingMessage, rawName: string, channel: Channel, clientAddress: string, deps: GateDeps): Promise<GateResult> {
  const login = await logIn(req.headers.authorization, clientAddress, channel, deps);
  if (!login.ok) return login;
  const { caseNumber, token } = login;
  const named = checkUploadName(rawName);
  if (!named.ok) return no(refusal('bad-name', { why: named.why }));
  const length = parseContentLength(req.headers['content-length']);
  if (length === 'invalid') return no(refusal('bad-length'));
  const digest = parseSha256Digest(header(req, 'repr-digest') ?? header(req, 'content-digest'));
  if (digest === 'invalid') return no(refusal('bad-digest'));
  const limits = await allowance(caseNumber, token, deps);
  if (length !== undefined && length > limits.allowance) return no(refusal(limits.code, { limit: limits.allowance }));
  return {
    ok: true,
    admission: {
      caseNumber,
      token,
      name: named.name,
      ...(length !== undefined ? { declaredLength: length } : {}),
      allowance: limits.allowance,
      allowanceCode: limits.code,
      ...(digest !== undefined ? { expectSha256: digest } : {}),
    },
  };
}

type Login = { ok: true; caseNumber: string; token: UploadToken } | { ok: false; refusal: UploadRefusal };

export async function logIn(authorization: string | undefined, clientAddress: string, channel: Channel, deps: GateDeps): Promise<Login> {
  const creds = parseAuthorization(authorization);
  const claimed = creds ? await claimedCase(creds, deps) : undefined;
  const wait = await deps.limiter.blockedFor(clientAddress, claimed);
  if (wait > 0) return { ok: false, refusal: refusal('too-many-failures', { retryAfter: wait }, { 'retry-after': String(wait) }) };
  if (!creds) return { ok: false, refusal: refusal('auth-required', {}, { 'www-authenticate': 'Basic realm="casedrop upload", charset="UTF-8"' }) };
  const token = claimed ? await deps.tokens.authenticate(claimed, creds.secret) : null;
  const why = token ? tokenAllows(token, channel, (deps.now ?? (() => new Date()))()) : 'unknown';
  if (!token || why === 'expired' || why === 'unknown') {
    await deps.limiter.failed(clientAddress, claimed);
    return { ok: false, refusal: refusal('auth-failed', {}, { 'www-authenticate': 'Basic realm="casedrop upload", charset="UTF-8"' }) };
  }
  if (why === 'channel') return { ok: false, refusal: refusal('channel-not-allowed') };
  return { ok: true, caseNumber: claimed!, token };
}

async function claimedCase(creds: Credentials, deps: GateDeps): Promise<string | undefined> {
  if (creds.kind === 'bearer') return deps.tokens.caseOf(creds.secret);
  return new RegExp(`^\\d{${deps.config.caseDigits}}$`).test(creds.user) ? creds.user : undefined;
}

export async function allowance(caseNumber: string, token: UploadToken, deps: GateDeps): Promise<{ allowance: number; code: Admission['allowanceCode'] }> {
  const used = await deps.usage.bytes(caseNumber);
  const options: Array<{ allowance: number; code: Admission['allowanceCode'] }> = [
    { allowance: deps.config.uploadMaxFileBytes, code: 'file-too-big' },
    { allowance: Math.max(0, deps.config.uploadMaxCaseBytes - used), code: 'case-full' },
  ];
  if (token.maxBytes !== undefined) options.push({ allowance: Math.max(0, token.maxBytes - token.bytesUploaded), code: 'token-quota' });
  return options.reduce((a, b) => (b.allowance < a.allowance ? b : a));
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

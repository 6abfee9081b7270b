import { tokenAllows } from '../cases/token-rules.js';
import type { TokenStore } from '../cases/tokens.js';
import type { LoginLimiter } from '../upload/login-limit.js';
import type { AuthPort } from './ports.js';

/**
 * Device logins against the upload tokens of issue 16, with the same failed-login limits as the
 * HTTPS door (per client address and per case, in Redis): the username is the case number, the
 * password the token. An expired, revoked or unknown token, a closed case or a case number that
 * is not one all count as a failure and look the same to the client.
 */
export function tokenAuth(tokens: TokenStore, limiter: LoginLimiter, caseDigits: number, now: () => Date = () => new Date()): AuthPort {
  const caseShape = new RegExp(`^\\d{${caseDigits}}$`);
  return {
    async login(user, password, wanted, clientAddress) {
      const claimed = caseShape.test(user) ? user : undefined;
      const wait = await limiter.blockedFor(clientAddress, claimed);
      if (wait > 0) return { ok: false, why: 'limited', retryAfterSeconds: wait };
      const token = claimed ? await tokens.authenticate(claimed, password) : null;
      const at = now();
      const channels = token ? wanted.filter((c) => tokenAllows(token, c, at) === undefined || tokenAllows(token, c, at) === 'quota') : [];
      if (!token || channels.length === 0) {
        await limiter.failed(clientAddress, claimed);
        return { ok: false, why: 'invalid' };
      }
      const quotaBytes = token.maxBytes !== undefined ? Math.max(0, token.maxBytes - token.bytesUploaded) : undefined;
      return {
        ok: true,
        login: {
          caseNumber: claimed!,
          token: { id: token.id, label: token.label },
          clientAddress,
          channels,
          ...(quotaBytes !== undefined ? { quotaBytes } : {}),
        },
      };
    },
  };
}

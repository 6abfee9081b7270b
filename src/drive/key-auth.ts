import type { SshKeyStore } from '../cases/ssh-keys.js';
import type { LoginLimiter } from '../upload/login-limit.js';
import type { KeyAuthPort } from './ports.js';

/**
 * SSH public-key logins to a case: the username is the case number, the key one registered for
 * that case with `casedrop case key add`, the case open. The same failed-login limits as tokens:
 * a bad signature is a failure at once; an unsigned offer of an unknown key is not (a client
 * offers every key it holds before its password), but a connection that ends with only such
 * offers is one. A key session acts as a token session allowed on both SSH channels.
 */
export function keyAuth(keys: SshKeyStore, limiter: LoginLimiter, caseDigits: number): KeyAuthPort {
  const caseShape = new RegExp(`^\\d{${caseDigits}}$`);
  return {
    async loginWithKey(user, offer, clientAddress) {
      const claimed = caseShape.test(user) ? user : undefined;
      const wait = await limiter.blockedFor(clientAddress, claimed);
      if (wait > 0) return { ok: false, why: 'limited', retryAfterSeconds: wait };
      const key = claimed ? await keys.authenticate(claimed, offer) : null;
      if (!key) {
        if (offer.signed) await limiter.failed(clientAddress, claimed);
        return { ok: false, why: 'invalid' };
      }
      if (offer.signed) await keys.recordLogin(key.caseNumber, key.id);
      return {
        ok: true,
        login: { caseNumber: key.caseNumber, token: { id: key.id, label: key.label }, clientAddress, channels: ['sftp', 'scp'] },
      };
    },
    async keysRefused(user, clientAddress) {
      await limiter.failed(clientAddress, caseShape.test(user) ? user : undefined);
    },
  };
}

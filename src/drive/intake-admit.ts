import type { TokenStore } from '../cases/tokens.js';
import type { Config } from '../config/schema.js';
import { newId } from '../ids.js';
import { admitStream, type StreamDeps } from '../intake/admit.js';
import type { CaseUsage } from '../upload/usage.js';
import type { SegmentedSinkDeps } from './segmented-sink.js';

export interface IntakeAdmitDeps {
  config: Pick<Config, 'uploadMaxFileBytes' | 'uploadMaxCaseBytes'>;
  intake: StreamDeps;
  tokens: TokenStore;
  usage: CaseUsage;
}

/**
 * The device doors' side of the one intake path (src/intake/): the same name rule, verdict,
 * store, record and caps as an HTTPS upload, and the same token and case byte counts.
 */
export function intakeAdmit(deps: IntakeAdmitDeps): Pick<SegmentedSinkDeps, 'allowance' | 'admit'> {
  return {
    async allowance(login) {
      const caseLeft = deps.config.uploadMaxCaseBytes - (await deps.usage.bytes(login.caseNumber));
      return Math.max(0, Math.min(deps.config.uploadMaxFileBytes, caseLeft, login.quotaBytes ?? Infinity));
    },
    async admit(login, name, channel, content) {
      const arrival = { caseNumber: login.caseNumber, channel, fileId: newId(), originalName: name, receivedAt: new Date().toISOString(), token: login.token, extra: { clientAddress: login.clientAddress } };
      const file = await admitStream(arrival, content, deps.intake);
      if (file.kept) await Promise.all([deps.tokens.recordUse(login.caseNumber, login.token.id, file.size), deps.usage.add(login.caseNumber, file.size)]);
      return { storedName: file.storedName, size: file.size, sha256: file.sha256, verdict: file.verdict, reason: file.reason, kept: file.kept, advice: file.advice };
    },
  };
}

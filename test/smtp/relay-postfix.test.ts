import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SpoolMeta } from '../../src/jobs/types.js';
import { manifest, message, sendWithNodemailer, startDoor, type TestDoor } from './door.js';
import { postfixUnavailable, startRelay, type RelayPostfix } from './postfix-relay.js';

/**
 * A real MTA in front of casedrop: Debian's Postfix on loopback with casedrop as its relayhost.
 * Postfix brings its own client behaviour (PIPELINING, SIZE, 8BITMIME, its own Received header and
 * retry/bounce logic), so this shows the replies work for the relays customers actually use.
 * Runs wherever Postfix is installed and the tests run as root (CI does both); otherwise skipped.
 */
const DOMAIN = 'casedrop.test';
const intake = `attach@${DOMAIN}`;
const from = 'customer@example.com';
const unavailable = postfixUnavailable();
if (unavailable) console.warn(`relay-postfix.test: skipped: ${unavailable}`);

describe.skipIf(unavailable !== undefined)('Postfix relaying into casedrop', () => {
  let d: TestDoor;
  let relay: RelayPostfix;
  beforeAll(async () => {
    d = await startDoor({ env: { CASEDROP_INTAKE_ADDRESSES: intake, CASEDROP_HOSTNAME: 'casedrop.test' } });
    relay = await startRelay(mkdtempSync(join(tmpdir(), 'casedrop-postfix-')), DOMAIN, d.port);
  }, 60_000);
  afterAll(async () => {
    await relay?.stop();
    await d?.close();
  });

  /** Postfix's log line for the delivery to casedrop, once it is there. */
  async function delivery(messageId: string): Promise<string> {
    return vi.waitFor(
      () => {
        const queueId = new RegExp(`postfix/cleanup\\[\\d+\\]: ([0-9A-F]+): message-id=<${messageId.replace(/[.]/g, '\\.')}>`).exec(relay.log())?.[1];
        const line =
          queueId &&
          relay
            .log()
            .split('\n')
            .find((l) => l.includes(`${queueId}: to=<`) && /status=(sent|bounced|deferred)/.test(l));
        if (!line) throw new Error(`Postfix has not delivered ${messageId} yet`);
        return line;
      },
      { timeout: 30_000, interval: 100 },
    );
  }

  it('a message handed to Postfix is relayed in and queued: one spool object, one job, the case from the Subject', async () => {
    const raw = message('case-subject.eml');
    const accepted = await sendWithNodemailer(relay.port, raw, { from, to: intake });
    expect(accepted.code).toBe(250); // Postfix took it
    const line = await delivery('1@messages.casedrop.test');
    const id = /status=sent \(250 2\.0\.0 queued as ([0-9A-Z]{26})\)/.exec(line)?.[1];
    expect(id, line).toBeDefined();
    expect(await d.spoolIds()).toEqual([id]);
    expect(await d.jobIds()).toEqual([id]);
    const meta = (await d.store.head(`spool/${id}`)).meta as unknown as SpoolMeta;
    expect(meta).toMatchObject({ caseNumber: manifest.cases.open, mailFrom: from, rcptTo: [intake], heloName: 'relay.postfix.test' });
    const stored = Buffer.concat(await (await d.store.get(`spool/${id}`)).toArray()).toString('utf8');
    // our Received on top, then Postfix's, then the customer's message
    expect(stored).toMatch(/^Received: from relay\.postfix\.test[\s\S]*?\r\nReceived: from [\s\S]*?by relay\.postfix\.test/);
    expect(stored).toContain(raw.subarray(raw.indexOf('\r\n\r\n')).toString('utf8'));
  }, 60_000);

  it('a refusal reaches the relay as the precise 5xx, which Postfix turns into its bounce', async () => {
    await sendWithNodemailer(relay.port, message('no-case.eml'), { from, to: intake });
    const line = await delivery('6@messages.casedrop.test');
    expect(line).toContain('status=bounced');
    expect(line).toContain('said: 550 5.6.0 no case number found: put the case number in the Subject, e.g. "Case 612345678"');
  }, 60_000);

  it('a wrong address is refused at RCPT, before Postfix sends any data', async () => {
    await sendWithNodemailer(relay.port, message('ten-digits.eml'), { from, to: `support@${DOMAIN}` });
    const line = await delivery('8@messages.casedrop.test');
    expect(line).toMatch(
      /said: 550 5\.1\.1 <support@casedrop\.test>: no such mailbox here; send files to attach@casedrop\.test \(in reply to RCPT TO command\)/,
    );
  }, 60_000);
});

import { counterTotal } from '../helpers/metrics.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listCaseFiles } from '../../src/cli/commands/case-files.js';
import type { CliContext } from '../../src/cli/context.js';
import { startBlackHole, startDnsmasq, type DnsServer } from './dns-server.js';
import { CASE, OTHER_CASE, OWNER, refusedFile, signedAsCustomer, startSystem, storedFile, testZone, wrongPrivatePem, type System } from './system.js';

/**
 * Issue 14's first two scenarios, end to end against a real DNS server (dnsmasq on loopback) with
 * real DKIM signatures (nodemailer's signer): who gets a reply, what the engineer is told, and what
 * the `require` policy refuses at the door.
 */
let dns: DnsServer;
let sys: System | undefined;

beforeAll(async () => {
  dns = await startDnsmasq(testZone());
});
afterAll(async () => {
  await dns?.stop();
});
afterEach(async () => {
  await sys?.close();
  sys = undefined;
});

const to = (s: System, address: string) => s.sink.mails.filter((m) => m.rcptTo.includes(address));

describe('record policy: replies only to authenticated senders', () => {
  it(
    'a forged sender (SPF fail, no DKIM) gets no DSN and the notice says unauthenticated; a signed aligned sender gets its DSN',
    { timeout: 240_000 },
    async () => {
      sys = await startSystem({ CASEDROP_DNS_SERVERS: dns.address });
      const untrustedBefore = await counterTotal('casedrop_replies_untrusted_total');
      const forged = await sys.send({
        from: 'victim@victim.test',
        header: '"Victim Bank support@victim.test" <victim@victim.test>',
        attachments: [refusedFile('forged.txt')],
      });
      const signed = await sys.send({ from: 'ops@customer.test', dkim: signedAsCustomer, attachments: [refusedFile('report.txt'), storedFile('logs.zip')] });
      if (!forged.ok || !signed.ok) throw new Error('both messages must be accepted under the record policy');
      const forgedOutcome = await sys.outcome(forged.spoolId);
      const signedOutcome = await sys.outcome(signed.spoolId);
      await sys.settled(2);

      expect(forgedOutcome.auth).toMatchObject({
        spf: { result: 'fail', domain: 'victim.test' },
        dkim: [],
        dmarc: { result: 'fail' },
        clientAddress: '127.0.0.1',
        heloName: 'client.test',
      });
      expect(forgedOutcome.auth?.header).toMatch(/^Authentication-Results: localhost;[\s\S]*spf=fail/);
      expect(signedOutcome.auth?.dkim).toEqual([{ domain: 'customer.test', result: 'pass', aligned: true }]);
      expect(signedOutcome.auth?.dmarc).toMatchObject({ result: 'pass', domain: 'customer.test' });

      expect(to(sys, 'victim@victim.test')).toEqual([]);
      expect(await counterTotal('casedrop_replies_untrusted_total'), 'the suppressed reply is counted').toBe(untrustedBefore + 1);
      const dsn = to(sys, 'ops@customer.test');
      expect(dsn).toHaveLength(1);
      expect(dsn[0]!.parsed.text).toContain('report.txt');

      const notices = to(sys, OWNER);
      expect(notices).toHaveLength(2);
      const forgedNotice = notices.find((m) => m.parsed.text?.includes(forged.spoolId))!.parsed.text ?? '';
      expect(forgedNotice).toContain('Authenticated: NO (SPF fail, no DKIM, DMARC fail (victim.test))');
      expect(forgedNotice).toContain('Client:     127.0.0.1 (HELO client.test)');
      expect(forgedNotice).toContain('none: the sender is not authenticated');
      expect(forgedNotice).toContain('forged.txt');
      expect(forgedNotice).toMatch(/WARNING: the From name claims victim\.test/);
      const signedNotice = notices.find((m) => m.parsed.text?.includes(signed.spoolId))!.parsed.text ?? '';
      expect(signedNotice).toContain('Authenticated: yes, DMARC pass (customer.test)');
      expect(signedNotice).not.toContain('WARNING');

      // `casedrop case files` shows how each file's sender was authenticated
      const out: string[] = [];
      await listCaseFiles({ out: (l: string) => out.push(l) } as unknown as CliContext, sys.store, CASE);
      expect(out).toHaveLength(1);
      expect(out[0]!.split('\t')).toEqual(expect.arrayContaining(['logs.zip', 'ops@customer.test', 'DMARC pass (customer.test)']));
    },
  );

  it('a known contact of the case gets its reply even unauthenticated, and a case with contacts refuses other senders', { timeout: 240_000 }, async () => {
    sys = await startSystem({ CASEDROP_DNS_SERVERS: dns.address }, { contacts: { [OTHER_CASE]: ['@victim.test'] } });
    const contact = await sys.send({ from: 'victim@victim.test', caseNumber: OTHER_CASE, attachments: [refusedFile('contact.txt')] });
    const stranger = await sys.send({ from: 'ops@spfok.test', caseNumber: OTHER_CASE, attachments: [refusedFile('stranger.txt')] });
    expect(stranger).toMatchObject({ ok: false, code: 550 });
    expect(!stranger.ok && stranger.response).toContain('5.7.1 case 612345679 takes mail only from its known senders');
    if (!contact.ok) throw new Error('the contact must be accepted');
    await sys.outcome(contact.spoolId);
    await sys.settled(1);
    expect(to(sys, 'victim@victim.test')).toHaveLength(1);
    expect(to(sys, OWNER)[0]!.parsed.text).toContain('Authenticated: NO');
  });
});

describe('require policy: the door refuses unauthenticated mail', () => {
  it('refuses SPF failure with 550 5.7.23, several failures with 550 5.7.26, and accepts a signed aligned sender', { timeout: 240_000 }, async () => {
    sys = await startSystem({ CASEDROP_DNS_SERVERS: dns.address, CASEDROP_AUTH_POLICY: 'require' });
    const forged = await sys.send({ from: 'victim@victim.test', attachments: [refusedFile('a.txt')] });
    expect(forged).toMatchObject({ ok: false, code: 550 });
    expect(!forged.ok && forged.response).toMatch(/^550 5\.7\.23 SPF check failed: victim\.test does not allow 127\.0\.0\.1/);
    const badSignature = await sys.send({
      from: 'ops@customer.test',
      dkim: { ...signedAsCustomer, privateKey: wrongPrivatePem },
      attachments: [refusedFile('b.txt')],
    });
    expect(badSignature).toMatchObject({ ok: false, code: 550 });
    expect(!badSignature.ok && badSignature.response).toMatch(
      /^550 5\.7\.26 sender not authenticated \(SPF fail, DKIM fail \(customer\.test\), DMARC fail \(customer\.test\)\)/,
    );
    const signed = await sys.send({ from: 'ops@customer.test', dkim: signedAsCustomer, attachments: [storedFile('logs.zip')] });
    expect(signed.ok).toBe(true);
    if (!signed.ok) throw new Error('unreachable');
    expect((await sys.outcome(signed.spoolId)).stored).toHaveLength(1);
    // the refused messages were never queued: one message processed, one notice
    await sys.settled(1);
    expect(await sys.queues.intake.getJobCounts('completed')).toEqual({ completed: 1 });
    expect(to(sys, OWNER)).toHaveLength(1);
  });

  it('answers 451 4.4.3, never a 5xx, when DNS does not answer', { timeout: 240_000 }, async () => {
    const hole = await startBlackHole();
    try {
      sys = await startSystem({ CASEDROP_DNS_SERVERS: hole.address, CASEDROP_DNS_TIMEOUT_MS: '200', CASEDROP_AUTH_POLICY: 'require' });
      const result = await sys.send({ from: 'ops@customer.test', dkim: signedAsCustomer, attachments: [storedFile('logs.zip')] });
      expect(result).toMatchObject({ ok: false, code: 451 });
      expect(!result.ok && result.response).toMatch(/^451 4\.4\.3 could not check the sender's SPF, DKIM or DMARC records/);
      expect(hole.queries).toBeGreaterThan(0);
      expect(await sys.store.list('spool/')).toEqual([]);
    } finally {
      await hole.stop();
    }
  });
});

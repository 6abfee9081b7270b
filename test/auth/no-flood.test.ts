import { counterTotal } from '../helpers/metrics.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MAX_REPLY_BYTES, RETURNED_HEADER_BYTES } from '../../src/notify/bounds.js';
import { startDnsmasq, type DnsServer } from './dns-server.js';
import { CASE, OTHER_CASE, OWNER, refusedFile, startSystem, storedFile, testZone, type System } from './system.js';

/**
 * Issue 14's last two scenarios: no refusal is lost to a reply cap (it reaches the sender in a
 * separate reply or the digest), and no flood of forged or hostile mail makes casedrop send more
 * than its caps allow, whatever came in.
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

/** A header block of about 200 KB: 200 fields of 1,000 bytes. */
const bigHeaders = (): Record<string, string> => Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`X-Filler-${i}`, 'f'.repeat(980)]));

describe('never a silent drop', () => {
  it(
    '25 messages from one authenticated sender, 5 with refused files: every refusal reaches it, in no more separate mails than the cap',
    { timeout: 240_000 },
    async () => {
      const cap = 5;
      sys = await startSystem({ CASEDROP_DNS_SERVERS: dns.address, CASEDROP_REPLY_RATE_PER_HOUR: String(cap) });
      const sender = 'ops@spfok.test';
      const spoolIds: string[] = [];
      const refusedNames: string[] = [];
      const capHitsBefore = await counterTotal('casedrop_reply_cap_hits_total', { cap: 'sender' });
      for (let i = 0; i < 25; i++) {
        const refused = i % 5 === 2;
        if (refused) refusedNames.push(`refused-${i}.txt`);
        const result = await sys.send({
          from: sender,
          attachments: refused ? [refusedFile(`refused-${i}.txt`), storedFile(`logs-${i}.zip`)] : [storedFile(`logs-${i}.zip`)],
        });
        if (!result.ok) throw new Error(`message ${i} refused: ${result.response}`);
        spoolIds.push(result.spoolId);
      }
      await sys.settled(25);
      const separate = sys.sink.mails.filter((m) => m.rcptTo.includes(sender));
      expect(separate.length).toBe(cap);
      expect(await counterTotal('casedrop_reply_cap_hits_total', { cap: 'sender' }), 'every reply over the cap is counted').toBe(capHitsBefore + 25 - cap);

      await sys.flushBatches();
      const toSender = sys.sink.mails.filter((m) => m.rcptTo.includes(sender));
      expect(toSender.length).toBe(cap + 1);
      const digest = toSender.find((m) => m.parsed.headers.has('x-casedrop-digest'))!;
      expect(digest.parsed.subject).toBe(
        `Your files for case ${CASE}: ${25 - cap} messages, ${refusedNames.length - separate.filter((m) => /refused/.test(m.parsed.subject ?? '')).length} files refused`,
      );
      expect(digest.mailFrom).toBe('');
      const everything = toSender.map((m) => m.parsed.text ?? '').join('\n');
      for (const name of refusedNames) expect(everything).toContain(name);
      // every message is answered: by its own reply or in the digest
      for (const id of spoolIds) expect(everything).toContain(id);
      // a second flush finds nothing left to send
      await sys.flushBatches();
      expect(sys.sink.mails.filter((m) => m.rcptTo.includes(sender))).toHaveLength(cap + 1);
    },
  );
});

describe('no amplification', () => {
  it(
    '80 forged senders with 200 KB headers get nothing; a burst of 30 from one authenticated domain stays under the caps; a burst to one case is one combined notice',
    { timeout: 240_000 },
    async () => {
      sys = await startSystem({
        CASEDROP_DNS_SERVERS: dns.address,
        CASEDROP_REPLY_RATE_PER_HOUR: '5',
        CASEDROP_REPLY_RATE_PER_DOMAIN_PER_HOUR: '5',
        CASEDROP_ENGINEER_NOTICES_PER_CASE_PER_HOUR: '1',
      });
      let bytesIn = 0;
      const send = async (from: string, caseNumber: string, i: number) => {
        const headers = bigHeaders();
        bytesIn += 200 * 1000;
        const r = await sys!.send({ from, caseNumber, headers, attachments: [refusedFile(`hostile-${i}.txt`)] });
        if (!r.ok) throw new Error(`refused: ${r.response}`);
      };
      // 40 forged local parts of one domain, 40 forged domains: SPF fails for every one
      for (let i = 1; i <= 40; i++) await send(`user${i}@victim.test`, CASE, i);
      for (let i = 1; i <= 40; i++) await send(`someone@x${i}.test`, CASE, 100 + i);
      // 30 authenticated senders (SPF pass), all local parts of one domain, to the other case
      for (let i = 1; i <= 30; i++) await send(`u${i}@spfok.test`, OTHER_CASE, 200 + i);
      await sys.settled(110);
      await sys.flushBatches();

      const mails = sys.sink.mails;
      const forgedVictims = mails.filter((m) => m.rcptTo.some((r) => r.endsWith('@victim.test') || /@x\d+\.test$/.test(r)));
      expect(forgedVictims).toEqual([]);

      const toDomain = mails.filter((m) => m.rcptTo.some((r) => r.endsWith('@spfok.test')));
      // 5 separate DSNs (the domain cap) and at most 5 digests (digests count against it too)
      expect(toDomain.filter((m) => !m.parsed.headers.has('x-casedrop-digest'))).toHaveLength(5);
      expect(toDomain.filter((m) => m.parsed.headers.has('x-casedrop-digest')).length).toBeLessThanOrEqual(5);
      for (const dsn of toDomain.filter((m) => !m.parsed.headers.has('x-casedrop-digest'))) {
        const returned = dsn.parsed.attachments.find((a) => a.contentType === 'text/rfc822-headers')!;
        expect(returned.content.length).toBeLessThanOrEqual(RETURNED_HEADER_BYTES + 200);
        expect(returned.content.toString('utf8')).toContain('X-Casedrop-Headers-Cut:');
      }

      const notices = mails.filter((m) => m.rcptTo.includes(OWNER));
      const perCase = (n: string) => notices.filter((m) => m.parsed.headers.get('x-casedrop-case') === n);
      // one separate notice (the cap) and one combined notice per case, whatever the burst
      for (const n of [CASE, OTHER_CASE]) {
        expect(perCase(n)).toHaveLength(2);
        expect(perCase(n).filter((m) => m.parsed.headers.has('x-casedrop-digest'))).toHaveLength(1);
      }
      const combined = perCase(OTHER_CASE).find((m) => m.parsed.headers.has('x-casedrop-digest'))!;
      expect(combined.parsed.subject).toBe(`Case ${OTHER_CASE}: 29 messages (29 files refused), one combined notice`);

      for (const m of mails) expect(m.raw.length).toBeLessThanOrEqual(MAX_REPLY_BYTES);
      const bytesOut = mails.reduce((n, m) => n + m.raw.length, 0);
      expect(mails.length).toBeLessThanOrEqual(5 + 5 + 4);
      expect(bytesOut).toBeLessThanOrEqual((5 + 5 + 4) * MAX_REPLY_BYTES);
      expect(bytesOut).toBeLessThan(bytesIn / 20);
    },
  );
});

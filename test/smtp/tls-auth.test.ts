import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSession } from '../../bench/lib/smtp-client.mjs';
import { credentialChecker } from '../../src/smtp/auth.js';
import { isCasedropError } from '../../src/errors.js';
import { manifest, message, messagesDir, queuedId, sendWithNodemailer, sendWithSwaks, startDoor, type TestDoor } from './door.js';

/**
 * STARTTLS (with TLS required before MAIL) and AUTH for relays, with real clients. The certificate
 * is made by openssl for the test run; casedrop never presents smtp-server's built-in one.
 */
const from = 'customer@example.com';
const to = manifest.intake;
const PASSWORD = 'pa:ss-word-not-logged';

async function receivedLine(d: TestDoor, id: string): Promise<string> {
  const stored = Buffer.concat(await (await d.store.get(`spool/${id}`)).toArray()).toString('utf8');
  return stored.slice(0, stored.indexOf(';'));
}

describe('STARTTLS, required', () => {
  let dir: string;
  let d: TestDoor;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'casedrop-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    d = await startDoor({
      env: { CASEDROP_SMTP_TLS_CERT: join(dir, 'cert.pem'), CASEDROP_SMTP_TLS_KEY: join(dir, 'key.pem'), CASEDROP_SMTP_REQUIRE_TLS: 'true' },
    });
  });
  afterAll(async () => {
    await d?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('offers STARTTLS and refuses MAIL before it with 530 5.7.0', async () => {
    const s = await openSession({ port: d.port });
    expect((await s.command('EHLO plain.test')).lines).toContain('250-STARTTLS');
    expect((await s.command(`MAIL FROM:<${from}>`)).lines).toEqual(['530 5.7.0 must issue a STARTTLS command first']);
    await s.quit();
  });

  it('accepts over TLS from nodemailer (Received: with ESMTPS)', async () => {
    const r = await sendWithNodemailer(
      d.port,
      message('case-subject.eml'),
      { from, to },
      { ignoreTLS: false, requireTLS: true, tls: { rejectUnauthorized: false } },
    );
    expect(r.text).toMatch(/^250 2\.0\.0 queued as /);
    expect(await receivedLine(d, queuedId(r.text)!)).toMatch(/\swith ESMTPS\s+id\s/);
  });

  // swaks needs Perl's Net::SSLeay for TLS, which Debian's swaks package only recommends
  const perlTls = spawnSync('perl', ['-MNet::SSLeay', '-e', '1']).status === 0;
  if (!perlTls) console.warn('tls-auth.test: skipping swaks --tls: Perl Net::SSLeay is missing (apt-get install libnet-ssleay-perl)');
  it.skipIf(!perlTls)('accepts over TLS from swaks --tls', async () => {
    const r = await sendWithSwaks(d.port, ['--tls', '--from', from, '--to', to, '--data', `@${join(messagesDir, 'case-subject.eml')}`]);
    expect(r.transcript).toMatch(/^<~ +250 2\.0\.0 queued as /m);
  });
});

describe('AUTH for relays', () => {
  let d: TestDoor;
  beforeAll(async () => {
    d = await startDoor({ env: { CASEDROP_SMTP_AUTH_USERS: `relay:${PASSWORD}, other:x` } });
  });
  afterAll(async () => d?.close());

  it('offers PLAIN and LOGIN and requires AUTH before MAIL (530 5.7.0)', async () => {
    const s = await openSession({ port: d.port });
    expect((await s.command('EHLO relay.test')).lines).toContain('250-AUTH PLAIN LOGIN');
    expect((await s.command(`MAIL FROM:<${from}>`)).lines).toEqual(['530 5.7.0 authentication required']);
    await s.quit();
  });

  it('refuses wrong credentials with 535 5.7.8 and accepts the right ones', async () => {
    const s = await openSession({ port: d.port });
    await s.command('EHLO relay.test');
    const plain = (user: string, pass: string) => Buffer.from(`\0${user}\0${pass}`).toString('base64');
    expect((await s.command(`AUTH PLAIN ${plain('relay', 'wrong')}`)).lines).toEqual(['535 5.7.8 authentication credentials invalid']);
    expect((await s.command(`AUTH PLAIN ${plain('nobody', PASSWORD)}`)).lines).toEqual(['535 5.7.8 authentication credentials invalid']);
    expect((await s.command(`AUTH PLAIN ${plain('relay', PASSWORD)}`)).code).toBe(235);
    expect((await s.command(`MAIL FROM:<${from}>`)).code).toBe(250);
    await s.quit();
  });

  it('nodemailer with AUTH LOGIN and swaks with AUTH PLAIN get their message queued (ESMTPA)', async () => {
    const r = await sendWithNodemailer(d.port, message('case-subject.eml'), { from, to }, { auth: { user: 'relay', pass: PASSWORD }, authMethod: 'LOGIN' });
    expect(r.text).toMatch(/^250 2\.0\.0 queued as /);
    expect(await receivedLine(d, queuedId(r.text)!)).toMatch(/\swith ESMTPA\s+id\s/);
    const sw = await sendWithSwaks(d.port, [
      '--auth',
      'PLAIN',
      '--auth-user',
      'other',
      '--auth-password',
      'x',
      '--from',
      from,
      '--to',
      to,
      '--data',
      `@${join(messagesDir, 'case-subject.eml')}`,
    ]);
    expect(sw.transcript).toMatch(/^<- +250 2\.0\.0 queued as /m);
  });

  it('logs the user, never the password', () => {
    const auth = d.logs.filter((l) => l.event === 'smtp_auth');
    expect(auth.map((l) => l.user)).toEqual(expect.arrayContaining(['relay', 'nobody', 'other']));
    expect(JSON.stringify(d.logs)).not.toContain(PASSWORD);
  });
});

describe('credentialChecker', () => {
  it('matches user and password exactly; a password may contain ":"', () => {
    const check = credentialChecker('a:b:c,d:e');
    expect(check('a', 'b:c')).toBe(true);
    expect(check('d', 'e')).toBe(true);
    expect(check('a', 'e')).toBe(false);
    expect(check('A', 'b:c')).toBe(false);
    expect(check('', '')).toBe(false);
  });

  it.each(['nopassword', ':x', 'x:', ' , '])('refuses the setting %j at start', (spec) => {
    expect(() => credentialChecker(spec)).toThrow();
    try {
      credentialChecker(spec);
    } catch (err) {
      expect(isCasedropError(err)).toBe(true);
    }
  });
});

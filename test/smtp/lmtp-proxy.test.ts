import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSession, stuffRaw } from '../../bench/lib/smtp-client.mjs';
import type { SpoolMeta } from '../../src/jobs/types.js';
import { manifest, message, queuedId, sendWithNodemailer, startDoor, type TestDoor } from './door.js';

/** LMTP mode (one reply per recipient) and the PROXY protocol (the client address a balancer saw). */
const from = 'customer@example.com';
const OPEN = manifest.cases.open;

describe('LMTP', () => {
  let d: TestDoor;
  beforeAll(async () => {
    d = await startDoor({ env: { CASEDROP_SMTP_LMTP: 'true', CASEDROP_INTAKE_ADDRESSES: 'attach@localhost,files@localhost' } });
  });
  afterAll(async () => d?.close());

  async function transaction(file: string, rcpts: string[]): Promise<string[]> {
    const s = await openSession({ port: d.port });
    expect(s.greeting!.lines[0]).toBe('220 localhost LMTP');
    expect((await s.command('EHLO not.lmtp')).code).toBe(500);
    await s.command('LHLO mta.test');
    await s.command(`MAIL FROM:<${from}>`);
    for (const rcpt of rcpts) expect((await s.command(`RCPT TO:<${rcpt}>`)).code).toBe(250);
    await s.command('DATA');
    await s.write(stuffRaw(message(file)));
    const replies = [(await s.command('.')).lines[0]!];
    while (replies.length < rcpts.length) replies.push((await s.reply()).lines[0]!);
    await s.quit();
    return replies;
  }

  it('answers the end of data once per recipient; both name the one spool id', async () => {
    const [a, b] = await transaction('no-case.eml', ['attach@localhost', `attach+${OPEN}@localhost`]);
    expect(a).toMatch(/^250 2\.0\.0 queued as /);
    expect(b).toBe(a);
    expect(await d.jobIds()).toEqual([queuedId(a!)]);
  });

  it('refuses once per recipient too', async () => {
    const replies = await transaction('no-case.eml', ['attach@localhost', 'files@localhost']);
    expect(replies).toHaveLength(2);
    for (const r of replies) expect(r).toMatch(/^550 5\.6\.0 no case number found/);
  });

  it('nodemailer in LMTP mode', async () => {
    const r = await sendWithNodemailer(d.port, message('case-subject.eml'), { from, to: manifest.intake }, { lmtp: true });
    expect(r.text).toMatch(/^250 2\.0\.0 queued as /);
  });
});

describe('PROXY protocol', () => {
  let d: TestDoor;
  beforeAll(async () => {
    d = await startDoor({ env: { CASEDROP_SMTP_PROXY_PROTOCOL: 'true', CASEDROP_SMTP_MAX_CONNECTIONS_PER_IP: '1' } });
  });
  afterAll(async () => d?.close());

  async function viaProxy(client: string) {
    const s = await openSession({ port: d.port, greeting: false });
    await s.write(`PROXY TCP4 ${client} 127.0.0.1 40000 25\r\n`);
    return { s, greeting: await s.reply() };
  }

  it('records the address from the PROXY header as the client, in the metadata and the Received header', async () => {
    const { s } = await viaProxy('203.0.113.7');
    await s.command('EHLO customer.example');
    await s.command(`MAIL FROM:<${from}>`);
    await s.command(`RCPT TO:<${manifest.intake}>`);
    await s.command('DATA');
    await s.write(stuffRaw(message('case-subject.eml')));
    const reply = (await s.command('.')).lines[0]!;
    await s.quit();
    const id = queuedId(reply)!;
    expect(((await d.store.head(`spool/${id}`)).meta as unknown as SpoolMeta).clientAddress).toBe('203.0.113.7');
    const stored = Buffer.concat(await (await d.store.get(`spool/${id}`)).toArray()).toString();
    expect(stored.slice(0, stored.indexOf(';'))).toContain('[203.0.113.7]');
  });

  it('counts connections per proxied client address, not per balancer', async () => {
    const a = await viaProxy('198.51.100.1');
    const b = await viaProxy('198.51.100.2');
    const again = await viaProxy('198.51.100.1');
    expect([a.greeting.code, b.greeting.code]).toEqual([220, 220]);
    expect(again.greeting.lines).toEqual(['421 4.7.0 too many connections from your address, try again later']);
    for (const c of [a, b, again]) await c.s.quit();
  });
});

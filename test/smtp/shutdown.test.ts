import { createConnection } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { openSession, stuffRaw } from '../../bench/lib/smtp-client.mjs';
import { manifest, message, queuedId, startDoor, type TestDoor } from './door.js';

/**
 * stop(): newcomers get 421 4.3.2, a transaction in flight finishes (and is queued), idle sessions
 * are told 421 4.3.2, and after the grace period whatever is left is cut off without leaving a
 * spool object behind.
 */
const from = 'customer@example.com';
const to = manifest.intake;
let d: TestDoor | undefined;
afterEach(async () => {
  await d?.close();
  d = undefined;
});

async function intoData(port: number) {
  const s = await openSession({ port });
  await s.command('EHLO inflight.test');
  await s.command(`MAIL FROM:<${from}>`);
  await s.command(`RCPT TO:<${to}>`);
  await s.command('DATA');
  return s;
}

const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });

it('turns newcomers away with 421 4.3.2 and lets the message in flight finish', async () => {
  d = await startDoor({ env: { CASEDROP_SHUTDOWN_GRACE_MS: '10000' } });
  const idle = await openSession({ port: d.port });
  await idle.command('EHLO idle.test');
  const busy = await intoData(d.port);
  await busy.write(stuffRaw(message('case-subject.eml')).subarray(0, 100));

  const stopped = d.door.stop();
  await d.logEvent('smtp_stopping');
  const newcomer = await openSession({ port: d.port });
  expect(newcomer.greeting!.lines).toEqual(['421 4.3.2 service shutting down, try again later']);
  expect((await idle.command(`MAIL FROM:<${from}>`)).lines).toEqual(['421 4.3.2 service shutting down, try again later']);

  await busy.write(stuffRaw(message('case-subject.eml')).subarray(100));
  const reply = await busy.command('.');
  expect(reply.lines[0]).toMatch(/^250 2\.0\.0 queued as /);
  await stopped;
  expect(await d.jobIds()).toEqual([queuedId(reply.lines[0]!)]);
  expect(await refused(d.port)).toBe(true);
  for (const s of [idle, busy, newcomer]) s.destroy();
});

it('tells idle sessions 421 4.3.2 when it closes, and cuts off a transaction that outlives the grace period', async () => {
  d = await startDoor({ env: { CASEDROP_SHUTDOWN_GRACE_MS: '300' } });
  const idle = await openSession({ port: d.port });
  await idle.command('EHLO idle.test');
  const slow = await intoData(d.port);
  await slow.write(stuffRaw(message('case-subject.eml')).subarray(0, 200));
  await d.door.stop();
  expect((await idle.reply()).lines).toEqual(['421 4.3.2 service shutting down, try again later']);
  expect((await slow.reply()).lines).toEqual(['421 4.3.2 service shutting down, try again later']);
  await d.logEvent('smtp_hangup');
  expect(await d.spoolIds()).toEqual([]);
  expect(d.tempFiles()).toEqual([]);
  for (const s of [idle, slow]) s.destroy();
});

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import nodemailer from 'nodemailer';
import { countObjects, runCli, startCasedrop, type RunningCasedrop } from '../../bench/lib/casedrop.mjs';
import { startRedis, type PrivateRedis } from '../../bench/lib/redis.mjs';

/**
 * `casedrop serve` as an operator runs it: a child process configured by environment only. One
 * full run (a message in, processed, answered), then SIGTERM; the log of that run must hold neither
 * the master key nor anything the customer wrote.
 */
const CASE = '612345678';
const BODY_MARKER = `customer-secret-${randomBytes(8).toString('hex')}`;

let dir: string;
let redis: PrivateRedis;
let casedrop: RunningCasedrop;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'casedrop-serve-'));
  redis = await startRedis(join(dir, 'redis'));
  casedrop = await startCasedrop(dir, { redisUrl: redis.url, prefix: 'serve-test', roles: ['all'], overrides: { CASEDROP_LOG_LEVEL: 'trace' } });
  await runCli(casedrop.env, ['case', 'open', CASE, '--owner', 'engineer@example.com']);
}, 60_000);

afterAll(async () => {
  await casedrop?.stop();
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('casedrop serve', () => {
  it('processes a message, then stops cleanly on SIGTERM with exit 0', async () => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: casedrop.smtpPort, secure: false, ignoreTLS: true });
    const info = await transport.sendMail({
      from: 'customer@example.com',
      to: 'attach@localhost',
      subject: `Case ${CASE}`,
      text: `Here are the logs. ${BODY_MARKER}`,
      attachments: [{ filename: 'notes.txt', content: `plain text attachment ${BODY_MARKER}` }],
    });
    transport.close();
    expect(info.response).toMatch(/^250 2\.0\.0 queued as /);
    await vi.waitFor(() => expect(countObjects(casedrop.dataDir, 'outcomes')).toBe(1), { timeout: 20_000, interval: 50 });

    const main = casedrop.processes[0]!;
    main.child.kill('SIGTERM');
    const { code, signal } = await main.child.exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(readFileSync(main.logFile, 'utf8')).toMatch(/"msg":"stopped"/);
  }, 60_000);

  it('never logs the master key or what the customer wrote, even at trace level', () => {
    const log = readFileSync(casedrop.processes[0]!.logFile, 'utf8');
    expect(log).toContain('message processed');
    const masterKey = String(casedrop.env.CASEDROP_MASTER_KEYS).split(':')[1]!;
    expect(log).not.toContain(masterKey);
    expect(log).not.toContain(BODY_MARKER);
  });
});

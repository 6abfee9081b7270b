import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startRedis, type PrivateRedis } from '../../bench/lib/redis.mjs';
import { queueCounts, repoRoot, runCli, startCasedrop, type RunningCasedrop } from '../../bench/lib/casedrop.mjs';
import { procStats } from '../../bench/lib/procs.mjs';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { openStore } from '../../src/store/open.js';
import { hostileMessages, type Attack } from './support/hostile-mail.js';

/**
 * Every attack of the hostile-message generator (support/hostile-mail.ts) goes to one running
 * casedrop — all roles in one process, default limits, its own Redis — while a normal message with
 * an AES zip is sent every second. No process may exit, resident memory stays under its bound,
 * every normal message gets 250 and is stored, and each attack ends in its documented reply or
 * refusal. `HOSTILE_SCALE=10 npm run test:faults` sends larger attacks. The figures (door latency
 * per attack, normal-message latency, peak RSS) are printed: they are the "after" of issue 10.
 */
const SCALE = Number(process.env.HOSTILE_SCALE ?? 1);
const RSS_LIMIT_MIB = Number(process.env.HOSTILE_ALL_RSS_LIMIT_MIB ?? 400);
// generous: a slow shared machine must not trip it; the figure itself is printed
const NORMAL_LATENCY_BOUND_MS = Number(process.env.HOSTILE_NORMAL_LATENCY_MS ?? 30_000);
// replies and the drain are awaited this long (shortened to measure the old code's "before" figures)
const REPLY_TIMEOUT_MS = Number(process.env.HOSTILE_REPLY_TIMEOUT_MS ?? 120_000);
const DRAIN_TIMEOUT_MS = Number(process.env.HOSTILE_DRAIN_TIMEOUT_MS ?? 240_000);
const CASE = '612345678';
const MISSING = '699999999';
const PREFIX = 'hostilegen';

let dir: string;
let redis: PrivateRedis;
let casedrop: RunningCasedrop;

interface Sent {
  code: number;
  text: string;
  ms: number;
  spoolId?: string;
}

async function send(port: number, raw: Buffer, timeoutMs = REPLY_TIMEOUT_MS): Promise<Sent> {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    ignoreTLS: true,
    socketTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
  } as never);
  const started = performance.now();
  try {
    const info = await transport.sendMail({ envelope: { from: 'customer@example.com', to: 'attach@localhost' }, raw });
    return {
      code: Number(info.response.slice(0, 3)),
      text: info.response,
      ms: performance.now() - started,
      spoolId: /queued as ([0-9A-Z]+)/.exec(info.response)?.[1],
    };
  } catch (err) {
    const e = err as { responseCode?: number; response?: string; message: string };
    return { code: e.responseCode ?? 0, text: e.response ?? e.message, ms: performance.now() - started };
  } finally {
    transport.close();
  }
}

async function normalMessage(n: number): Promise<Buffer> {
  return new MailComposer({
    from: 'customer@example.com',
    to: 'attach@localhost',
    subject: `Case ${CASE}`,
    text: `Normal message ${n}.`,
    attachments: [{ filename: `logs-${n}.zip`, content: readFileSync(join(repoRoot, 'fixtures/archives/zip/aes256.zip')) }],
  })
    .compile()
    .build();
}

async function outcomeOf(spoolId: string): Promise<{ kind: string; reasons: string[] } | undefined> {
  const config = loadConfig(casedrop.env);
  const store = await openStore(config, createLogger('silent'));
  if (!(await store.exists(`outcomes/${spoolId}`))) return undefined;
  const chunks: Buffer[] = [];
  for await (const c of await store.get(`outcomes/${spoolId}`)) chunks.push(c as Buffer);
  const o = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { kind: string; refused: { reason: string }[] };
  return { kind: o.kind, reasons: [...new Set(o.refused.map((r) => r.reason))] };
}

const attacks: Attack[] = hostileMessages({ caseNumber: CASE, scale: SCALE, missingCase: MISSING });
const results = new Map<string, Sent>();
const normals: Sent[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'casedrop-hostilegen-'));
  redis = await startRedis(join(dir, 'redis'));
  casedrop = await startCasedrop(dir, {
    redisUrl: redis.url,
    prefix: PREFIX,
    roles: ['all'],
    overrides: { CASEDROP_LOG_LEVEL: 'info', CASEDROP_REPLY_RATE_PER_HOUR: '100000' },
  });
  await runCli(casedrop.env, ['case', 'open', CASE, '--owner', 'eng@example.com']);

  // a normal message every second while the attacks go in one after the other
  let sending = true;
  const normalLoop = (async () => {
    for (let n = 0; sending || n < 3; n++) {
      const tick = new Promise((r) => setTimeout(r, 1000));
      normals.push(await send(casedrop.smtpPort, await normalMessage(n)));
      await tick;
    }
  })();
  for (const attack of attacks) results.set(attack.name, await send(casedrop.smtpPort, attack.raw));
  sending = false;
  await normalLoop;
  await vi
    .waitFor(async () => expect((await queueCounts(redis.port, PREFIX, 'intake')).pending, 'intake jobs pending').toBe(0), {
      timeout: DRAIN_TIMEOUT_MS,
      interval: 500,
    })
    .catch((err: Error) => console.log(err.message));
}, 600_000);

afterAll(async () => {
  const rows = attacks.map((a) => {
    const r = results.get(a.name);
    return `${a.name}: ${a.raw.length} bytes, reply ${r?.code} in ${r ? Math.round(r.ms) : '?'} ms`;
  });
  const ms = normals.map((n) => n.ms).sort((a, b) => a - b);
  const peak = casedrop?.processes.map((p) => `${p.role} peak RSS ${Math.round((procStats(p.pid)?.peakRssKiB ?? 0) / 1024)} MiB`);
  console.log(
    [
      `hostile generator (scale ${SCALE}):`,
      ...rows,
      `normal messages: ${normals.length}, latency median ${Math.round(ms[Math.floor(ms.length / 2)] ?? 0)} ms, max ${Math.round(ms.at(-1) ?? 0)} ms`,
      ...(peak ?? []),
    ].join('\n  '),
  );
  // warnings and errors of the service, for the record (message bodies and keys never reach the log)
  for (const p of casedrop?.processes ?? []) {
    const warnings = readFileSync(p.logFile, 'utf8')
      .split('\n')
      .filter((l) => /"level":(4|5|6)0/.test(l));
    console.log(
      `${p.role}: ${warnings.length} warning/error lines\n${warnings
        .slice(-15)
        .map((l) => l.slice(0, 400))
        .join('\n')}`,
    );
  }
  await casedrop?.stop();
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('hostile messages sent to the running service (all roles in one process)', () => {
  it.each(attacks.map((a) => [a.name, a] as const))('%s ends in its documented reply', async (_name, attack) => {
    const r = results.get(attack.name)!;
    expect(r.code, r.text).toBe(attack.expect.smtp);
    if (attack.expect.kind === undefined) return;
    const outcome = await outcomeOf(r.spoolId!);
    expect(outcome?.kind, `${attack.name}: ${JSON.stringify(outcome)}`).toBe(attack.expect.kind);
    if (attack.expect.reason) expect(outcome!.reasons).toContain(attack.expect.reason);
  });

  it('every normal message sent meanwhile got 250 within the generous bound and was stored', async () => {
    expect(normals.length).toBeGreaterThanOrEqual(3);
    for (const n of normals) {
      expect(n.code, n.text).toBe(250);
      expect(n.ms).toBeLessThan(NORMAL_LATENCY_BOUND_MS);
      expect((await outcomeOf(n.spoolId!))?.kind).toBe('stored');
    }
  });

  it('no process exited and resident memory stayed under its bound', () => {
    for (const p of casedrop.processes) {
      expect(p.child.exitCode, `${p.role} exited`).toBeNull();
      expect((procStats(p.pid)?.peakRssKiB ?? Infinity) / 1024, `${p.role} peak RSS`).toBeLessThan(RSS_LIMIT_MIB);
    }
  });
});

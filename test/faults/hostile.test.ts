import { UNCAPPED_REPLIES } from './support/mail.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer';
import { startRedis, type PrivateRedis } from '../../bench/lib/redis.mjs';
import { countObjects, queueCounts, repoRoot, runCli, startCasedrop, type RunningCasedrop } from '../../bench/lib/casedrop.mjs';
import { procStats } from '../../bench/lib/procs.mjs';
import { loadManifest, messageBytes, replayMessage, replaySession, type HostileItem } from '../../bench/lib/replay.mjs';

/**
 * Every item of the hostile corpus (fixtures/hostile, made by fixtures/make-hostile.py) goes through
 * a real casedrop — front door and worker as separate processes, their own Redis on a free port —
 * and must get a definite reply of the class its manifest entry names; afterwards the worker must
 * have reached a verdict for every accepted message, both processes must be alive, and their peak
 * memory under the bound. Run with `npm run test:faults`.
 */
const fixturesDir = join(repoRoot, 'fixtures');
const manifest = loadManifest(fixturesDir);
const PREFIX = 'hostile';
// 150 MiB for the process, plus the parse thread's fixed ~30 MiB (its own V8 isolate, see the README)
const RSS_LIMIT_MIB = Number(process.env.HOSTILE_RSS_LIMIT_MIB ?? 180);

let dir: string;
let redis: PrivateRedis;
let casedrop: RunningCasedrop;
let accepted = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'casedrop-hostile-'));
  redis = await startRedis(join(dir, 'redis'));
  casedrop = await startCasedrop(dir, {
    redisUrl: redis.url,
    prefix: PREFIX,
    overrides: {
      CASEDROP_INTAKE_ADDRESSES: manifest.intakeAddress,
      CASEDROP_LOG_LEVEL: 'info',
      // a job that fails is retried once, quickly: the test is about verdicts, not backoff
      CASEDROP_JOB_ATTEMPTS: '2',
      CASEDROP_JOB_BACKOFF_MS: '100',
      ...UNCAPPED_REPLIES,
    },
  });
  await runCli(casedrop.env, ['case', 'open', manifest.case, '--owner', 'eng@example.com']);
}, 60_000);

afterAll(async () => {
  await casedrop?.stop();
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const byKind = (kind: HostileItem['kind']) => manifest.items.filter((i) => i.kind === kind);

describe('control', () => {
  it('a valid message with an AES zip is stored in its case (the replay reaches the worker)', async () => {
    const item = manifest.items.find((i) => i.expect.worker === 'stored')!;
    const r = await replayMessage(casedrop.smtpPort, messageBytes(fixturesDir, item), item);
    expect(r.problem).toBeUndefined();
    accepted++;
    await vi.waitFor(() => expect(countObjects(casedrop.dataDir, `cases/${manifest.case}/files`), 'stored files').toBeGreaterThan(0), {
      timeout: 60_000,
      interval: 100,
    });
  }, 90_000);
});

describe('hostile messages get a definite SMTP reply of the expected class', () => {
  const hostile = byKind('message').filter((i) => i.expect.worker !== 'stored');
  it.each(hostile.map((i) => [i.id, i] as const))('%s', async (_id, item) => {
    const r = await replayMessage(casedrop.smtpPort, messageBytes(fixturesDir, item), item, { replyTimeoutMs: 60_000 });
    if (r.code >= 200 && r.code < 300) accepted++;
    expect(r.problem, item.why).toBeUndefined();
  });
});

describe('hostile SMTP sessions get definite replies, no hang', () => {
  it.each(byKind('smtp-session').map((i) => [i.id, i] as const))('%s', async (_id, item) => {
    const script = JSON.parse(readFileSync(join(fixturesDir, 'hostile', item.file!), 'utf8'));
    const r = await replaySession(casedrop.smtpPort, script, { replyTimeoutMs: 30_000 });
    // a session may legitimately deliver a message (a pipelined transaction): the worker must judge it too
    accepted += r.messagesAccepted;
    expect(r.problems, item.why).toEqual([]);
  });
});

function archiveFiles(item: HostileItem): string[] {
  const root = join(repoRoot, 'fixtures/archives');
  if (!existsSync(root)) return [];
  const skip = (item.exclude ?? []).map((g) => g.replace('*', ''));
  const walk = (d: string): string[] =>
    readdirSync(d).flatMap((n) => {
      const p = join(d, n);
      return statSync(p).isDirectory() ? walk(p) : skip.some((ext) => n.endsWith(ext)) ? [] : [p];
    });
  return walk(root);
}

describe('hostile archives from the verification corpus are accepted at the door and judged by the worker', () => {
  const item = byKind('archive-glob')[0]!;
  const files = archiveFiles(item);
  it.skipIf(files.length === 0).each(files.map((f) => [basename(f), f] as const))('%s', async (_name, file) => {
    const raw = await new MailComposer({
      from: item.envelope!.from,
      to: item.envelope!.to,
      subject: `Case ${manifest.case}`,
      text: 'Diagnostics attached.',
      attachments: [{ filename: basename(file), content: readFileSync(file) }],
    })
      .compile()
      .build();
    const r = await replayMessage(casedrop.smtpPort, raw, { ...item, expect: { smtp: ['2', '5'], worker: 'verdict' } });
    if (r.code >= 200 && r.code < 300) accepted++;
    expect(r.problem).toBeUndefined();
  });
});

describe('behind the door', () => {
  it('the worker reaches a verdict for every accepted message and dead-letters none', async () => {
    expect(accepted).toBeGreaterThan(0);
    await vi.waitFor(
      async () => {
        const q = await queueCounts(redis.port, PREFIX, 'intake');
        expect(q.pending, 'intake jobs pending').toBe(0);
        expect(q.completed + q.failed, 'intake jobs finished').toBeGreaterThanOrEqual(accepted);
      },
      { timeout: 240_000, interval: 500 },
    );
    const q = await queueCounts(redis.port, PREFIX, 'intake');
    expect(q.failed).toBe(0);
    expect(q.completed).toBeGreaterThanOrEqual(accepted);
    // one recorded outcome per message: the verdict that drives the replies
    expect(countObjects(casedrop.dataDir, 'outcomes')).toBeGreaterThanOrEqual(accepted);
  }, 300_000);

  it('both processes are still running and their peak memory stayed bounded', () => {
    for (const p of casedrop.processes) {
      expect(p.child.exitCode, `${p.role} exited`).toBeNull();
      const peakMiB = (procStats(p.pid)?.peakRssKiB ?? Infinity) / 1024;
      expect(peakMiB, `${p.role} peak RSS`).toBeLessThan(RSS_LIMIT_MIB);
    }
  });
});

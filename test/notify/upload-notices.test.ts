import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Job, Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createQueue } from '../../src/jobs/queues.js';
import { QueueName, type OutboundJobData } from '../../src/jobs/types.js';
import { createLogger } from '../../src/log.js';
import { startNotifyWorkers, type NotifyWorkers } from '../../src/notify/index.js';
import { redisKey } from '../../src/redis-keys.js';
import { startSftp } from '../../src/sftp/index.js';
import type { SshDrive } from '../../src/sftp/server.js';
import { run, SSH_OPTS } from '../sftp/harness.js';
import { CASE, startUploadEnv, type UploadEnv } from '../upload/helpers.js';
import { captureLogger } from './helpers.js';
import { startSink, type Sink } from './sink.js';

/**
 * Upload notices end to end: the HTTPS door and the SFTP door in-process, the notify workers, a
 * real SMTP sink as the relay, real Redis. The window is an hour, so a test's uploads always fall
 * into one; the test then promotes the delayed job instead of waiting for the window's end.
 */
const CASE2 = '612345679';
const CASE3 = '612345680';
const OWNER = 'eng@example.com';
const OWNER2 = 'other-eng@example.com';
const AES_7Z = 'fixtures/archives/7z/aes.7z';

let sink: Sink;
let env: UploadEnv;
let sftp: SshDrive;
let workers: NotifyWorkers;
let outbound: Queue<OutboundJobData>;
let logLines: Record<string, unknown>[];
const tokens: Record<string, string> = {};
const dir = mkdtempSync(join(tmpdir(), 'casedrop-upload-notice-'));
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  sink = await startSink();
  env = await startUploadEnv({
    CASEDROP_RELAY_URL: sink.url,
    CASEDROP_UPLOAD_NOTICE_WINDOW_SECONDS: '3600',
    // the SFTP upload of a plain file is then refused and not kept: the notice must list it too
    CASEDROP_UPLOAD_REQUIRE_ENCRYPTED: 'sftp',
    CASEDROP_JOB_ATTEMPTS: '3',
    CASEDROP_JOB_BACKOFF_MS: '50',
  });
  const captured = captureLogger();
  logLines = captured.lines;
  sftp = await startSftp({
    config: env.config,
    logger: createLogger('silent'),
    store: env.store,
    registry: env.registry,
    redis: env.redis,
    sweepExpired: false,
  });
  workers = startNotifyWorkers({ config: env.config, logger: captured.logger, store: env.store, registry: env.registry });
  outbound = createQueue(env.config, QueueName.outbound, env.redis) as Queue<OutboundJobData>;
  for (const [c, owner, label] of [
    [CASE, OWNER, 'laptop'],
    [CASE2, OWNER2, 'router-7'],
    [CASE3, OWNER, 'capped'],
  ] as const) {
    await env.registry.open(c, owner);
    tokens[c] = (await env.tokens.create(c, { label, expiresInSeconds: 3600 })).secret;
  }
});

afterAll(async () => {
  await workers.close();
  await outbound.close();
  await sftp.stop(1000);
  await env.close();
  await sink.close();
  rmSync(dir, { recursive: true, force: true });
});

async function put(caseNumber: string, name: string, body: Buffer): Promise<void> {
  const res = await fetch(`${env.base}/home/${encodeURIComponent(name)}`, {
    method: 'PUT',
    body: new Uint8Array(body),
    headers: { authorization: `Basic ${Buffer.from(`${caseNumber}:${tokens[caseNumber]}`).toString('base64')}` },
  });
  expect(res.status, await res.text()).toBe(201);
}

async function noticeJobs(state: 'delayed' | 'completed' = 'delayed'): Promise<Job<OutboundJobData>[]> {
  return (await outbound.getJobs([state])).filter((j) => j.data.kind === 'upload-notice');
}

async function finished(job: Job<OutboundJobData>): Promise<void> {
  await vi.waitFor(
    async () => {
      const fresh = await outbound.getJob(job.id!);
      expect(fresh?.failedReason).toBeUndefined();
      expect(fresh?.finishedOn).toBeDefined();
    },
    { timeout: 60_000, interval: 50 },
  );
}

const mailTo = (owner: string) => sink.mails.filter((m) => m.rcptTo.includes(owner));

describe('engineer notices of uploads', () => {
  const aes = readFileSync(AES_7Z);
  const notes = randomBytes(5000);
  const plain = Buffer.from('interface Gi0/1 is down\n'.repeat(100));

  it('two HTTPS uploads and one SFTP upload to one case in one window make one notice naming all three; another case gets its own', async () => {
    await put(CASE, 'aes.7z', aes);
    await put(CASE, 'notes bin', notes);
    writeFileSync(join(dir, 'show-tech.txt'), plain);
    const r = await run('sftp', [...SSH_OPTS, '-P', String(sftp.port), '-b', '-', `${CASE}@127.0.0.1`], {
      password: tokens[CASE],
      input: 'put show-tech.txt\n',
      cwd: dir,
    });
    // refused by the channel's policy (OpenSSH's sftp shows a refused CLOSE without its text): the engineer is told which and why
    expect(r.code, r.stderr).not.toBe(0);
    expect(r.stderr).toContain('close remote');
    await put(CASE2, 'other.7z', aes);

    const jobs = await noticeJobs();
    expect(jobs.map((j) => j.data.batch!.subject).sort()).toEqual([CASE, CASE2]);
    expect(sink.mails).toHaveLength(0);
    for (const j of jobs) await j.promote();
    await sink.waitFor(2);
    for (const j of jobs) await finished(j);

    const [mine] = mailTo(OWNER);
    expect(mailTo(OWNER)).toHaveLength(1);
    expect(mine!.mailFrom).toBe(''); // the null sender
    expect(mine!.parsed.headers.get('auto-submitted')).toBe('auto-generated');
    expect(mine!.parsed.subject).toBe(`Case ${CASE}: 3 files uploaded (2 refused)`);
    const text = mine!.parsed.text!;
    expect(text).toContain(`  - aes.7z  accepted: 7z`);
    expect(text).toContain(`SHA-256 ${sha(aes)}`);
    expect(text).toContain(`casedrop case get ${CASE} aes.7z -o aes.7z`);
    expect(text).toMatch(/ {2}- notes bin {2}refused \(not-an-archive\): [^\n]*, 4\.9 KB \(5000 bytes\)\r?\n {4}kept all the same/);
    expect(text).toContain(`SHA-256 ${sha(notes)}`);
    expect(text).toContain(`casedrop case get ${CASE} 'notes bin' -o 'notes bin'`);
    expect(text).toContain('via https, token "laptop"');
    expect(text).toMatch(/Refused \(1\), not kept[^\n]*\n\s+- show-tech\.txt {2}refused \(unencrypted\)/);
    expect(text).toContain('via sftp, token "laptop"');
    expect(text).toContain(`SHA-256 ${sha(plain)}`);
    expect(text).not.toContain(`case get ${CASE} show-tech.txt`);

    const [theirs] = mailTo(OWNER2);
    expect(mailTo(OWNER2)).toHaveLength(1);
    expect(theirs!.parsed.subject).toBe(`Case ${CASE2}: 1 file uploaded`);
    expect(theirs!.parsed.text).toContain(`casedrop case get ${CASE2} other.7z -o other.7z`);
    expect(theirs!.parsed.text).toContain('via https, token "router-7"');
    expect(theirs!.parsed.text).not.toContain('aes.7z');

    // sent: the batch and the entries waiting in the store are gone
    expect(await env.redis.zcard(redisKey.batch(env.config.redisPrefix, 'upload', CASE))).toBe(0);
    expect(await env.store.list('upload-notices/')).toEqual([]);
  });

  it('a replayed notice job sends no second mail', async () => {
    const done = await noticeJobs('completed');
    expect(done).toHaveLength(2);
    // as a Redis that forgot the completed jobs, or an operator re-adding them, would
    await outbound.clean(0, 10_000, 'completed');
    for (const j of done) {
      const again = await outbound.add('upload-notice', j.data, { jobId: j.id! });
      await finished(again);
    }
    expect(sink.mails).toHaveLength(2);
    expect(logLines.filter((l) => l.event === 'reply_already_sent' && l.kind === 'upload-notice')).toHaveLength(2);
  });

  it('over the per-case notice cap the notice waits a digest interval instead of being dropped', async () => {
    const cap = redisKey.capCount(env.config.redisPrefix, 'case-notices', CASE3);
    await env.redis.set(cap, String(env.config.engineerNoticesPerCasePerHour), 'EX', 3600);
    await put(CASE3, 'capped.7z', aes);
    const [first] = await noticeJobs();
    expect(first!.data.batch!.subject).toBe(CASE3);
    await first!.promote();
    await finished(first!);
    expect(mailTo(OWNER)).toHaveLength(1);
    const [later] = await noticeJobs();
    expect(later!.data.batch).toMatchObject({ kind: 'upload', subject: CASE3 });
    expect(later!.data.batch!.until).toBeGreaterThan(first!.data.batch!.until);
    expect(logLines.some((l) => l.event === 'upload_notice_postponed')).toBe(true);

    await env.redis.del(cap);
    await later!.promote();
    await finished(later!);
    expect(mailTo(OWNER)).toHaveLength(2);
    expect(mailTo(OWNER)[1]!.parsed.text).toContain(`casedrop case get ${CASE3} capped.7z -o capped.7z`);
  });
});

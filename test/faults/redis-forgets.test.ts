import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cliPath, queueCounts, repoRoot } from '../../bench/lib/casedrop.mjs';
import { restartRedis } from '../../bench/lib/redis-restart.mjs';
import { startRedis, type PrivateRedis } from '../../bench/lib/redis.mjs';
import { restartableCasedrop, type RestartableCasedrop } from '../../bench/lib/restartable.mjs';
import { makeRng, send, tally, type Attempt } from './support/client.js';
import { judge, queued as queuedOf } from './support/judge.js';
import { CASE, composeMessage, INTAKE, UNCAPPED_REPLIES } from './support/mail.js';
import { deadLetters, QUEUES } from './support/queues.js';

/**
 * Issue 11: Redis is only an index, the encrypted spool and store are the truth. While a real
 * client sends messages, Redis is killed with -9 and restarted, either EMPTY (no AOF, no RDB: the
 * dev Redis of scripts/ensure-tools.sh, or a replica that had nothing) or from its AOF with
 * `appendfsync everysec` (it loses about its last second). Afterwards every message that got 250 is
 * in its case exactly once with exactly one reply, and the case is still open.
 *
 * The data dir is on a real disk (the OS temp dir, not /dev/shm), so the fsyncs count. The seed
 * (printed) fixes the session lengths; FAULTS_SEED replays it. FAULTS_CLI runs another build (the
 * figures of the code before issue 11 were taken with it; it then only reports, see `strict`).
 */
const SEED = Number(process.env.FAULTS_SEED ?? Math.floor(Math.random() * 2 ** 31));
const CLI = process.env.FAULTS_CLI ?? cliPath;
/** against another build the test only measures: it may not know the durable markers it waits for */
const strict = CLI === cliPath;
const scratch = process.env.FAULTS_DISK_TMP ?? tmpdir();
const execFileP = promisify(execFile);

let dir: string | undefined;
let redis: PrivateRedis | undefined;
let cd: RestartableCasedrop | undefined;

afterEach(async () => {
  await cd?.stop();
  await redis?.stop();
  if (dir && process.env.FAULTS_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
  else if (dir) console.log(`kept ${dir}`);
  cd = redis = dir = undefined;
});

type Mode = 'empty' | 'everysec';

/** kill -9, then back on the same port: from nothing, or from the AOF it had fsynced. */
async function crashRedis(r: PrivateRedis, redisDir: string, mode: Mode): Promise<PrivateRedis> {
  r.child.kill('SIGKILL');
  await r.child.exited;
  if (mode === 'empty') for (const f of readdirSync(redisDir)) if (f !== 'redis.log') rmSync(join(redisDir, f), { recursive: true, force: true });
  return restartRedis(redisDir, r.port);
}

function cli(env: Record<string, string | undefined>, args: string[]): Promise<string> {
  return execFileP(process.execPath, [CLI, ...args], { env, cwd: repoRoot, timeout: 30_000 }).then(
    (r) => r.stdout,
    (err: { stdout?: string; stderr?: string }) => `${err.stdout ?? ''}${err.stderr ?? ''}`,
  );
}

/** Every mail the workers wrote, by outbox file name, from their logs: a name twice is a reply sent twice. */
function sends(logs: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const file of logs) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line.includes('mail written to the outbox')) continue;
      const path = String((JSON.parse(line) as { path?: string }).path ?? '');
      const name = path.slice(path.lastIndexOf('/') + 1);
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
  }
  return counts;
}

/** What recovery re-queued, from its summary lines (event recovery_scan): proof the faults needed it. */
function recovered(logs: string[]): { spool: number; outcomes: number; scans: number } {
  const r = { spool: 0, outcomes: 0, scans: 0 };
  for (const file of logs) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line.includes('"recovery_scan"')) continue;
      const c = JSON.parse(line) as { spool: { requeued: number }; outcomes: { requeued: number } };
      r.scans++;
      r.spool += c.spool.requeued;
      r.outcomes += c.outcomes.requeued;
    }
  }
  return r;
}

function objects(dataDir: string, namespace: string): string[] {
  const d = join(dataDir, 'objects', namespace);
  return existsSync(d) ? readdirSync(d).filter((n) => n.endsWith('.cdo')) : [];
}

/** Settled: queues empty, spool empty, every outcome's replies marked sent (src/notify/sent.ts). */
async function settled(dataDir: string, port: number, prefix: string): Promise<boolean> {
  for (const q of QUEUES) if ((await queueCounts(port, prefix, q)).pending > 0) return false;
  if (objects(dataDir, 'spool').length > 0) return false;
  if (!strict) return true;
  const markers = new Set(objects(dataDir, 'replies'));
  return objects(dataDir, 'outcomes').every((o) => markers.has(o));
}

async function run(mode: Mode, messages: number, crashes: number): Promise<void> {
  const prefix = `faults-forget-${mode}`;
  console.log(`redis-forgets (${mode}) seed: ${SEED} (replay with FAULTS_SEED=${SEED})${strict ? '' : `, build ${CLI}`}`);
  dir = mkdtempSync(join(scratch, `casedrop-forget-${mode}-`));
  const redisDir = join(dir, 'redis');
  redis = await startRedis(redisDir, { appendfsync: 'everysec' });
  cd = await restartableCasedrop(dir, {
    redisUrl: redis.url,
    prefix,
    cli: CLI,
    overrides: {
      CASEDROP_INTAKE_ADDRESSES: INTAKE,
      CASEDROP_SMTP_EARLY_TALKER_DELAY_MS: '0',
      ...UNCAPPED_REPLIES,
      CASEDROP_SMTP_MAX_CONNECTIONS_PER_IP: '64',
      CASEDROP_WORKER_LOCK_MS: '2000',
      CASEDROP_WORKER_STALLED_CHECK_MS: '1000',
      CASEDROP_JOB_BACKOFF_MS: '200',
      CASEDROP_JOB_ATTEMPTS: '20',
      // past the door's 10 s queue-add limit: a message a live door is still queueing is never taken
      CASEDROP_RECOVERY_AGE_SECONDS: '15',
    },
  });
  await cd.start('smtp');
  await cd.start('worker');
  await cli(cd.env, ['case', 'open', CASE, '--owner', 'eng@example.com']);

  const toSend = await Promise.all(Array.from({ length: messages }, (_, n) => composeMessage(`forget-${mode}-${SEED}`, n, { wireBytes: 10 * 1024 })));
  const ledger: Attempt[] = [];
  let done = false;
  const faults = (async () => {
    for (let k = 1; k <= crashes; k++) {
      const answered = (messages * k) / (crashes + 1);
      await vi.waitFor(() => expect(done || ledger.length >= answered, `${k}/${crashes + 1} of the messages answered`).toBe(true), {
        timeout: 300_000,
        interval: 20,
      });
      if (done) return;
      redis = await crashRedis(redis!, redisDir, mode);
    }
  })();
  const started = Date.now();
  const rng = makeRng(SEED);
  await send({ port: cd.smtpPort, messages: toSend, sessions: 8, perSession: () => 1 + Math.floor(rng() * 8), onAttempt: (a) => ledger.push(a) }).finally(
    () => (done = true),
  );
  await faults;
  const sentAt = Date.now();
  const converged = await vi
    .waitFor(async () => expect(await settled(cd!.dataDir, redis!.port, prefix), 'queues drained, spool empty, every outcome settled').toBe(true), {
      timeout: 150_000,
      interval: 500,
    })
    .then(
      () => true,
      (err: Error) => (strict ? Promise.reject(err) : false),
    );

  const report = await judge({ env: cd.env, ledger });
  const mails = sends(cd.logs);
  const senderMails = [...mails].filter(([name]) => name.endsWith('-sender.eml'));
  const sentTwice = [...mails].filter(([, n]) => n > 1).map(([name, n]) => `${name} ×${n}`);
  const queued = queuedOf(ledger);
  // `case show` prints number, state, owner, … tab-separated, or an error when the case is gone
  const shown = (await cli(cd.env, ['case', 'show', CASE])).split('\t');
  const failed = await deadLetters({ redisPort: redis!.port, prefix });
  const figures = {
    mode,
    seed: SEED,
    messages,
    crashes,
    replies: tally(ledger),
    converged,
    ledger: {
      '250s': queued.length,
      stored: report.complete,
      replies: senderMails.length,
      lost: report.of('lost').length,
      duplicated: report.of('duplicate').length + sentTwice.length,
    },
    requeuedByRecovery: strict ? recovered(cd.logs) : 'n/a',
    caseState: shown[0] === CASE ? shown[1] : `missing (${shown.join(' ').trim().slice(0, 80)})`,
    deadLetters: failed,
    sendSeconds: (sentAt - started) / 1000,
    settleSeconds: (Date.now() - sentAt) / 1000,
  };
  console.log(JSON.stringify(figures));

  expect(report.of('lost'), 'a 250 without its copy').toEqual([]);
  expect(report.of('duplicate', 'misfiled', 'half', 'stray'), 'stored twice, or in part').toEqual([]);
  expect(sentTwice, 'replies sent more than once').toEqual([]);
  // every 250 answered by exactly one receipt (a message whose 250 a crash cut off may be complete too)
  for (const f of queued) expect(mails.get(`${f.spoolId}-sender.eml`), `receipt of #${f.n}`).toBe(1);
  expect(figures.caseState, 'the case after the faults').toBe('open');
  expect(failed, 'dead letters in intake, notify, outbound').toEqual([0, 0, 0]);
  expect(queued.length).toBeGreaterThan(messages / 2);
}

describe('Redis forgets, the spool remembers', () => {
  it('Redis killed and restarted EMPTY twice during 1,000 messages: every 250 stored once, one reply each, case still open', async () => {
    await run('empty', Number(process.env.FAULTS_FORGET_MESSAGES ?? 1000), 2);
  }, 300_000);

  it('Redis with appendfsync everysec killed -9 and restarted from its AOF: the lost last second is recovered', async () => {
    await run('everysec', Number(process.env.FAULTS_EVERYSEC_MESSAGES ?? 300), 1);
  }, 240_000);
});

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { queueCounts, startCasedrop, type RunningCasedrop } from '../../bench/lib/casedrop.mjs';
import { isDiskFull } from '../../src/errors.js';
import { outboxDeliverer } from '../../src/notify/deliver.js';
import { acceptedByMessage, sendOnce, tally, type Attempt } from './support/client.js';
import { judge, leftovers, readBack, storeOf } from './support/judge.js';
import { composeMessage, type Attachment } from './support/mail.js';
import { drained, queueProblems } from './support/queues.js';
import { baseSettings, logLines, logTail, startSystem, type FaultSystem } from './support/system.js';
import { fillUp, mountTmpfs, unmountTmpfs, writeFiller } from './support/tmpfs.js';

/**
 * Fault test 4 of issue 7: the data dir on a small tmpfs, filled by ~1 MiB messages until the door
 * answers `452 4.3.1`. A 250 must only ever follow a complete spool object, a 452 must leave nothing,
 * the worker's jobs on a full disk must fail with STORAGE_FULL and wait for a retry (not be
 * dead-lettered), and once a filler file is deleted new messages get 250 again and everything
 * drains, intact. Needs root (mount) and 7-Zip (the attachment is a real AES zip); skips saying so.
 */
const MiB = 1024 * 1024;
const TMPFS_MIB = 8;
/** given back in phase 3: room for the spooled backlog to turn into case files plus the new messages */
const FILLER_BYTES = 3 * MiB;
/** random bytes in the zip: ~1 MiB on the wire once base64-encoded */
const PAYLOAD_BYTES = 760 * 1024;
const PREFIX = 'diskfull';

const dir = mkdtempSync(join(tmpdir(), 'casedrop-diskfull-'));
const dataDir = join(dir, 'data');
const smallDir = join(dir, 'small');
const mounts = [mountTmpfs(dataDir, TMPFS_MIB), mountTmpfs(smallDir, 1)];
const failedMount = mounts.find((m) => !m.ok);
const sevenZip = (() => {
  try {
    return execFileSync('sh', ['-c', 'command -v 7zz || command -v 7z'], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
})();
const skipWhy =
  failedMount && !failedMount.ok
    ? `mount -t tmpfs failed (${failedMount.why}); the disk-full test needs root`
    : sevenZip === ''
      ? '7-Zip (7zz) not found; apt-get install 7zip'
      : undefined;
if (skipWhy) console.warn(`disk-full: SKIPPED: ${skipWhy}`);

let sys: FaultSystem;
let worker: RunningCasedrop | undefined;
let attachment: Attachment;
const ledger: Attempt[] = [];
/** messageId → the message as composed */
const composed = new Map<string, Buffer>();
let sent = 0;

/** A zip made by 7-Zip with AES-256 over random bytes, as a customer would send it. */
function makeZip(): Attachment {
  const data = join(dir, 'diagnostics.bin');
  const zip = join(dir, 'diagnostics.zip');
  writeFileSync(data, randomBytes(PAYLOAD_BYTES));
  execFileSync(sevenZip, ['a', '-tzip', '-mem=AES256', '-mx=1', `-p${randomBytes(9).toString('base64url')}`, zip, data], { stdio: 'ignore' });
  return { filename: 'diagnostics.zip', content: readFileSync(zip) };
}

async function send(): Promise<Attempt> {
  const m = await composeMessage(PREFIX, sent++, { attachment });
  composed.set(m.messageId, m.raw);
  const a = await sendOnce(sys.casedrop.smtpPort, m, 60_000);
  ledger.push(a);
  return a;
}

const refusals = () => ledger.filter((a) => a.code !== 250);
const acceptedCount = () => ledger.filter((a) => a.code === 250).length;

beforeAll(async () => {
  if (skipWhy) return;
  attachment = makeZip();
  // the door alone first: the spool then only grows, so the disk fills deterministically
  sys = await startSystem(dir, PREFIX, {}, ['smtp']);
}, 60_000);

afterAll(async () => {
  await worker?.stop();
  await sys?.stop();
  for (const [i, d] of [dataDir, smallDir].entries()) if (mounts[i]!.ok) unmountTmpfs(d);
  if (!process.env.FAULTS_KEEP) rmSync(dir, { recursive: true, force: true });
  else console.log(`disk-full: kept ${dir}`);
});

describe.skipIf(skipWhy !== undefined)(`disk full (data dir on a ${TMPFS_MIB} MiB tmpfs)`, () => {
  it('answers 250 while the spool fits, then 452 4.3.1; every 250 has its complete spool object, a 452 leaves nothing', async () => {
    writeFiller(join(dataDir, 'filler.bin'), FILLER_BYTES);
    for (let refusedInARow = 0; refusedInARow < 3 && sent < 20;) {
      const a = await send();
      refusedInARow = a.code === 250 ? 0 : refusedInARow + 1;
    }
    expect(acceptedCount(), tally(ledger)).toBeGreaterThanOrEqual(2);
    expect(refusals().length, tally(ledger)).toBeGreaterThanOrEqual(3);
    expect(
      refusals().filter((a) => a.code !== 452 || a.enhanced !== '4.3.1' || a.stage !== 'DATA-END'),
      tally(ledger),
    ).toEqual([]);

    // the worker is not running: the spool holds exactly the 250s, each complete and readable
    const store = storeOf(sys.casedrop.env);
    const spool = await store.list('spool/');
    const { accepted } = acceptedByMessage(ledger);
    expect(spool.sort()).toEqual([...accepted.values()].map((id) => `spool/${id}`).sort());
    for (const [messageId, spoolId] of accepted) {
      const r = await readBack(store, `spool/${spoolId}`);
      expect('error' in r ? r.error : r.bytes.indexOf(composed.get(messageId)!) >= 0, `spool/${spoolId} holds ${messageId} in full`).toBe(true);
    }
    expect(leftovers(join(dataDir, 'objects/.tmp')), 'temp files of refused messages').toEqual([]);
  }, 120_000);

  it('the worker on a full disk: its jobs fail with STORAGE_FULL and wait for a retry, none dead-lettered', async () => {
    fillUp(join(dataDir, 'filler-rest.bin'));
    worker = await startCasedrop(dir, {
      redisUrl: sys.redis.url,
      prefix: PREFIX,
      roles: ['worker'],
      overrides: { ...baseSettings(), CASEDROP_MASTER_KEYS: sys.casedrop.env.CASEDROP_MASTER_KEYS!, CASEDROP_WORKER_CONCURRENCY: '1' },
    });
    const log = worker.processes[0]!.logFile;
    await vi
      .waitFor(
        () =>
          expect(
            logLines(log, /intake job failed/).some((l) => /storage full/i.test(l)),
            'an intake job failed with a full disk',
          ).toBe(true),
        {
          timeout: 30_000,
          interval: 50,
        },
      )
      .catch((err: Error) => {
        throw new Error(`${err.message}\n${logTail(log)}`);
      });
    const intake = await queueCounts(sys.redis.port, PREFIX, 'intake');
    expect(intake).toMatchObject({ failed: 0, completed: 0, pending: acceptedCount() });
    // and the door, meanwhile, still answers 452
    const a = await send();
    expect([a.code, a.enhanced]).toEqual([452, '4.3.1']);
  }, 60_000);

  it('once space returns, new messages get 250 at once and everything drains: one intact file and one receipt per 250', async () => {
    rmSync(join(dataDir, 'filler-rest.bin'));
    rmSync(join(dataDir, 'filler.bin'));
    const freedAt = performance.now();
    for (let i = 0; i < 2; i++) {
      const a = await send();
      expect([a.code, a.text], tally(ledger)).toEqual([250, expect.stringContaining('queued as')]);
    }
    const queues = { redisPort: sys.redis.port, prefix: PREFIX };
    const drainStarted = performance.now();
    await vi
      .waitFor(async () => expect(await drained(queues), 'the queues drained').toBe(true), { timeout: 90_000, interval: 250 })
      .catch((err: Error) => {
        throw new Error(`${err.message}\n${logTail(worker!.processes[0]!.logFile)}`);
      });
    const drainMs = performance.now() - drainStarted;
    const { accepted, twice } = acceptedByMessage(ledger);
    expect(twice).toEqual([]);
    const verdict = await judge({ env: sys.casedrop.env, ledger, attachmentSha256: createHash('sha256').update(attachment.content).digest('hex') });
    expect(verdict.of()).toEqual([]);
    expect(verdict.complete).toBe(accepted.size);
    expect(await queueProblems(queues, accepted.size)).toEqual([]);
    // the jobs that met the full disk were retried and completed: more than one attempt on record
    const attempts = await attemptsPerJob([...accepted.values()]);
    expect(Math.max(...attempts), 'attempts of the intake jobs').toBeGreaterThanOrEqual(2);
    for (const p of [...sys.casedrop.processes, ...worker!.processes]) expect(p.child.exitCode, `${p.role} exited`).toBeNull();
    console.log(
      `disk-full: ${sent} messages (${tally(ledger)}); intake attempts per job ${attempts.join(',')}; ` +
        `drained ${((performance.now() - freedAt) / 1000).toFixed(1)} s after space returned (${(drainMs / 1000).toFixed(1)} s after the last 250)`,
    );
  }, 120_000);
});

/** BullMQ keeps a job's attempt count in its hash (`atm`); completed jobs are kept, so it can be read afterwards. */
async function attemptsPerJob(jobIds: string[]): Promise<number[]> {
  const redis = new Redis(sys.redis.url, { maxRetriesPerRequest: 1 });
  try {
    return await Promise.all(jobIds.map(async (id) => Number(await redis.hget(`${PREFIX}:intake:${id}`, 'atm')) || 0));
  } finally {
    redis.disconnect();
  }
}

describe.skipIf(skipWhy !== undefined)("the worker's own writes on a full disk leave no temp file behind (1 MiB tmpfs, in-process)", () => {
  beforeAll(() => {
    // a little room left, so a write gets partway before ENOSPC: the case that leaves a partial temp file
    fillUp(join(smallDir, 'filler.bin'), 64 * 1024);
  });

  it('outbox: the mail is refused with ENOSPC (the job retries) and neither a temp file nor a partial mail remains', async () => {
    const outbox = outboxDeliverer(join(smallDir, 'outbox'), join(smallDir, '.outbox-tmp'), pino({ level: 'silent' }));
    const err = await outbox.deliver('x-sender', randomBytes(256 * 1024), { from: false, to: ['customer@example.com'] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isDiskFull(err), String(err)).toBe(true);
    expect(leftovers(join(smallDir, '.outbox-tmp'))).toEqual([]);
    expect(leftovers(join(smallDir, 'outbox'))).toEqual([]);
  });

  it('store: a put fails with STORAGE_FULL and its temp object is removed', async () => {
    const store = storeOf({ CASEDROP_DATA_DIR: smallDir, CASEDROP_MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}` });
    await store.init();
    const err = await store.put('cases/612345678/files', Readable.from([randomBytes(256 * 1024)]), {}, { name: 'x' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as { code?: string }).code, String(err)).toBe('STORAGE_FULL');
    expect(leftovers(join(smallDir, 'objects/.tmp'))).toEqual([]);
    expect(await store.list('cases/')).toEqual([]);
  });
});

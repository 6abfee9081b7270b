import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { countObjects, queueCounts, runCli } from '../../../bench/lib/casedrop.mjs';
import { sleep } from '../../../bench/lib/procs.mjs';
import { startRedis, type PrivateRedis } from '../../../bench/lib/redis.mjs';
import { restartableCasedrop, type RestartableCasedrop } from '../../../bench/lib/restartable.mjs';
import { makeRng, send, tally, type Attempt } from './client.js';
import { fates, judge, type Verdict } from './judge.js';
import { CASE, composeMessage, INTAKE, UNCAPPED_REPLIES, type Message } from './mail.js';
import { deadLetters, drained, QUEUES } from './queues.js';

/**
 * Fault test 1 of issue 7: `kill -9` of the SMTP door and of the worker (separate processes) at
 * random moments while a real client sends messages of ~10 KiB (an AES zip each) over
 * several sessions; each killed process is started again, as a supervisor would. The client's
 * ledger says what each message got back; once everything is up and the queues have drained,
 * every 250 must be stored and answered exactly once, and every other message be either absent
 * or complete, never half.
 *
 * The kill schedule comes from a seed, printed first: FAULTS_SEED=<n> replays the same schedule
 * (where the kills land in the traffic still varies). FAULTS_MESSAGES shrinks the load, FAULTS_CLI
 * runs another build than dist/ (mutation runs), FAULTS_KEEP=1 keeps the logs and data.
 *
 * Two variants (issue 11): kill.test.ts in /dev/shm with 1,000 messages — a process killed with -9
 * loses nothing the kernel already has, so what it tests (write-rename order, fixed names, job ids)
 * is the same without the fsync cost — and kill-disk.test.ts on a real disk (the OS temp dir), so
 * the fsyncs the model depends on are exercised, with fewer messages (18 fsyncs per message make
 * each one slow on a loaded 2-core machine).
 */
const SEED = Number(process.env.FAULTS_SEED ?? Math.floor(Math.random() * 2 ** 31));
const SESSIONS = 8;
const PREFIX = 'faults-kill';
const ROLES = ['smtp', 'worker'] as const;
/** ~10 KiB on the wire, as the bench's load A */
const WIRE_BYTES = 10 * 1024;

export interface KillSuiteOptions {
  /** where the data dir and Redis live: a real disk exercises the fsyncs, tmpfs is faster */
  scratch: string;
  messages: number;
}

export function killSuite({ scratch, messages: MESSAGES }: KillSuiteOptions): void {
  describe(`kill -9 in ${scratch}`, () => {
    let dir: string;
    let redis: PrivateRedis;
    let cd: RestartableCasedrop;
    let messages: Message[] = [];
    let ledger: Attempt[] = [];
    let report: Verdict | undefined;

    beforeAll(async () => {
      console.log(`kill -9 schedule seed: ${SEED} (replay with FAULTS_SEED=${SEED})`);
      dir = mkdtempSync(join(scratch, 'casedrop-kill-'));
      redis = await startRedis(join(dir, 'redis'));
      cd = await restartableCasedrop(dir, {
        redisUrl: redis.url,
        prefix: PREFIX,
        ...(process.env.FAULTS_CLI ? { cli: process.env.FAULTS_CLI } : {}),
        overrides: {
          CASEDROP_INTAKE_ADDRESSES: INTAKE,
          CASEDROP_SMTP_EARLY_TALKER_DELAY_MS: '0',
          CASEDROP_DEDUP_WINDOW_SECONDS: '0',
          ...UNCAPPED_REPLIES,
          CASEDROP_SMTP_MAX_CONNECTIONS_PER_IP: '64',
          // a killed worker's jobs come back within ~3 s instead of the production 30 s
          CASEDROP_WORKER_LOCK_MS: '2000',
          CASEDROP_WORKER_STALLED_CHECK_MS: '1000',
          CASEDROP_JOB_BACKOFF_MS: '200',
          // workers sweep spool objects a killed door left unqueued; 15 s is past the door's 10 s
          // queue-add limit, so a live door's message is never taken for an orphan
          CASEDROP_RECOVERY_AGE_SECONDS: '15',
        },
      });
      for (const role of ROLES) await cd.start(role);
      await runCli(cd.env, ['case', 'open', CASE, '--owner', 'eng@example.com']);
    }, 60_000);

    afterAll(async () => {
      await cd?.stop();
      await redis?.stop();
      if (dir && process.env.FAULTS_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
      else if (dir) console.log(`kept ${dir}`);
    });

    type Kills = Record<(typeof ROLES)[number], number>;

    /**
     * Until sending ends: kill -9 the door, the worker or both, start them again, wait a random while.
     * The first kill comes when a tenth of the messages were tried, not after a while: a fast
     * machine sent all 300 of kill-disk's messages (2.4 s) before a first kill due after 0.6–3 s.
     */
    async function killLoop(rng: () => number, sending: () => boolean, kills: Kills, firstDue: Promise<void>): Promise<void> {
      await firstDue;
      while (sending()) {
        if (kills.smtp + kills.worker > 0) await sleep(600 + rng() * 2400);
        if (!sending()) return;
        const pick = rng();
        // the first kill takes both, so a short run still kills each role at least once
        const first = kills.smtp + kills.worker === 0;
        const targets: (keyof Kills)[] = first || pick >= 0.8 ? ['smtp', 'worker'] : pick < 0.4 ? ['smtp'] : ['worker'];
        await Promise.all(targets.map((r) => cd.kill(r)));
        for (const r of targets) kills[r]++;
        await sleep(rng() * 300);
        await Promise.all(targets.map((r) => cd.start(r)));
      }
    }

    function settledAll(dataDir: string): boolean {
      const names = (ns: string) => (existsSync(`${dataDir}/objects/${ns}`) ? readdirSync(`${dataDir}/objects/${ns}`) : []);
      const markers = new Set(names('replies'));
      return names('outcomes').every((o) => markers.has(o));
    }

    it(`sends ${MESSAGES} messages while door and worker are killed with -9 and restarted; the queues drain with no dead letter`, async () => {
      const started = Date.now();
      messages = await Promise.all(Array.from({ length: MESSAGES }, (_, n) => composeMessage(`kill-${SEED}`, n, { wireBytes: WIRE_BYTES })));
      const kills: Kills = { smtp: 0, worker: 0 };
      let sending = true;
      let tried = 0;
      let tenthTried!: () => void;
      const firstDue = new Promise<void>((resolve) => (tenthTried = resolve));
      const killer = killLoop(makeRng(SEED), () => sending, kills, firstDue);
      const sessionRng = makeRng(SEED ^ 0x5eed);
      ledger = await send({
        port: cd.smtpPort,
        messages,
        sessions: SESSIONS,
        perSession: () => 1 + Math.floor(sessionRng() * 8),
        onAttempt: () => {
          if (++tried === Math.ceil(MESSAGES / 10)) tenthTried();
        },
      }).finally(() => {
        sending = false;
        tenthTried();
      });
      await killer;
      const sentAt = Date.now();
      // drained, the spool empty (recovery queues what a killed door left unqueued) and every outcome's replies out
      const queues = { redisPort: redis.port, prefix: PREFIX };
      await vi
        .waitFor(
          async () => {
            expect(await drained(queues), 'queues drained').toBe(true);
            expect(countObjects(cd.dataDir, 'spool'), 'spool objects').toBe(0);
            expect(settledAll(cd.dataDir), 'every outcome settled').toBe(true);
          },
          { timeout: 180_000, interval: 250 },
        )
        .catch(async (err: Error) => {
          // say why: dead letters (a job stalled past maxStalledCount) never drain
          const counts = await Promise.all(QUEUES.map(async (q) => `${q} ${JSON.stringify(await queueCounts(redis.port, PREFIX, q))}`));
          throw new Error(`${err.message}; spool ${countObjects(cd.dataDir, 'spool')}; ${counts.join(', ')}`);
        });
      const failed = await deadLetters(queues);
      report = await judge({ env: cd.env, ledger });

      const replies = tally(ledger);
      const count = (...kinds: Parameters<Verdict['of']>) => report!.of(...kinds).length;
      console.log(
        JSON.stringify({
          seed: SEED,
          messages: MESSAGES,
          wireBytes: messages[0]!.wire.length,
          replies,
          kills,
          store: {
            complete: report.complete,
            absent: report.absent,
            receipts: report.receipts,
            lost: count('lost'),
            duplicates: count('duplicate'),
            half: count('half'),
            orphanSpool: count('orphan-spool'),
          },
          sendSeconds: (sentAt - started) / 1000,
          drainSeconds: (Date.now() - sentAt) / 1000,
        }),
      );
      expect(failed, 'dead letters in intake, notify, outbound').toEqual([0, 0, 0]);
      expect(kills.smtp, 'door kills').toBeGreaterThan(0);
      expect(kills.worker, 'worker kills').toBeGreaterThan(0);
      expect([...fates(ledger).values()].filter((f) => f.fate === 'queued').length).toBeGreaterThan(MESSAGES / 2);
    }, 300_000);

    it('every message that got a 250 is stored exactly once, under its queue id, and answered by exactly one receipt', () => {
      expect(report, 'the run above did not finish').toBeDefined();
      expect(report!.of('lost', 'duplicate', 'misfiled')).toEqual([]);
      const queued = [...fates(ledger).values()].filter((f) => f.fate === 'queued').length;
      // the complete ones beyond the 250s are messages whose reply a kill cut off
      expect(report!.complete).toBeGreaterThanOrEqual(queued);
      expect(report!.receipts).toBe(report!.complete);
    });

    it('every message without a 250 is absent or complete: no file, note, outcome or reply without the rest', () => {
      expect(report, 'the run above did not finish').toBeDefined();
      expect(report!.of('half', 'stray')).toEqual([]);
      const unanswered = [...fates(ledger).values()].filter((f) => f.fate !== 'queued');
      // orphan-spool: checked on its own below
      const wrong = unanswered.filter((f) => !['absent', 'complete', 'orphan-spool'].includes(report!.status.get(f.messageId) ?? '?'));
      expect(wrong.map((f) => `#${f.n}: ${report!.status.get(f.messageId)}`)).toEqual([]);
    });

    // A door killed between writing the spool object and adding its job leaves an orphan (its client got
    // no 250). Recovery queues it (src/pipeline/recovery.ts): it ends complete, never left behind;
    // without recovery every run with door kills left some (seed 304715623: 6 for 5 door kills).
    it('no spool object is left without a job when the door dies between spool write and enqueue', () => {
      expect(report!.of('orphan-spool')).toEqual([]);
    });
  });
}

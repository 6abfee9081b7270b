import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { restartRedis } from '../../bench/lib/redis-restart.mjs';
import { acceptedByMessage, send, tally, type Attempt } from './support/client.js';
import { judge } from './support/judge.js';
import { composeMessage, FIXTURE_ZIP, type Message } from './support/mail.js';
import { drained, queueProblems } from './support/queues.js';
import { startSystem, logTail, type FaultSystem } from './support/system.js';

/**
 * Fault test 2 of issue 7: Redis stopped (SIGTERM, so its AOF is complete) and restarted on the
 * same port and directory in the middle of a load. While it is down the door must answer only 4xx
 * (never a 5xx, which would bounce the customer's mail, and never a 250, which would promise a job
 * that cannot be queued); the client retries like an MTA, and afterwards every message is stored
 * exactly once. Neither casedrop process is restarted: the door and the worker must find Redis again
 * on their own. Run with `npm run test:faults`.
 */
const MESSAGES = Number(process.env.FAULTS_OUTAGE_MESSAGES ?? 200);
const SESSIONS = 6;
/** transactions started and answered while Redis was down: enough to see the door's behaviour */
const MIN_DOWN_ATTEMPTS = 30;
/** long enough for the clients' reconnect back-off to grow (ioredis waits up to 2 s between tries) */
const MIN_DOWN_MS = 4_000;

let dir: string;
let sys: FaultSystem;
let messages: Message[];
const ledger: Attempt[] = [];
const times = { down: 0, restarting: 0, up: 0 };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'casedrop-outage-'));
  sys = await startSystem(dir, 'outage', {
    // a job whose worker lost Redis mid-job is taken back quickly
    CASEDROP_WORKER_LOCK_MS: '5000',
    CASEDROP_WORKER_STALLED_CHECK_MS: '2000',
  });
  messages = await Promise.all(Array.from({ length: MESSAGES }, (_, n) => composeMessage('outage', n)));
}, 60_000);

afterAll(async () => {
  await sys?.stop();
  // FAULTS_KEEP=1 keeps the logs, the data dir and the AOF for a look afterwards
  if (dir && !process.env.FAULTS_KEEP) rmSync(dir, { recursive: true, force: true });
  else if (dir) console.log(`redis-outage: kept ${dir}`);
});

/** Stops Redis once a quarter of the messages are in, keeps it down a while and until the door has answered enough, restarts it. */
async function outage(): Promise<void> {
  const accepted = () => ledger.filter((a) => a.code === 250).length;
  await vi.waitFor(() => expect(accepted(), 'messages accepted').toBeGreaterThanOrEqual(MESSAGES / 4), { timeout: 120_000, interval: 20 });
  await sys.redis.stop();
  times.down = performance.now();
  await vi.waitFor(
    () => {
      expect(performance.now() - times.down).toBeGreaterThanOrEqual(MIN_DOWN_MS);
      expect(ledger.filter((a) => a.startedAt > times.down).length, 'attempts while Redis is down').toBeGreaterThanOrEqual(MIN_DOWN_ATTEMPTS);
    },
    { timeout: 60_000, interval: 20 },
  );
  times.restarting = performance.now();
  sys.redis = await restartRedis(sys.redisDir, sys.redis.port);
  times.up = performance.now();
}

function notJson(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => {
      if (line === '') return false;
      try {
        return typeof JSON.parse(line) !== 'object';
      } catch {
        return true;
      }
    });
}

describe('Redis stopped and restarted mid-load', () => {
  it('answers only 4xx while Redis is down, recovers on its own, and stores every message exactly once', async () => {
    const started = performance.now();
    const load = send({
      port: sys.casedrop.smtpPort,
      messages,
      sessions: SESSIONS,
      retry: { delayMs: 100, deadlineMs: 180_000 },
      onAttempt: (a) => ledger.push(a),
    });
    await Promise.all([load, outage()]);
    const loadMs = performance.now() - started;

    // while down: attempts begun after Redis exited and answered before it was started again
    const whileDown = ledger.filter((a) => a.startedAt > times.down && a.repliedAt < times.restarting);
    expect(whileDown.length, 'attempts while Redis was down').toBeGreaterThanOrEqual(MIN_DOWN_ATTEMPTS);
    expect(
      whileDown.filter((a) => a.code < 400 || a.code >= 500),
      `replies while Redis was down: ${tally(whileDown)}`,
    ).toEqual([]);
    expect(
      ledger.filter((a) => a.code >= 500 || a.code === 0),
      `every reply: ${tally(ledger)}`,
    ).toEqual([]);

    // every message got exactly one 250, some of them only after the restart
    const { accepted, twice } = acceptedByMessage(ledger);
    expect(twice).toEqual([]);
    expect(accepted.size, tally(ledger)).toBe(MESSAGES);
    const firstAfter = ledger.find((a) => a.code === 250 && a.startedAt > times.up);
    expect(firstAfter, 'a 250 after the restart').toBeDefined();

    const queues = { redisPort: sys.redis.port, prefix: sys.prefix };
    const drainStarted = performance.now();
    await vi
      .waitFor(async () => expect(await drained(queues), 'the queues drained').toBe(true), { timeout: 180_000, interval: 250 })
      .catch((err: Error) => {
        throw new Error(`${err.message}\n${sys.casedrop.processes.map((p) => `--- ${p.role}\n${logTail(p.logFile)}`).join('\n')}`);
      });
    const drainMs = performance.now() - drainStarted;
    const verdict = await judge({ env: sys.casedrop.env, ledger, attachmentSha256: createHash('sha256').update(FIXTURE_ZIP.content).digest('hex') });
    expect(verdict.of()).toEqual([]);
    expect(verdict.complete).toBe(MESSAGES);
    expect(await queueProblems(queues, accepted.size)).toEqual([]);
    // the same processes throughout: nothing was restarted but Redis
    for (const p of sys.casedrop.processes) expect(p.child.exitCode, `${p.role} exited`).toBeNull();
    // and their logs stayed structured through the outage: one JSON object per line, no bare stack traces
    for (const p of sys.casedrop.processes) expect(notJson(p.logFile).slice(0, 3), `${p.role} log`).toEqual([]);

    const down = whileDown.length;
    console.log(
      `redis-outage: ${MESSAGES} messages, ${ledger.length} attempts (${tally(ledger)}); Redis down ${((times.up - times.down) / 1000).toFixed(1)} s, ` +
        `${down} attempts answered meanwhile; first 250 ${((firstAfter!.repliedAt - times.up) / 1000).toFixed(2)} s after the restart; ` +
        `load ${(loadMs / 1000).toFixed(1)} s, drain ${(drainMs / 1000).toFixed(1)} s more`,
    );
  }, 300_000);
});

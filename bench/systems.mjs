// The two systems under test behind one small interface, so run.mjs treats them alike:
// start(runDir) → { name, port, countDone(), cpuSeconds(), memory(), diagnose(), stop() }.
import { join } from 'node:path';
import { countOutbox, envFromSpec, queueCounts, runCli, startCasedrop } from './lib/casedrop.mjs';
import { startPostfix } from './lib/postfix.mjs';
import { procStats, samplePss, treeCpuSeconds, treePids } from './lib/procs.mjs';
import { startRedis } from './lib/redis.mjs';

export const CASE_NUMBER = '612345678';
export const INTAKE_ADDRESS = 'attach@bench.test';
const MiB = 1024;

/**
 * casedrop's settings for the benchmark, each a deliberate departure from the default:
 * - no pre-greeting pause (Postfix's smtpd has none unless postscreen is set up);
 * - dedup off, because smtp-source sends the same message thousands of times;
 * - reply rate unlimited, because the receipts are how we see that a message is done;
 * - more connections per IP, because the load and the probe all come from 127.0.0.1.
 */
export function casedropBenchSettings(env = process.env) {
  return {
    CASEDROP_INTAKE_ADDRESSES: INTAKE_ADDRESS,
    CASEDROP_SMTP_EARLY_TALKER_DELAY_MS: env.BENCH_EARLY_TALKER_DELAY_MS ?? '0',
    CASEDROP_DEDUP_WINDOW_SECONDS: '0',
    CASEDROP_REPLY_RATE_PER_HOUR: '100000000',
    // every message from one client IP and domain answered on its own: the ledger counts one mail each
    CASEDROP_REPLY_RATE_PER_DOMAIN_PER_HOUR: '100000000',
    CASEDROP_REPLY_RATE_PER_IP_PER_HOUR: '100000000',
    CASEDROP_REPLY_RATE_TOTAL_PER_HOUR: '100000000',
    CASEDROP_ENGINEER_NOTICES_PER_CASE_PER_HOUR: '100000000',
    CASEDROP_SMTP_MAX_CONNECTIONS_PER_IP: '64',
    ...(env.BENCH_WORKER_CONCURRENCY ? { CASEDROP_WORKER_CONCURRENCY: env.BENCH_WORKER_CONCURRENCY } : {}),
    ...envFromSpec(env.BENCH_CASEDROP_ENV),
  };
}

/**
 * BENCH_CPU_PROF=<dir>: the roles named in BENCH_CPU_PROF_ROLES (default the worker, and `all`)
 * write a V8 CPU profile there when they stop.
 */
function profileFlags(env = process.env) {
  if (!env.BENCH_CPU_PROF) return {};
  const flags = ['--cpu-prof', `--cpu-prof-dir=${env.BENCH_CPU_PROF}`];
  const roles = (env.BENCH_CPU_PROF_ROLES ?? 'worker,all').split(',');
  return Object.fromEntries(roles.map((role) => [role, flags]));
}

export async function startCasedropSystem(runDir, { roles, receiptPattern }) {
  const redis = await startRedis(join(runDir, 'redis'));
  const prefix = 'bench';
  let cd;
  try {
    cd = await startCasedrop(runDir, { redisUrl: redis.url, prefix, roles, overrides: casedropBenchSettings(), roleNodeFlags: profileFlags() });
    await runCli(cd.env, ['case', 'open', CASE_NUMBER, '--owner', 'eng@example.com']);
  } catch (err) {
    await cd?.stop();
    await redis.stop();
    throw err;
  }
  const pss = samplePss(() => [redis.pid, ...cd.processes.map((p) => p.pid)]);
  const cpuOf = (pid) => {
    const s = procStats(pid);
    return s ? s.cpuSeconds + s.childCpuSeconds : 0;
  };
  return {
    name: 'casedrop',
    port: cd.smtpPort,
    countDone: () => countOutbox(cd.dataDir, receiptPattern),
    cpuSeconds: () => ({
      total: cd.processes.reduce((sum, p) => sum + cpuOf(p.pid), 0),
      redis: cpuOf(redis.pid),
      ...Object.fromEntries(cd.processes.map((p) => [p.role, cpuOf(p.pid)])),
    }),
    memory: () => ({
      peakPssSumMiB: pss.stop() / MiB,
      peakRssMiB: Object.fromEntries([
        ...cd.processes.map((p) => [p.role, (procStats(p.pid)?.peakRssKiB ?? 0) / MiB]),
        ['redis', (procStats(redis.pid)?.peakRssKiB ?? 0) / MiB],
      ]),
    }),
    diagnose: async () => ({
      intake: await queueCounts(redis.port, prefix, 'intake'),
      notify: await queueCounts(redis.port, prefix, 'notify'),
      outbound: await queueCounts(redis.port, prefix, 'outbound'),
      outboxFiles: countOutbox(cd.dataDir),
      exited: cd.processes.filter((p) => p.child.exitCode !== null).map((p) => `${p.role}:${p.child.exitCode}`),
      logs: cd.processes.map((p) => p.logFile),
    }),
    stop: async () => {
      pss.stop();
      await cd.stop();
      await redis.stop();
    },
  };
}

export async function startPostfixSystem(runDir) {
  const pf = await startPostfix(join(runDir, 'postfix'), { domain: INTAKE_ADDRESS.split('@')[1] });
  const pss = samplePss(treePids(pf.masterPid));
  return {
    name: 'postfix',
    port: pf.port,
    countDone: () => pf.countDelivered(),
    // the master reaps every daemon, so their CPU ends up in its cutime/cstime
    cpuSeconds: () => ({ total: treeCpuSeconds(pf.masterPid) }),
    memory: () => ({ peakPssSumMiB: pss.stop() / MiB }),
    diagnose: async () => ({ delivered: pf.countDelivered(), log: pf.logFile }),
    stop: async () => {
      pss.stop();
      await pf.stop();
    },
  };
}

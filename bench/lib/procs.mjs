// Process helpers shared by the benchmark (bench/run.mjs) and the fault tests (test/faults/):
// free ports, spawning with logs to a file, waiting for a port, measuring memory and CPU from /proc,
// and stopping what we started (by pid, never by name).
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';

/** A TCP port free on 127.0.0.1 right now (the kernel picks it; a tiny race remains, as always). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Spawns a long-running child with stdout/stderr appended to `logFile`. Returns the ChildProcess
 * with an `exited` promise that resolves to { code, signal } (never rejects).
 */
export function spawnLogged(command, args, { env, cwd, logFile } = {}) {
  // the log file is the child's own stdout/stderr, so writing logs costs the child, not us
  const fd = logFile ? openSync(logFile, 'a') : 'ignore';
  const child = spawn(command, args, { env: env ?? process.env, cwd, stdio: ['ignore', fd, fd] });
  if (typeof fd === 'number') closeSync(fd);
  child.exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (err) => resolve({ code: null, signal: null, error: err }));
  });
  return child;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resolves once something accepts TCP connections on host:port; rejects after `timeoutMs`. */
export async function waitForPort(port, { host = '127.0.0.1', timeoutMs = 30_000, child } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && child.exitCode !== null) throw new Error(`process ${child.pid} exited (${child.exitCode}) before listening on ${port}`);
    if (await canConnect(host, port)) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on ${host}:${port} after ${timeoutMs} ms`);
    await sleep(100);
  }
}

function canConnect(host, port) {
  return new Promise((resolve) => {
    const s = createConnection({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Polls `predicate` (sync or async) every `intervalMs` until true; returns elapsed ms or throws on timeout. */
export async function waitUntil(predicate, { timeoutMs = 60_000, intervalMs = 100, what = 'condition' } = {}) {
  const start = Date.now();
  for (;;) {
    if (await predicate()) return Date.now() - start;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** SIGTERM, then SIGKILL after `graceMs`. Resolves when the child has exited. */
export async function stopChild(child, graceMs = 10_000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await child.exited;
  clearTimeout(timer);
}

const CLK_TCK = 100; // Linux USER_HZ; /proc/<pid>/stat counts in these ticks

/**
 * Memory and CPU of one process from /proc, or null when it is gone.
 * cpuSeconds = utime + stime; childCpuSeconds = cutime + cstime (children it has waited for).
 */
export function procStats(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the parenthesised command name, which may itself contain spaces
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = (i) => Number(f[i - 3]);
    return {
      pid,
      ppid: ticks(4),
      rssKiB: kib(status, 'VmRSS'),
      peakRssKiB: kib(status, 'VmHWM'),
      cpuSeconds: (ticks(14) + ticks(15)) / CLK_TCK,
      childCpuSeconds: (ticks(16) + ticks(17)) / CLK_TCK,
    };
  } catch {
    return null;
  }
}

/**
 * CPU seconds (user + system) so far of each thread of a process, summed by kind: `main` for its
 * main thread (the event loop), `kindOf(comm)` for the others (default: the thread's name without
 * its trailing number, e.g. libuv's pool, V8's helpers, worker threads). Threads that ended are
 * missing here; procStats' cpuSeconds still counts them.
 */
export function threadCpuSeconds(pid, kindOf = (comm) => comm.replace(/[0-9]+$/, '')) {
  const byKind = {};
  for (const tid of taskIds(pid)) {
    try {
      const kind = Number(tid) === pid ? 'main' : kindOf(readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim());
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      byKind[kind] = (byKind[kind] ?? 0) + (Number(f[11]) + Number(f[12])) / CLK_TCK;
    } catch {
      // the thread ended meanwhile
    }
  }
  return byKind;
}

function taskIds(pid) {
  try {
    return readdirSync(`/proc/${pid}/task`);
  } catch {
    return []; // the process is gone
  }
}

function kib(status, field) {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) : 0;
}

function parentPid(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

/** Every live process whose ancestry includes `rootPid` (not rootPid itself). */
export function descendants(rootPid) {
  const parent = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const ppid = parentPid(Number(name));
    if (ppid !== null) parent.set(Number(name), ppid);
  }
  const out = [];
  for (const pid of parent.keys()) {
    let p = parent.get(pid);
    for (let hops = 0; p && hops < 64; hops++) {
      if (p === rootPid) {
        out.push(pid);
        break;
      }
      p = parent.get(p);
    }
  }
  return out;
}

/**
 * Total CPU seconds of a process tree so far: the root, its live descendants, and the children
 * already reaped by anyone in the tree (their time is in cutime/cstime).
 */
export function treeCpuSeconds(rootPid) {
  let total = 0;
  for (const pid of [rootPid, ...descendants(rootPid)]) {
    const s = procStats(pid);
    if (s) total += s.cpuSeconds + s.childCpuSeconds;
  }
  return total;
}

/** Proportional set size: shared pages (libraries, the binary) split among the processes sharing them, so a sum over processes is honest. */
export function pssKiB(pid) {
  try {
    return kib(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'), 'Pss');
  } catch {
    return 0;
  }
}

/**
 * Samples every `intervalMs` the summed PSS of the processes `pids()` returns (for Postfix: a master
 * and daemons that come and go, so no single VmHWM tells the peak; RSS would count the shared binary
 * once per daemon). `stop()` returns the peak KiB.
 */
export function samplePss(pids, intervalMs = 250) {
  let peakKiB = 0;
  const tick = () => {
    let sum = 0;
    for (const pid of pids()) sum += pssKiB(pid);
    peakKiB = Math.max(peakKiB, sum);
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      tick();
      return peakKiB;
    },
  };
}

/** The pids of a process tree: root and live descendants. */
export const treePids = (rootPid) => () => [rootPid, ...descendants(rootPid)];

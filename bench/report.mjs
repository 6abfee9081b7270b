// Turns the list of runs into per-load medians, casedrop/Postfix ratios, target checks and a table.
import { fmt, median, ratio, table } from './lib/stats.mjs';

const pick = (runs, f) => median(runs.filter((r) => !r.error).map(f));

function summarise(runs) {
  const ok = runs.filter((r) => !r.error);
  return {
    runs: runs.length,
    failed: runs.length - ok.length,
    acceptedMsgsPerSec: pick(runs, (r) => r.accepted.msgsPerSec),
    acceptedMiBPerSec: pick(runs, (r) => r.accepted.mibPerSec),
    drainSeconds: pick(runs, (r) => r.drain.seconds),
    drainMsgsPerSec: pick(runs, (r) => r.drain.msgsPerSec),
    latencyP50Ms: pick(runs, (r) => r.latency.p50Ms),
    latencyP99Ms: pick(runs, (r) => r.latency.p99Ms),
    cpuSeconds: pick(runs, (r) => r.cpuSeconds.total),
    redisCpuSeconds: pick(runs, (r) => r.cpuSeconds.redis),
    peakPssSumMiB: pick(runs, (r) => r.memory.peakPssSumMiB),
    // the worst run counts for a ceiling
    peakRssMiB: maxPerKey(ok.map((r) => r.memory.peakRssMiB ?? {})),
  };
}

function maxPerKey(objs) {
  const out = {};
  for (const o of objs) for (const [k, v] of Object.entries(o)) out[k] = Math.max(out[k] ?? 0, v);
  return out;
}

export function buildSummary(runs, loads) {
  const summary = {};
  for (const load of loads) {
    const cd = summarise(runs.filter((r) => r.load === load && r.system === 'casedrop'));
    const pf = summarise(runs.filter((r) => r.load === load && r.system === 'postfix'));
    const ratios = {
      // > 1 means casedrop is faster
      acceptedSpeed: ratio(cd.acceptedMsgsPerSec, pf.acceptedMsgsPerSec),
      drainSpeed: ratio(pf.drainSeconds, cd.drainSeconds),
      // < 1 means casedrop uses less
      cpu: ratio(cd.cpuSeconds, pf.cpuSeconds),
      memory: ratio(cd.peakPssSumMiB, pf.peakPssSumMiB),
      latencyP99: ratio(cd.latencyP99Ms, pf.latencyP99Ms),
    };
    const targets = { drainAtLeastPostfix: ratios.drainSpeed === null ? null : ratios.drainSpeed >= 1.0 };
    if (load === 'B') {
      const procs = Object.entries(cd.peakRssMiB).filter(([k]) => k !== 'redis');
      targets.peakRssUnder150MiB = procs.length ? procs.every(([, v]) => v < 150) : null;
    }
    summary[load] = { casedrop: cd, postfix: pf, ratios, targets };
  }
  return summary;
}

export function renderTable(summary) {
  const header = ['load', 'system', 'runs', 'acc msg/s', 'acc MiB/s', 'drain s', 'drain msg/s', 'p50 ms', 'p99 ms', 'CPU s', 'PSS MiB', 'peak RSS MiB/process'];
  const rows = [];
  for (const [load, s] of Object.entries(summary)) {
    for (const name of ['casedrop', 'postfix']) {
      const x = s[name];
      if (!x.runs) continue;
      const rss =
        Object.entries(x.peakRssMiB)
          .map(([k, v]) => `${k} ${fmt(v, 0)}`)
          .join(', ') || '—';
      const cpu = name === 'casedrop' && x.redisCpuSeconds !== null ? `${fmt(x.cpuSeconds)}+${fmt(x.redisCpuSeconds)}r` : fmt(x.cpuSeconds);
      rows.push([
        load,
        name,
        x.failed ? `${x.runs} (${x.failed} failed)` : x.runs,
        fmt(x.acceptedMsgsPerSec),
        fmt(x.acceptedMiBPerSec),
        fmt(x.drainSeconds),
        fmt(x.drainMsgsPerSec),
        fmt(x.latencyP50Ms),
        fmt(x.latencyP99Ms),
        cpu,
        fmt(x.peakPssSumMiB, 0),
        rss,
      ]);
    }
    const r = s.ratios;
    rows.push([
      load,
      'cd/pf',
      '',
      fmt(r.acceptedSpeed, 2) + '×',
      '',
      fmt(r.drainSpeed, 2) + '× speed',
      '',
      '',
      fmt(r.latencyP99, 2) + '×',
      fmt(r.cpu, 2) + '×',
      fmt(r.memory, 2) + '×',
      Object.entries(s.targets)
        .map(([k, v]) => `${k}: ${v === null ? 'n/a' : v ? 'MET' : 'MISSED'}`)
        .join(', '),
    ]);
  }
  return table(header, rows);
}

import { describe, expect, it } from 'vitest';
import { percentile, median, ratio } from '../../bench/lib/stats.mjs';
import { buildSummary } from '../../bench/report.mjs';

describe('bench figures', () => {
  it('takes nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted on purpose
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNull();
  });

  it('ignores missing values in medians and guards ratios', () => {
    expect(median([3, null, 1, 2])).toBe(2);
    expect(median([1, 2, 3, 4])).toBe(2.5);
    expect(ratio(1, 0)).toBeNull();
    expect(ratio(null, 2)).toBeNull();
  });

  it('reports drain speed as Postfix time over casedrop time and checks the targets', () => {
    const run = (system: string, drainSeconds: number, rss?: Record<string, number>) => ({
      system,
      load: 'B',
      accepted: { msgsPerSec: 10, mibPerSec: 200 },
      drain: { seconds: drainSeconds, msgsPerSec: 100 / drainSeconds },
      latency: { p50Ms: 5, p99Ms: 9 },
      cpuSeconds: { total: 4 },
      memory: { peakPssSumMiB: 100, ...(rss ? { peakRssMiB: rss } : {}) },
    });
    const runs = [
      run('casedrop', 10, { smtp: 90, worker: 140, redis: 400 }),
      run('casedrop', 30, { smtp: 95, worker: 160, redis: 10 }),
      run('casedrop', 20, { smtp: 80, worker: 100, redis: 10 }),
      run('postfix', 15),
      run('postfix', 15),
      run('postfix', 15),
      { system: 'postfix', load: 'B', error: 'smtp-source exited 1' },
    ];
    const s = buildSummary(runs, ['B'])['B']!;
    expect(s.casedrop.drainSeconds).toBe(20);
    expect(s.postfix.failed).toBe(1);
    expect(s.ratios.drainSpeed).toBeCloseTo(0.75);
    expect(s.targets.drainAtLeastPostfix).toBe(false);
    // the worst run's worker (160 MiB) misses the ceiling; Redis is not a casedrop process
    expect(s.casedrop.peakRssMiB).toEqual({ smtp: 95, worker: 160, redis: 400 });
    expect(s.targets.peakRssUnder150MiB).toBe(false);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../sftp/harness.js';
import { cutAndResume } from '../sftp/resume-scenario.js';

const GiB = 1 << 30;
const SIZE = Number(process.env.SFTP_RESUME_BYTES ?? GiB);

describe('a 1 GiB SFTP upload killed mid-way and resumed with reput', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it('ends with exactly one file with the right SHA-256, at constant memory', async () => {
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
    try {
      const r = await cutAndResume(h, SIZE, Math.floor(SIZE * 0.4), 1_600_000);
      expect(r.cut.code).not.toBe(0);
      expect(r.resumed.code, r.resumed.stderr).toBe(0);
      expect(r.resumedAt).toBeGreaterThan(SIZE * 0.3);
      expect(r.files.map((f) => [f.sha256, f.size])).toEqual([[r.sha256, SIZE]]);
    } finally {
      clearInterval(sampler);
    }
    // the server runs in this process: a 1 GiB upload must not grow it by more than buffers
    expect(peak - rssBefore).toBeLessThan(150 * (1 << 20));
  });
});
